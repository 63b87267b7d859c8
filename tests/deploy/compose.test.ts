/**
 * deploy/docker-compose.yml, checked by Debian's docker-compose 1.29 (its `config` validates
 * against the Compose schema it ships and resolves variables, without a Docker engine) and
 * then read as an operator would: what starts when, what is healthy, what the agent may do.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { cleanEnv, DEPLOY_DIR, REPO_ROOT, requireTool, run } from './tools.js';

const COMPOSE_FILE = join(DEPLOY_DIR, 'docker-compose.yml');
const scratch = mkdtempSync(join(tmpdir(), 'nta-compose-'));
const EMPTY_ENV_FILE = join(scratch, 'empty.env');
writeFileSync(EMPTY_ENV_FILE, '');
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

interface HealthCheck {
  test: string[];
  disable?: boolean;
}
interface Service {
  image?: string;
  build?: { context: string; dockerfile: string };
  command?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: HealthCheck;
  network_mode?: string;
  cap_add?: string[];
  cap_drop?: string[];
  security_opt?: string[];
  ports?: string[];
  volumes?: string[];
  restart?: string;
}
interface ComposeConfig {
  services: Record<string, Service>;
  volumes: Record<string, unknown>;
}

/** `docker-compose config` for a file, with only the given variables in its environment. */
function composeConfig(file: string, vars: Record<string, string> = {}, quiet = false) {
  const bin = requireTool('docker-compose');
  const args = ['--env-file', EMPTY_ENV_FILE, '-f', file, 'config'];
  if (quiet) args.push('-q');
  return run(bin, args, { cwd: DEPLOY_DIR, env: cleanEnv(vars) });
}

const resolvedCache = new Map<string, ComposeConfig>();

/** The configuration docker-compose resolves (variables substituted, defaults applied). */
function resolved(vars: Record<string, string> = {}): ComposeConfig {
  const key = JSON.stringify(vars);
  const cached = resolvedCache.get(key);
  if (cached) return structuredClone(cached);
  const r = composeConfig(COMPOSE_FILE, vars);
  expect(r.stderr, 'docker-compose config complained').toBe('');
  expect(r.code).toBe(0);
  const config = parse(r.stdout) as ComposeConfig;
  resolvedCache.set(key, config);
  return structuredClone(config);
}

/** A copy of the compose file with one edit, for the negative checks. */
function brokenCopy(name: string, edit: (text: string) => string): string {
  const original = readFileSync(COMPOSE_FILE, 'utf8');
  const changed = edit(original);
  expect(changed, `edit ${name} changed nothing`).not.toBe(original);
  const path = join(scratch, `${name}.yml`);
  writeFileSync(path, changed);
  return path;
}

