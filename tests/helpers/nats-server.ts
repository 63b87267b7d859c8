/**
 * Starts a real nats-server (JetStream on, loopback unless told otherwise, ephemeral port) for tests, in the
 * manner of nats.js's `nst/` harness: `-p -1` plus `--ports_file_dir`, then the port it
 * chose is kept so `restart()` comes back on the same port with the same store dir.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { exitCleanup } from './exit-cleanup.js';
import { join } from 'node:path';
import { isExecutable, ntaCacheDir, onPath } from './executables.js';
import { setTimeout as sleep } from 'node:timers/promises';

export interface NatsServerHandle {
  /** `nats://<host>:<port>` */
  readonly url: string;
  readonly port: number;
  readonly storeDir: string;
  /** The current process id (changes on restart); undefined while stopped. */
  readonly pid: number | undefined;
  /** SIGTERM and wait for the process to exit (SIGKILL after 10 s). Idempotent. */
  stop(): Promise<void>;
  /** Stop if running, then start again on the same port and store dir (JetStream data survives). */
  restart(): Promise<void>;
  /** Stop, and remove the store dir if this helper created it. */
  cleanup(): Promise<void>;
}

export interface StartNatsServerOptions {
  /** The address to listen on; default 127.0.0.1 (a network namespace needs a bridge address). */
  host?: string;
  /** A fixed port; default: the server picks a free one (`-p -1`). */
  port?: number;
  /** JetStream store dir; default: a fresh temporary directory removed by cleanup(). */
  storeDir?: string;
  /** Extra command-line arguments (e.g. `--user`, `--pass`). */
  args?: string[];
  /** How long to wait until the server accepts connections. Default 15 s. */
  startTimeoutMs?: number;
}

const cleanup = exitCleanup('SIGKILL');
const { running, tempDirs } = cleanup;

/** Same lookup as scripts/lib.sh `nats_server_bin`: $NTA_NATS_SERVER, PATH, then the cache. */
export function natsServerBin(): string {
  const fromEnv = process.env.NTA_NATS_SERVER;
  if (fromEnv) return fromEnv;
  return onPath('nats-server') ?? join(ntaCacheDir(), 'bin', 'nats-server');
}

export async function startNatsServer(opts: StartNatsServerOptions = {}): Promise<NatsServerHandle> {
  const bin = natsServerBin();
  if (!isExecutable(bin)) {
    throw new Error(
      `nats-server binary not found at ${bin}. Set NTA_NATS_SERVER to a nats-server (v2.9+) binary, ` +
        'or run `npm test` / `bash scripts/setup.sh --test`, which builds it into ~/.cache/nta/bin.',
    );
  }
  cleanup.install();
  const ownsStore = opts.storeDir === undefined;
  const storeDir = opts.storeDir ?? mkdtempSync(join(tmpdir(), 'nta-nats-js-'));
  const portsDir = mkdtempSync(join(tmpdir(), 'nta-nats-ports-'));
  tempDirs.add(portsDir);
  if (ownsStore) tempDirs.add(storeDir);
  const startTimeoutMs = opts.startTimeoutMs ?? 15_000;
  const host = opts.host ?? '127.0.0.1';
  let port = opts.port ?? -1;
  let child: ChildProcess | undefined;
  let stderrTail = '';

  async function launch(): Promise<void> {
    const args = ['-a', host, '-p', String(port), '-js', '-sd', storeDir, '--ports_file_dir', portsDir];
    const proc = spawn(bin, [...args, ...(opts.args ?? [])], { stdio: ['ignore', 'ignore', 'pipe'] });
    child = proc;
    running.add(proc);
    stderrTail = '';
    proc.stderr?.setEncoding('utf8');
    proc.stderr?.on('data', (chunk: string) => {
      stderrTail = (stderrTail + chunk).slice(-4000);
    });
    proc.once('exit', () => running.delete(proc));
    const deadline = Date.now() + startTimeoutMs;
    // <executable name>_<pid>.ports
    const portsFile = (): string | undefined => readdirSync(portsDir).find((f) => f.endsWith(`_${proc.pid}.ports`));
    while (Date.now() < deadline) {
      if (proc.exitCode !== null || proc.signalCode !== null) {
        throw new Error(`nats-server exited during start (code ${proc.exitCode}, signal ${proc.signalCode}):\n${stderrTail}`);
      }
      const file = port === -1 ? portsFile() : undefined;
      if (file) {
        try {
          const ports = JSON.parse(readFileSync(join(portsDir, file), 'utf8')) as { nats?: string[] };
          const first = ports.nats?.[0];
          if (first) port = Number(new URL(first).port);
        } catch {
          // written but not complete yet: read again next round
        }
      }
      if (port > 0 && (await acceptsConnections(host, port))) return;
      await sleep(25);
    }
    proc.kill('SIGKILL');
    throw new Error(`nats-server did not accept connections on ${host} within ${startTimeoutMs} ms:\n${stderrTail}`);
  }

  async function stop(): Promise<void> {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill('SIGTERM');
    const killTimer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(killTimer);
  }

  await launch();

  return {
    get url() {
      return `nats://${host}:${port}`;
    },
    get port() {
      return port;
    },
    storeDir,
    get pid() {
      return child?.pid;
    },
    stop,
    async restart() {
      await stop();
      await launch();
    },
    async cleanup() {
      await stop();
      for (const dir of ownsStore ? [portsDir, storeDir] : [portsDir]) {
        rmSync(dir, { recursive: true, force: true });
        tempDirs.delete(dir);
      }
    },
  };
}

/** True when something on host:port accepts a TCP connection and sends the NATS INFO line. */
function acceptsConnections(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tcpConnect({ host, port });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('data', (data) => done(data.toString('latin1').startsWith('INFO')));
    socket.once('error', () => done(false));
  });
}
