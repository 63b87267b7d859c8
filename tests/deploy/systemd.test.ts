/**
 * deploy/systemd: the unit checked by systemd's own tools (`systemd-analyze verify`, and
 * `security --offline` for its hardening score; both run here without systemd as PID 1), its
 * settings read as an INI file, and its command line, expanded the way systemd expands it
 * with the example environment file, accepted by the agent's argument parser.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CAPTURE_HELP } from '../../packages/agent/src/config.js';
import { agentConfig } from './agent-start.js';
import { cleanEnv, DEPLOY_DIR, requireTool, run } from './tools.js';

const UNIT = join(DEPLOY_DIR, 'systemd', 'nta-agent.service');
const ENV_EXAMPLE = join(DEPLOY_DIR, 'systemd', 'agent.env.example');
const scratch = mkdtempSync(join(tmpdir(), 'nta-systemd-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Unit file as section -> key -> values (a key may repeat). */
function parseUnit(text: string): Record<string, Record<string, string[]>> {
  const out: Record<string, Record<string, string[]>> = {};
  let section = '';
  for (const line of text.split('\n').map((l) => l.trim())) {
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      section = header[1]!;
      out[section] ??= {};
      continue;
    }
    const eq = line.indexOf('=');
    const [key, value] = [line.slice(0, eq), line.slice(eq + 1)];
    (out[section]![key] ??= []).push(value);
  }
  return out;
}

/** KEY=value lines of an environment file (systemd's EnvironmentFile syntax, no quotes used here). */
function parseEnvFile(text: string, includeCommented = false): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = (includeCommented ? /^#?([A-Z][A-Z0-9_]*)=(.*)$/ : /^([A-Z][A-Z0-9_]*)=(.*)$/).exec(line.trim());
    if (m) out[m[1]!] = m[2]!;
  }
  return out;
}

/** systemd's ExecStart expansion: ${X} is one argument, $X alone is split at whitespace (zero or more). */
function expandExecStart(command: string, env: Record<string, string>): string[] {
  return command.split(/\s+/).flatMap((word) => {
    const whole = /^\$([A-Za-z_][A-Za-z0-9_]*)$/.exec(word);
    if (whole) return (env[whole[1]!] ?? '').split(/\s+/).filter((w) => w !== '');
    return [word.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => env[name] ?? '')];
  });
}

const unitText = readFileSync(UNIT, 'utf8');
const unit = parseUnit(unitText);
const service = unit.Service!;

/** The agent's environment and command line under the unit, with an env file's settings. */
function startUnder(envFile: Record<string, string>) {
  const env: Record<string, string> = {};
  for (const assignment of service.Environment ?? []) {
    const eq = assignment.indexOf('=');
    env[assignment.slice(0, eq)] = assignment.slice(eq + 1);
  }
  Object.assign(env, envFile); // EnvironmentFile= overrides Environment=
  const [node, ...argv] = expandExecStart(service.ExecStart![0]!, env);
  expect(node).toBe('/usr/bin/node');
  expect(argv.slice(0, 2)).toEqual(['--max-semi-space-size=1', '/opt/nta/packages/agent/dist/cli.js']);
  return agentConfig({ argv: argv.slice(2), env });
}