describe('docker-compose.yml', () => {
  it('compose - docker-compose validates the file against its Compose schema', () => {
    const r = composeConfig(COMPOSE_FILE, {}, true);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  it('compose - the validator is live: broken copies are refused with the reason', () => {
    const misspelt = composeConfig(brokenCopy('misspelt-key', (t) => t.replace('    healthcheck:\n      # busybox', '    helthcheck:\n      # busybox')), {}, true);
    expect(misspelt.code).not.toBe(0);
    expect(misspelt.stderr).toMatch(/helthcheck/);

    const badCondition = composeConfig(brokenCopy('bad-condition', (t) => t.replace('condition: service_healthy', 'condition: service_halthy')), {}, true);
    expect(badCondition.code).not.toBe(0);
    expect(badCondition.stderr).toMatch(/service_halthy|condition/);

    const badType = composeConfig(brokenCopy('bad-type', (t) => t.replace('cap_add: [NET_RAW, NET_ADMIN]', 'cap_add: NET_RAW')), {}, true);
    expect(badType.code).not.toBe(0);
    expect(badType.stderr).toMatch(/cap_add/);
  });

  it('compose - Compose specification format, without the obsolete version key', () => {
    const raw = parse(readFileSync(COMPOSE_FILE, 'utf8')) as Record<string, unknown>;
    expect(raw).not.toHaveProperty('version');
    expect(Object.keys(raw.services as object).sort()).toEqual(['agent', 'collector', 'nats', 'timescaledb']);
  });

  it('compose - every service has a health check, and start order waits for health', () => {
    const { services } = resolved();
    for (const [name, s] of Object.entries(services)) {
      expect(s.healthcheck, `${name} has no health check`).toBeDefined();
      expect(s.healthcheck!.disable ?? false, `${name} disables its health check`).toBe(false);
      expect(s.healthcheck!.test[0]).toMatch(/^CMD/);
      expect(s.restart, `${name} restart policy`).toBe('unless-stopped');
    }
    expect(services.collector!.depends_on).toEqual({ nats: { condition: 'service_healthy' }, timescaledb: { condition: 'service_healthy' } });
    expect(services.agent!.depends_on).toEqual({ nats: { condition: 'service_healthy' } });
    expect(services.nats!.healthcheck!.test.join(' ')).toContain('http://127.0.0.1:8222/healthz');
    expect(services.nats!.command).toEqual(expect.arrayContaining(['-js', '-m', '8222']));
    expect(services.nats!.command!.join(' ')).toContain('-sd /data');
    // pg_isready over TCP: during first-time init the temporary server has no TCP listener.
    expect(services.timescaledb!.healthcheck!.test).toEqual(['CMD', 'pg_isready', '-h', '127.0.0.1', '-U', 'postgres', '-d', 'nta']);
    expect(services.collector!.healthcheck!.test.join(' ')).toContain('/healthz');
  });

  it('compose - node health checks are valid JavaScript', () => {
    const { services } = resolved();
    for (const name of ['collector', 'agent']) {
      const test = services[name]!.healthcheck!.test;
      expect(test.slice(0, 3)).toEqual(['CMD', 'node', '-e']);
      expect(() => new Function(test[3]!), `${name} health check script`).not.toThrow();
    }
  });

  it('compose - the agent captures the host network with only NET_RAW and NET_ADMIN', () => {
    const { agent } = resolved().services;
    expect(agent!.network_mode).toBe('host');
    expect([...agent!.cap_add!].sort()).toEqual(['NET_ADMIN', 'NET_RAW']);
    expect(agent!.cap_drop).toEqual(['ALL']);
    // no-new-privileges would void the file capabilities the image gives node.
    expect((agent!.security_opt ?? []).join(' ')).not.toMatch(/no-new-privileges/);
    expect(agent!.ports ?? []).toEqual([]); // host network: publishing ports means nothing
  });

  it('compose - the agent reaches NATS through the port published on the host', () => {
    for (const port of ['4222', '14222']) {
      const { nats, agent } = resolved({ NTA_NATS_PORT: port }).services;
      const published = nats!.ports!.map((p) => p.split(':'));
      expect(published).toContainEqual(['127.0.0.1', port, '4222/tcp']);
      expect(agent!.environment!.NATS_URL).toBe(`nats://127.0.0.1:${port}`);
    }
  });

  it('compose - interface, filter and agent id come from the environment', () => {
    const { agent } = resolved({ NTA_INTERFACE: 'ens5', NTA_FILTER: 'not port 22', NTA_AGENT_ID: 'edge-7' }).services;
    expect(agent!.environment).toMatchObject({ NTA_INTERFACE: 'ens5', NTA_FILTER: 'not port 22', NTA_AGENT_ID: 'edge-7' });
  });

  it('compose - the database password is one variable for the server and the collector', () => {
    const local = resolved().services;
    expect(local.collector!.environment!.DATABASE_URL).toBe(`postgres://postgres:${local.timescaledb!.environment!.POSTGRES_PASSWORD}@timescaledb:5432/nta`);
    const set = resolved({ POSTGRES_PASSWORD: 'Xk7-operator-chosen' }).services;
    expect(set.timescaledb!.environment!.POSTGRES_PASSWORD).toBe('Xk7-operator-chosen');
    expect(set.collector!.environment!.DATABASE_URL).toBe('postgres://postgres:Xk7-operator-chosen@timescaledb:5432/nta');
    expect(set.collector!.environment!.NATS_URL).toBe('nats://nats:4222');
  });

  it('compose - collector published on loopback by default, on the chosen address when asked', () => {
    expect(resolved().services.collector!.ports).toEqual(['127.0.0.1:8080:8080/tcp']);
    expect(resolved({ NTA_HTTP_BIND: '0.0.0.0', NTA_HTTP_PORT: '80' }).services.collector!.ports).toEqual(['0.0.0.0:80:8080/tcp']);
  });

  it('compose - state lives in named volumes', () => {
    const { services, volumes } = resolved();
    const mounts: Record<string, string> = {
      nats: 'nats-data:/data',
      timescaledb: 'timescaledb-data:/var/lib/postgresql/data',
      agent: 'agent-spool:/var/lib/nta',
    };
    for (const [service, mount] of Object.entries(mounts)) {
      expect(services[service]!.volumes!.map((v) => v.replace(/:rw$/, ''))).toContain(mount);
      expect(volumes).toHaveProperty(mount.split(':')[0]!);
    }
  });

  it('compose - images are pinned (no latest) and our two are built from the Dockerfiles', () => {
    const { services } = resolved();
    for (const [name, s] of Object.entries(services)) {
      expect(s.image, `${name} image`).toMatch(/^[^:]+:[^:]+$/);
      expect(s.image!.split(':')[1], `${name} image tag`).not.toMatch(/^latest/);
    }
    expect(services.timescaledb!.image).toMatch(/^timescale\/timescaledb:2\.\d+\.\d+-pg1[5-9]$/);
    for (const name of ['collector', 'agent']) {
      const build = services[name]!.build!;
      expect(build.context).toBe(REPO_ROOT);
      expect(build.dockerfile).toBe(`deploy/docker/${name}.Dockerfile`);
      expect(existsSync(join(build.context, build.dockerfile))).toBe(true);
    }
  });
});
