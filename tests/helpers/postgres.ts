/**
 * Starts a real, private PostgreSQL server for tests: `postgres` (the machine's PostgreSQL 15)
 * or `timescaledb` (PostgreSQL 17 + TimescaleDB from the Debian 13 tree that scripts/db.sh
 * builds, run under `chroot` as root: see that file for why). Loopback TCP only, trust auth,
 * user `postgres`, fsync off for speed but synchronous_commit on, so a test that kills the
 * server still sees what was committed. The server is this process's child, as in
 * nats-server.ts: stop/start/kill act on it directly, and an exit hook shuts it down.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import pg from 'pg';
import { exitCleanup } from './exit-cleanup.js';
import { isExecutable, ntaCacheDir } from './executables.js';

export type PostgresFlavor = 'postgres' | 'timescaledb';

export interface PostgresHandle {
  /** `postgres://postgres@127.0.0.1:<port>/postgres` */
  readonly url: string;
  readonly flavor: PostgresFlavor;
  readonly port: number;
  /** The data dir as this process sees it (for timescaledb: inside the tree). */
  readonly dataDir: string;
  /** The postmaster's process id; undefined while stopped. */
  readonly pid: number | undefined;
  /** The last lines the server wrote to stderr (its log). */
  logTail(): string;
  /** Fast shutdown (SIGINT: sessions end, checkpoint), data kept. Idempotent. */
  stop(): Promise<void>;
  /** Start again on the same port and data dir. */
  start(): Promise<void>;
  /** Immediate shutdown (SIGQUIT, as `pg_ctl -m immediate`): no checkpoint, crash recovery on next start. */
  kill(): Promise<void>;
  /** Creates a fresh, empty database (default name: random) and returns its URL. */
  createDatabase(name?: string): Promise<string>;
  /** Stop, and remove the data dir if this helper created it. */
  cleanup(): Promise<void>;
}

export interface StartPostgresOptions {
  flavor: PostgresFlavor;
  /** A fixed port; default: a free ephemeral one. */
  port?: number;
  /** Data dir, made with initdb if empty or absent and kept by cleanup(); for timescaledb it must
   * lie inside the tree (the server runs chrooted there). Default: a temporary dir removed by cleanup(). */
  dataDir?: string;
  /** Extra server settings (`-c name=value`). */
  settings?: Record<string, string>;
  /** How long to wait until the server answers `SELECT 1`. Default 60 s. */
  startTimeoutMs?: number;
}

const execFileAsync = promisify(execFile);
const STDERR_TAIL_CHARS = 8000;

const cleanup = exitCleanup('SIGQUIT');
const { running, tempDirs } = cleanup;

/** Same lookup as scripts/db.sh `postgres_bin_dir`: $NTA_PG_BIN, PostgreSQL 15, the newest installed. */
export function postgresBinDir(): string {
  if (process.env.NTA_PG_BIN) return process.env.NTA_PG_BIN;
  const base = '/usr/lib/postgresql';
  if (isExecutable(join(base, '15', 'bin', 'postgres'))) return join(base, '15', 'bin');
  const majors = safeReaddir(base)
    .filter((v) => /^\d+$/.test(v) && isExecutable(join(base, v, 'bin', 'postgres')))
    .sort((a, b) => Number(b) - Number(a));
  return join(base, majors[0] ?? '15', 'bin');
}