describe('nta-agent.service', () => {
  it('systemd - systemd-analyze verify accepts the unit without a warning', () => {
    const r = run(requireTool('systemd-analyze'), ['verify', UNIT], { env: cleanEnv() });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  it('systemd - the validator is live: a misspelt key and a bad value are reported', () => {
    const broken = join(scratch, 'nta-agent.service');
    writeFileSync(broken, unitText.replace('ProtectSystem=strict', 'ProtectSystem=stricter').replace('NoNewPrivileges=yes', 'NoNewPrivilege=yes'));
    const r = run(requireTool('systemd-analyze'), ['verify', broken], { env: cleanEnv() });
    expect(r.stderr).toMatch(/NoNewPrivilege/);
    expect(r.stderr).toMatch(/ProtectSystem|stricter/);
  });

  it('systemd - hardening: systemd-analyze security rates the unit 3.0 or better', () => {
    const r = run(requireTool('systemd-analyze'), ['security', '--offline=true', '--threshold=30', UNIT], { env: cleanEnv() });
    const exposure = /Overall exposure level for nta-agent\.service: ([\d.]+)/.exec(r.stdout);
    expect(exposure, r.stdout + r.stderr).not.toBeNull();
    expect(Number(exposure![1])).toBeLessThanOrEqual(3.0);
    expect(r.code).toBe(0);
  });

  it('systemd - unprivileged user with exactly the two capture capabilities', () => {
    expect(service.User).toEqual(['nta']);
    expect(service.AmbientCapabilities).toEqual(['CAP_NET_RAW CAP_NET_ADMIN']);
    expect(service.CapabilityBoundingSet).toEqual(['CAP_NET_RAW CAP_NET_ADMIN']);
    expect(service.NoNewPrivileges).toEqual(['yes']);
    expect(service.ProtectSystem).toEqual(['strict']);
    expect(service.ProtectHome).toEqual(['yes']);
    // The agent reads /proc/net/packet for capture statistics: ProcSubset=pid would hide it.
    expect(service.ProcSubset).toBeUndefined();
    expect(service.RestrictAddressFamilies![0]!.split(' ')).toContain('AF_PACKET');
  });

  it('systemd - settings from /etc/nta/agent.env, spool in the state directory, restarts on failure', () => {
    expect(service.EnvironmentFile).toEqual(['/etc/nta/agent.env']);
    expect(service.StateDirectory).toEqual(['nta-agent']);
    expect(service.Environment).toContain('NTA_SPOOL_DIR=/var/lib/nta-agent/spool');
    expect(service.Restart).toEqual(['on-failure']);
    expect(service.RestartPreventExitStatus).toEqual(['2']); // the agent's usage/config error code
    expect(unit.Unit!.After).toEqual(['network-online.target']);
    expect(unit.Unit!.Wants).toEqual(['network-online.target']);
    expect(unit.Install!.WantedBy).toEqual(['multi-user.target']);
  });

  it('systemd - the command line, expanded with the example settings, is accepted by the agent', () => {
    const example = parseEnvFile(readFileSync(ENV_EXAMPLE, 'utf8'));
    const config = startUnder(example);
    expect(config).toMatchObject({ iface: 'eth0', filter: '' });
    expect(config.nats).toMatchObject({ url: example.NATS_URL, spoolDir: '/var/lib/nta-agent/spool' });

    const tuned = startUnder({ ...example, NTA_INTERFACE: 'ens5', NTA_FILTER: 'not port 4222', NTA_AGENT_ARGS: '--buffer-mb 512  --idle-timeout 30', NTA_AGENT_ID: 'web-1', NATS_TOKEN: 't0k' });
    expect(tuned).toMatchObject({ iface: 'ens5', filter: 'not port 4222', bufferBytes: 512 * 1024 * 1024, agentId: 'web-1' });
    expect(tuned.flowTable.idleTimeoutMs).toBe(30_000);
    expect(tuned.nats!.token).toBe('t0k');
  });

  it('systemd - every setting in the example file is one the agent or the unit reads', () => {
    const agentVars = /Environment: ([^.]+)\./.exec(CAPTURE_HELP.replace(/\n/g, ' '))![1]!.split(/,\s*/).map((v) => v.trim());
    expect(agentVars).toContain('NATS_URL');
    const unitVars = [...service.ExecStart![0]!.matchAll(/\$\{?([A-Z_]+)\}?/g)].map((m) => m[1]!);
    const documented = Object.keys(parseEnvFile(readFileSync(ENV_EXAMPLE, 'utf8'), true));
    expect(documented.length).toBeGreaterThan(8);
    for (const name of documented) expect([...agentVars, ...unitVars], name).toContain(name);
    for (const name of agentVars) expect(documented, `${name} is documented`).toContain(name);
  });
});
