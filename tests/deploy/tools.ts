/**
 * The validators the deploy tests run, found through environment variables (set by the lead's
 * scripts) or where scripts/deploy-tools.sh installs them. A missing tool fails the test with
 * the command that installs it: these checks are never skipped.
 */
import { spawnSync } from 'node:child_process';
import { dirname, isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isExecutable, ntaCacheDir, onPath } from '../helpers/executables.js';

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const DEPLOY_DIR = join(REPO_ROOT, 'deploy');

const INSTALL_HINT = 'run `bash scripts/deploy-tools.sh` (as root or with sudo) to install the deployment validators';

interface ToolSpec {
  /** Environment variable that names the binary. */
  env: string;
  /** Where to look when the variable is unset: absolute paths, or names searched on PATH. */
  fallbacks: () => string[];
}

const TOOLS = {
  helm: { env: 'NTA_HELM', fallbacks: () => [join(ntaCacheDir(), 'bin', 'helm')] },
  'docker-compose': { env: 'NTA_DOCKER_COMPOSE', fallbacks: () => ['docker-compose'] },
  'systemd-analyze': { env: 'NTA_SYSTEMD_ANALYZE', fallbacks: () => ['systemd-analyze'] },
  shellcheck: { env: 'NTA_SHELLCHECK', fallbacks: () => ['shellcheck'] },
  // Built by scripts/setup.sh (see scripts/lib.sh nats_server_bin).
  'nats-server': { env: 'NTA_NATS_SERVER', fallbacks: () => ['nats-server', join(ntaCacheDir(), 'bin', 'nats-server')] },
} satisfies Record<string, ToolSpec>;

export type ToolName = keyof typeof TOOLS;

/** Absolute path of a validator; throws (failing the test) with the install command when missing. */
export function requireTool(name: ToolName): string {
  const spec: ToolSpec = TOOLS[name];
  const fromEnv = process.env[spec.env];
  const candidates = fromEnv ? [fromEnv] : spec.fallbacks();
  for (const c of candidates) {
    const path = isAbsolute(c) ? c : onPath(c);
    if (path !== undefined && isExecutable(path)) return path;
  }
  const where = fromEnv ? `${spec.env}=${fromEnv}` : `${candidates.join(', ')} (or set ${spec.env})`;
  throw new Error(`${name} not found: looked for ${where}; ${INSTALL_HINT}`);
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a tool to completion; a non-zero exit is a result, not an exception. */
export function run(bin: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number } = {}): RunResult {
  const r = spawnSync(bin, args, {
    cwd: opts.cwd ?? REPO_ROOT,
    env: opts.env ?? process.env,
    input: opts.input,
    encoding: 'utf8',
    timeout: opts.timeoutMs ?? 60_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.error) throw new Error(`${bin} ${args.join(' ')}: ${r.error.message}`);
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A minimal environment, so the developer's own variables (LOG_LEVEL, POSTGRES_PASSWORD...) do not leak into a check. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', LANG: 'C.UTF-8', ...extra };
}