/** Same lookup as scripts/db.sh `timescaledb_root`. */
export function timescaledbRoot(): string {
  return process.env.NTA_TIMESCALEDB_ROOT ?? join(ntaCacheDir(), 'trixie');
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** uid/gid of `user` in an /etc/passwd file, or undefined. */
export function lookupUser(passwdFile: string, user: string): UserIds | undefined {
  let text: string;
  try {
    text = readFileSync(passwdFile, 'utf8');
  } catch {
    return undefined;
  }
  for (const line of text.split('\n')) {
    const [name, , uid, gid] = line.split(':');
    if (name === user && uid !== undefined && gid !== undefined) return { uid: Number(uid), gid: Number(gid) };
  }
  return undefined;
}

/**
 * How to run the flavor's programs: the host path of the bin dir, the command prefix, the
 * user to run as, and how a host path maps to the path the server sees.
 */
interface Runtime {
  flavor: PostgresFlavor;
  /** Where new temporary data dirs go (host path). */
  tempParent: string;
  /** Returns [command, args] to run a program of the bin dir with `args`. */
  command(program: 'postgres' | 'initdb', args: string[]): [string, string[]];
  /** The path the server sees for a host path. */
  serverPath(hostPath: string): string;
  /** Who must own the data dir; undefined: ourselves (not root). */
  owner: UserIds | undefined;
  /** spawn() switches to `owner` (host postgres as root); false: ourselves, or chroot switches. */
  spawnAsOwner: boolean;
}

interface UserIds {
  uid: number;
  gid: number;
}

const MISSING_HINT = 'run `bash scripts/setup.sh --test` (as root), which installs it';

function resolveRuntime(flavor: PostgresFlavor): Runtime {
  const isRoot = process.getuid?.() === 0;
  if (flavor === 'postgres') {
    const bin = postgresBinDir();
    if (!isExecutable(join(bin, 'postgres')) || !isExecutable(join(bin, 'initdb'))) {
      throw new Error(`PostgreSQL binaries not found in ${bin}. Set NTA_PG_BIN to a PostgreSQL bin dir, or ${MISSING_HINT}.`);
    }
    // postgres refuses to run as root.
    const owner = isRoot ? lookupUser('/etc/passwd', 'postgres') : undefined;
    if (isRoot && !owner) throw new Error(`running as root but there is no 'postgres' user to run the server as: ${MISSING_HINT}.`);
    return {
      flavor,
      tempParent: tmpdir(),
      command: (program, args) => [join(bin, program), args],
      serverPath: (p) => p,
      owner,
      spawnAsOwner: isRoot,
    };
  }
  const root = timescaledbRoot();
  const major = safeReaddir(join(root, 'usr/lib/postgresql')).find((v) =>
    safeReaddir(join(root, 'usr/lib/postgresql', v, 'lib')).some((f) => /^timescaledb-2.*\.so$/.test(f)),
  );
  if (major === undefined) {
    throw new Error(`TimescaleDB tree not found at ${root}. Set NTA_TIMESCALEDB_ROOT to one, or ${MISSING_HINT} (it builds the tree once, about a minute).`);
  }
  if (!isRoot) throw new Error(`the timescaledb flavor runs PostgreSQL under chroot ${root}, which needs root; run the tests as root.`);
  const owner = lookupUser(join(root, 'etc/passwd'), 'postgres');
  if (!owner) throw new Error(`${root}/etc/passwd has no 'postgres' user: the tree is broken; delete it and ${MISSING_HINT}.`);
  const binInTree = `/usr/lib/postgresql/${major}/bin`;
  return {
    flavor,
    tempParent: join(root, 'var/nta'),
    command: (program, args) => ['chroot', [`--userspec=${owner.uid}:${owner.gid}`, root, `${binInTree}/${program}`, ...args]],
    serverPath: (p) => {
      const rel = relative(root, p);
      if (rel.startsWith('..') || isAbsolute(rel)) throw new Error(`timescaledb data dir ${p} must lie inside ${root} (the server runs chrooted there)`);
      return `/${rel}`;
    },
    owner,
    // chroot switches user itself, after entering the tree.
    spawnAsOwner: false,
  };
}

/** A port nobody listens on right now (the server may still lose a race for it: retried). */
function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

const serverEnv = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C.UTF-8', TZ: 'UTC' };

/** uid/gid options for spawn/execFile. */
function spawnIds(runtime: Runtime): Partial<UserIds> {
  return runtime.spawnAsOwner && runtime.owner ? runtime.owner : {};
}

async function initdb(runtime: Runtime, dataDir: string): Promise<void> {
  // Parents with the default mode, so the server user can reach the data dir.
  mkdirSync(dirname(dataDir), { recursive: true });
  if (!existsSync(dataDir)) mkdirSync(dataDir, { mode: 0o700 });
  if (runtime.owner) chownSync(dataDir, runtime.owner.uid, runtime.owner.gid);
  const args = ['-D', runtime.serverPath(dataDir), '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C.UTF-8', '--no-sync'];
  const [cmd, cmdArgs] = runtime.command('initdb', args);
  try {
    await execFileAsync(cmd, cmdArgs, { env: serverEnv, ...spawnIds(runtime) });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    const detail = e.stderr || e.message;
    const hint = /Permission denied/.test(detail) && runtime.owner
      ? `\n(the server runs as uid ${runtime.owner.uid}: every parent of the data dir must be searchable by it)`
      : '';
    throw new Error(`initdb ${dataDir} failed: ${detail}${hint}`, { cause: err });
  }
}

function serverSettings(flavor: PostgresFlavor, port: number, extra: Record<string, string>): string[] {
  const settings: Record<string, string> = {
    port: String(port),
    listen_addresses: '127.0.0.1',
    // TCP only: a socket path would depend on the data dir's length and the chroot.
    unix_socket_directories: '',
    fsync: 'off',
    synchronous_commit: 'on',
    shared_buffers: '64MB',
    max_connections: '100',
    timezone: 'UTC',
    log_timezone: 'UTC',
    ...(flavor === 'timescaledb' ? { shared_preload_libraries: 'timescaledb', 'timescaledb.telemetry_level': 'off' } : {}),
    ...extra,
  };
  return Object.entries(settings).flatMap(([name, value]) => ['-c', `${name}=${value}`]);
}

/** `SELECT 1` succeeds on the server at this port. */
async function answersQueries(port: number): Promise<boolean> {
  const client = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres', connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

export async function startPostgres(opts: StartPostgresOptions): Promise<PostgresHandle> {
  const runtime = resolveRuntime(opts.flavor);
  cleanup.install();
  const ownsData = opts.dataDir === undefined;
  let baseDir: string | undefined;
  let dataDir: string;
  if (opts.dataDir === undefined) {
    mkdirSync(runtime.tempParent, { recursive: true });
    baseDir = mkdtempSync(join(runtime.tempParent, 'nta-pg-'));
    tempDirs.add(baseDir);
    if (runtime.owner) chownSync(baseDir, runtime.owner.uid, runtime.owner.gid);
    dataDir = join(baseDir, 'data');
  } else {
    dataDir = resolve(opts.dataDir);
    runtime.serverPath(dataDir); // fails early when a timescaledb data dir is outside the tree
  }
  if (!existsSync(join(dataDir, 'PG_VERSION'))) await initdb(runtime, dataDir);

  const startTimeoutMs = opts.startTimeoutMs ?? 60_000;
  const fixedPort = opts.port !== undefined;
  let port = opts.port ?? (await freePort());
  let child: ChildProcess | undefined;
  let stderrTail = '';

  async function launchOnce(): Promise<'ready' | 'port-taken'> {
    const [cmd, args] = runtime.command('postgres', [
      '-D',
      runtime.serverPath(dataDir),
      ...serverSettings(runtime.flavor, port, opts.settings ?? {}),
    ]);
    const proc = spawn(cmd, args, {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: serverEnv,
      ...spawnIds(runtime),
    });
    child = proc;
    running.add(proc);
    stderrTail = '';
    proc.stderr?.setEncoding('utf8');
    proc.stderr?.on('data', (chunk: string) => {
      stderrTail = (stderrTail + chunk).slice(-STDERR_TAIL_CHARS);
    });
    const exited = new Promise<void>((resolveExit) => proc.once('exit', () => resolveExit()));
    proc.once('exit', () => running.delete(proc));
    let spawnError: Error | undefined;
    proc.once('error', (err) => {
      spawnError = err;
    });
    const deadline = Date.now() + startTimeoutMs;
    while (Date.now() < deadline) {
      if (spawnError) {
        running.delete(proc);
        throw new Error(`could not start ${cmd}: ${spawnError.message}`);
      }
      if (proc.exitCode !== null || proc.signalCode !== null) {
        await exited;
        if (/could not bind|could not create any TCP\/IP sockets/.test(stderrTail)) return 'port-taken';
        throw new Error(`postgres (${runtime.flavor}) exited during start (code ${proc.exitCode}):\n${stderrTail}`);
      }
      if (await answersQueries(port)) return 'ready';
      await sleep(50);
    }
    proc.kill('SIGQUIT');
    throw new Error(`postgres (${runtime.flavor}) did not answer within ${startTimeoutMs} ms:\n${stderrTail}`);
  }

  async function launch(): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const outcome = await launchOnce();
      if (outcome === 'ready') return;
      if (fixedPort || attempt >= 5) throw new Error(`postgres could not listen on 127.0.0.1:${port}:\n${stderrTail}`);
      port = await freePort();
    }
  }

  /** Sends `signal` to the postmaster and waits for it to exit (SIGKILL after 30 s). */
  async function shutdown(signal: 'SIGINT' | 'SIGQUIT'): Promise<void> {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((resolveExit) => proc.once('exit', () => resolveExit()));
    proc.kill(signal);
    const killTimer = setTimeout(() => proc.kill('SIGKILL'), 30_000);
    await exited;
    clearTimeout(killTimer);
  }

  await launch();

  const urlFor = (database: string): string => `postgres://postgres@127.0.0.1:${port}/${database}`;
  return {
    get url() {
      return urlFor('postgres');
    },
    flavor: runtime.flavor,
    get port() {
      return port;
    },
    dataDir,
    get pid() {
      return child?.pid;
    },
    logTail: () => stderrTail,
    stop: () => shutdown('SIGINT'),
    async start() {
      if (child) return;
      await launch();
    },
    kill: () => shutdown('SIGQUIT'),
    async createDatabase(name?: string) {
      const database = name ?? `nta_test_${randomBytes(6).toString('hex')}`;
      if (!/^[a-z_][a-z0-9_]{0,62}$/.test(database)) throw new Error(`not a plain database name: ${database}`);
      const client = new pg.Client({ connectionString: urlFor('postgres') });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE "${database}"`);
      } finally {
        await client.end();
      }
      return urlFor(database);
    },
    async cleanup() {
      await shutdown('SIGINT');
      if (ownsData && baseDir) {
        rmSync(baseDir, { recursive: true, force: true });
        tempDirs.delete(baseDir);
      }
    },
  };
}
