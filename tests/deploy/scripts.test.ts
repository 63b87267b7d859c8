/**
 * The shell scripts of deploy/ (and scripts/deploy-tools.sh): shellcheck, then what they do.
 * The image's entry point turns a deployment's variables into the agent's flags; install.sh
 * is run for real, staged under a temporary root, on a copy of this source tree.
 */
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { agentConfig, ENTRYPOINT, startThroughEntrypoint } from './agent-start.js';
import { cleanEnv, DEPLOY_DIR, REPO_ROOT, requireTool, run } from './tools.js';

const SCRIPTS = [ENTRYPOINT, join(DEPLOY_DIR, 'systemd', 'install.sh'), join(REPO_ROOT, 'scripts', 'deploy-tools.sh')];
const scratch = mkdtempSync(join(tmpdir(), 'nta-scripts-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('deployment scripts', () => {
  it('scripts - shellcheck finds nothing in the deployment scripts', () => {
    const r = run(requireTool('shellcheck'), ['-x', ...SCRIPTS.map((s) => relative(REPO_ROOT, s))], { env: cleanEnv() });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  it('scripts - shellcheck is live: a broken copy is reported', () => {
    const r = run(requireTool('shellcheck'), ['-s', 'sh', '-'], { input: 'for f in $(ls *.pcap); do rm $f; done\n', env: cleanEnv() });
    expect(r.code).not.toBe(0);
    expect(r.stdout).toMatch(/SC2045|SC2086/);
  });

  it('agent entrypoint - interface, filter and extra flags become capture flags the agent accepts', () => {
    const start = startThroughEntrypoint({ NATS_URL: 'nats://10.0.0.5:4222', NTA_INTERFACE: 'eth1', NTA_FILTER: 'not (tcp port 4222)' }, ['--buffer-mb', '256']);
    expect(start.argv).toEqual(['capture', '--interface', 'eth1', '--filter', 'not (tcp port 4222)', '--buffer-mb', '256']);
    expect(agentConfig(start)).toMatchObject({ iface: 'eth1', filter: 'not (tcp port 4222)', bufferBytes: 256 * 1024 * 1024, nats: { url: 'nats://10.0.0.5:4222' } });
  });

  it('agent entrypoint - unset or empty variables add no flag and are not passed on empty', () => {
    const start = startThroughEntrypoint({ NATS_URL: 'nats://127.0.0.1:4222', NTA_INTERFACE: '', NTA_FILTER: '', NTA_AGENT_ID: '', NATS_USER: '', NATS_PASSWORD: '' });
    expect(start.argv).toEqual(['capture']);
    for (const name of ['NTA_AGENT_ID', 'NATS_USER', 'NATS_PASSWORD']) expect(start.env, name).not.toHaveProperty(name);
    // The agent would refuse an empty id; unset, it falls back to the hostname.
    expect(agentConfig(start).agentId.length).toBeGreaterThan(0);
  });

  it('agent entrypoint - a Kubernetes node name becomes a valid, stable agent id; an explicit id wins', () => {
    const long = `${'node.'.repeat(20)}example`;
    const fromNode = startThroughEntrypoint({ NTA_NODE_NAME: 'ip-10-0-1-7.eu-west-1.compute.internal' });
    expect(agentConfig(fromNode).agentId).toBe('ip-10-0-1-7-eu-west-1-compute-internal');
    expect(agentConfig(startThroughEntrypoint({ NTA_NODE_NAME: long })).agentId).toBe('node-'.repeat(13).slice(0, 64));
    expect(agentConfig(startThroughEntrypoint({ NTA_NODE_NAME: 'worker-1', NTA_AGENT_ID: 'rack7-tap' })).agentId).toBe('rack7-tap');
  });

  it('install.sh - refuses a malformed interface or NATS URL before touching anything', () => {
    const root = join(scratch, 'refused');
    for (const args of [['--interface', 'eth0;reboot'], ['--nats', 'nats://x|y'], ['--bogus']]) {
      const r = run('bash', [join(DEPLOY_DIR, 'systemd', 'install.sh'), ...args], { env: cleanEnv({ NTA_INSTALL_ROOT: root }) });
      expect(r.code, args.join(' ')).not.toBe(0);
      expect(existsSync(root)).toBe(false);
    }
  });

  it('install.sh - builds and stages the agent, its settings (0600, kept on rerun) and the unit', () => {
    // A copy of the source tree, so the install's pnpm install and build never touch this checkout.
    // Its builds come along (as in a checkout where `npm start` ran): tsc -b then only checks
    // they are current instead of compiling from scratch for a quarter of a minute.
    const src = join(scratch, 'src');
    const skip = /(^|\/)(node_modules|var|\.git|coverage|test-artifacts)(\/|$)/;
    for (const entry of ['package.json', 'pnpm-lock.yaml', 'pnpm-workspace.yaml', 'tsconfig.base.json', 'packages', 'deploy']) {
      cpSync(join(REPO_ROOT, entry), join(src, entry), { recursive: true, filter: (from) => !skip.test(relative(REPO_ROOT, from)) });
    }
    const root = join(scratch, 'root');
    const install = (args: string[]) =>
      run('bash', [join(src, 'deploy', 'systemd', 'install.sh'), ...args], {
        env: cleanEnv({ NTA_INSTALL_ROOT: root, npm_config_prefer_offline: 'true', ...(process.env.npm_config_nodedir ? { npm_config_nodedir: process.env.npm_config_nodedir } : {}) }),
        timeoutMs: 180_000,
      });
    const first = install(['--nats', 'nats://10.20.0.4:4222', '--interface', 'ens5']);
    expect(first.code, first.stderr).toBe(0);

    const agentDir = join(root, 'opt/nta/packages/agent');
    const version = run(process.execPath, [join(agentDir, 'dist/cli.js'), '--version']);
    expect(version.stdout.trim()).toMatch(/^nta-agent \d+\.\d+\.\d+/);
    expect(existsSync(join(agentDir, 'node_modules/cap/build/Release/cap.node'))).toBe(true);
    expect(existsSync(join(agentDir, 'src'))).toBe(false);

    const envFile = join(root, 'etc/nta/agent.env');
    expect(statSync(envFile).mode & 0o777).toBe(0o600);
    expect(readFileSync(envFile, 'utf8')).toMatch(/^NATS_URL=nats:\/\/10\.20\.0\.4:4222$/m);
    expect(readFileSync(envFile, 'utf8')).toMatch(/^NTA_INTERFACE=ens5$/m);
    const unit = readFileSync(join(root, 'etc/systemd/system/nta-agent.service'), 'utf8');
    expect(unit).toContain('ExecStart=' + (run('bash', ['-c', 'command -v node'], { env: cleanEnv() }).stdout.trim()) + ' --max-semi-space-size=1 /opt/nta/packages/agent/dist/cli.js capture');
    expect(existsSync(join(root, 'opt/nta/deploy/README.md'))).toBe(true);

    // A rerun upgrades the code and keeps the operator's settings.
    const second = install(['--nats', 'nats://other:4222']);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toMatch(/keeping .*agent\.env/);
    expect(readFileSync(envFile, 'utf8')).toMatch(/^NATS_URL=nats:\/\/10\.20\.0\.4:4222$/m);
    expect(basename(agentDir)).toBe('agent');
    expect(existsSync(join(root, 'opt/nta/packages/agent.old'))).toBe(false);
  });
});
