// Starts NTA on one machine with embedded defaults: nats-server (JetStream, data in
// ./var/nats) and PostgreSQL (data in ./var/postgres) as managed children, the collector
// (REST API on 127.0.0.1:8080), and a local agent capturing the default interface, or
// replaying a sample capture where live capture is not permitted. NATS_URL and
// DATABASE_URL switch to existing servers. Ctrl-C stops everything.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { createServer } from 'node:net';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const agentCli = join(root, 'packages/agent/dist/cli.js');
const collectorCli = join(root, 'packages/collector/dist/cli.js');
const pgCluster = join(root, 'scripts/pg-cluster.sh');
const pgData = postgresDataDir();

/**
 * As root, the server runs as the `postgres` user, who must be able to reach its data dir.
 * A checkout under /root (mode 700) is out of its reach; then the data goes to
 * /var/lib/nta/<checkout name>-<hash>/postgres instead of ./var/postgres, and we say so.
 */
function postgresDataDir() {
  const inRepo = join(root, 'var/postgres/data');
  if (process.getuid?.() !== 0) return inRepo;
  for (let dir = root; dir !== dirname(dir); dir = dirname(dir)) {
    if ((statSync(dir).mode & 0o001) === 0) {
      const tag = createHash('sha256').update(root).digest('hex').slice(0, 8);
      return join('/var/lib/nta', `${basename(root)}-${tag}`, 'postgres/data');
    }
  }
  return inRepo;
}
let stopPostgres = () => {};
const say = (msg) => process.stderr.write(`\x1b[1;32m[nta]\x1b[0m ${msg}\n`);
const die = (msg) => {
  process.stderr.write(`\x1b[1;31mnta: ${msg}\x1b[0m\n`);
  // What this run started goes down with it: no orphaned servers holding the ports.
  for (const c of typeof children === 'undefined' ? [] : children) c.kill('SIGTERM');
  stopPostgres();
  process.exit(1);
};

let args;
try {
  args = parseArgs({
    options: {
      replay: { type: 'string' },
      speed: { type: 'string', default: '1' },
      interface: { type: 'string' },
      filter: { type: 'string' },
      'no-agent': { type: 'boolean' },
      port: { type: 'string', default: '8080' },
      'nats-port': { type: 'string', default: '4222' },
      'db-port': { type: 'string', default: '55432' },
      help: { type: 'boolean', short: 'h' },
    },
  }).values;
} catch (err) {
  die(`${err.message.split('. To specify')[0]}\nusage: npm start -- [--replay FILE] [--speed N|max] [--interface IF] [--filter BPF] [--no-agent] [--port N]`);
}
if (args.help) {
  process.stdout.write(`Usage: npm start -- [options]
  --replay FILE      replay a pcap/pcapng (times shifted to now) instead of capturing live
  --speed N|max      replay speed (default 1, real time)
  --interface IF     capture on IF (default: the first interface up that is not loopback)
  --filter BPF       capture filter
  --no-agent         start only the servers
  --port N           console port (default 8080)
  --nats-port N      embedded NATS port (default 4222)
  --db-port N        embedded PostgreSQL port (default 55432)
Environment: NATS_URL and DATABASE_URL use existing servers instead of the embedded ones.
`);
  process.exit(0);
}

const children = new Set();
let stopping = false;
/**
 * Stops in dependency order: agents first (they flush their last flows to NATS), then the
 * collector (it stores what it holds), then NATS, and the database last.
 */
function stopAll(code = 0) {
  if (stopping) return;
  stopping = true;
  say('stopping…');
  const deadline = setTimeout(() => {
    for (const c of children) c.kill('SIGKILL');
    stopPostgres();
    process.exit(code);
  }, 20_000);
  const exited = (c) => c.exitCode !== null || c.signalCode !== null;
  const stage = (order) =>
    new Promise((done) => {
      const group = [...children].filter((c) => c.stopOrder === order);
      for (const c of group) c.kill('SIGTERM');
      const check = setInterval(() => {
        if (group.every(exited)) {
          clearInterval(check);
          done();
        }
      }, 50);
    });
  (async () => {
    for (const order of [0, 1, 2]) await stage(order);
    clearTimeout(deadline);
    stopPostgres();
    process.exit(code);
  })();
}
process.on('SIGINT', () => stopAll(0));
process.on('SIGTERM', () => stopAll(0));

/** `stopOrder`: 0 agents, 1 the collector, 2 NATS (see stopAll). */
function run(name, cmd, argv, opts = {}) {
  const { stopOrder = 1, onExit: _onExit, ...spawnOpts } = opts;
  const child = spawn(cmd, argv, { stdio: ['ignore', 'inherit', 'inherit'], ...spawnOpts });
  child.stopOrder = stopOrder;
  child.on('error', (err) => {
    children.delete(child);
    die(`cannot start ${name} (${cmd}): ${err.code === 'ENOENT' ? 'not found; run `npm start`, which installs it' : err.message}`);
  });
  children.add(child);
  child.on('exit', (code, signal) => {
    children.delete(child);
    if (!stopping && opts.onExit) opts.onExit(code, signal);
    else if (!stopping) {
      say(`${name} exited (${signal ?? code}); stopping`);
      stopAll(1);
    }
  });
  return child;
}

function portFree(port) {
  return new Promise((resolvePort) => {
    const srv = createServer();
    srv.once('error', () => resolvePort(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolvePort(true)));
  });
}

async function waitForPort(port, timeoutMs) {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (!(await portFree(port))) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

async function startNats() {
  if (process.env.NATS_URL) {
    say(`using NATS at ${process.env.NATS_URL}`);
    return process.env.NATS_URL;
  }
  const port = Number(args['nats-port']);
  if (!(await portFree(port))) {
    die(`port ${port} is already in use: is another NTA or nats-server running? Stop it, pass --nats-port N, or set NATS_URL to use it`);
  }
  const bin = process.env.NTA_NATS_SERVER || 'nats-server';
  const store = join(root, 'var/nats');
  mkdirSync(store, { recursive: true });
  const logFile = join(root, 'var/log/nats-server.log');
  mkdirSync(dirname(logFile), { recursive: true });
  run('nats-server', bin, ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', store, '-n', 'nta-embedded', '-l', logFile], { stdio: ['ignore', 'ignore', 'inherit'], stopOrder: 2 });
  if (!(await waitForPort(port, 15_000))) die(`nats-server did not start on port ${port}`);
  const url = `nats://127.0.0.1:${port}`;
  say(`NATS JetStream   ${url}   (data in var/nats, log in var/log/nats-server.log)`);
  return url;
}


async function startPostgres() {
  if (process.env.DATABASE_URL) {
    say(`using PostgreSQL at ${process.env.DATABASE_URL.replace(/:[^:@/]*@/, ':***@')}`);
    return process.env.DATABASE_URL;
  }
  const port = Number(args['db-port']);
  mkdirSync(dirname(pgData), { recursive: true });
  const status = spawnSync('bash', [pgCluster, 'status', pgData], { encoding: 'utf8' });
  if (status.status !== 0 && !(await portFree(port))) {
    die(`port ${port} is already in use: pass --db-port N, or set DATABASE_URL to use an existing PostgreSQL`);
  }
  const r = spawnSync('bash', [pgCluster, 'start', pgData, String(port), 'postgres'], { stdio: ['ignore', 'inherit', 'inherit'] });
  const where = dirname(pgData);
  if (r.status !== 0) die(`PostgreSQL did not start (see ${where}/postgres.log)`);
  stopPostgres = () => spawnSync('bash', [pgCluster, 'stop', pgData], { stdio: 'ignore' });
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  say(`PostgreSQL       ${url}   (data and log in ${where})`);
  return url;
}

async function startCollector(natsUrl, databaseUrl) {
  const port = Number(args.port);
  if (!(await portFree(port))) die(`port ${port} is already in use: pass --port N`);
  const logFile = join(root, 'var/log/collector.log');
  mkdirSync(dirname(logFile), { recursive: true });
  run('collector', process.execPath, [collectorCli], {
    env: { ...process.env, NATS_URL: natsUrl, DATABASE_URL: databaseUrl, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', openSync(logFile, 'a'), 'inherit'],
  });
  if (!(await waitForPort(port, 60_000))) die(`the collector did not start on port ${port}`);
  say(`console          http://127.0.0.1:${port}/`);
  say(`collector API    http://127.0.0.1:${port}/api/v1   (docs: /api/v1/docs, health: /healthz, metrics: /metrics, log: var/log/collector.log)`);
}

function sampleCapture() {
  const out = join(root, 'var/sample');
  const file = join(out, 'mixed-200000-s1.pcap');
  if (!existsSync(file)) {
    say('generating a sample capture to replay (once)…');
    const r = spawnSync(process.execPath, [join(root, 'bench/agent/gen-pcap.mjs'), 'mixed', '--packets', '200000', '--seed', '1', '--out', out], { stdio: ['ignore', 'ignore', 'inherit'] });
    if (r.status !== 0 || !existsSync(file)) die('could not generate the sample capture');
  }
  return file;
}

function liveCaptureProblem(iface) {
  // Ask the agent itself: a one-second capture tells whether libpcap may open the interface.
  const r = spawnSync(process.execPath, [agentCli, 'capture', ...(iface ? ['--interface', iface] : []), '--format', 'none', '--heartbeat-interval', '60'], {
    timeout: 1500,
    killSignal: 'SIGINT',
    encoding: 'utf8',
  });
  const error = r.stderr.split('\n').find((l) => l.startsWith('nta-agent: error:'));
  return error ? error.replace('nta-agent: error: ', '') : undefined;
}

function startReplay(natsUrl, file, why) {
  say(`${why}: replaying ${file} at speed ${args.speed}, packet times shifted to now`);
  const loop = () =>
    run('agent', process.execPath, [agentCli, 'read', file, '--nats', natsUrl, '--speed', args.speed, '--shift-to-now', '--agent-id', 'local-replay', '--spool-dir', join(root, 'var/spool/local-replay')], {
      stopOrder: 0,
      onExit: (code) => (code === 0 ? loop() : stopAll(1)),
    });
  loop();
}

/** One `npm start` per checkout: a second would adopt the first one's database and stop it on exit. */
function takeRunLock() {
  const lock = join(root, 'var/start.pid');
  mkdirSync(dirname(lock), { recursive: true });
  try {
    const pid = Number(readFileSync(lock, 'utf8'));
    if (pid > 0 && pid !== process.pid) {
      process.kill(pid, 0);
      die(`NTA is already running from this checkout (pid ${pid}); stop it with Ctrl-C first (or kill ${pid})`);
    }
  } catch (err) {
    if (err.code !== 'ENOENT' && err.code !== 'ESRCH') throw err;
  }
  writeFileSync(lock, String(process.pid));
  process.on('exit', () => {
    try {
      if (readFileSync(lock, 'utf8') === String(process.pid)) unlinkSync(lock);
    } catch {
      // already gone
    }
  });
}

async function main() {
  takeRunLock();
  if (!existsSync(agentCli) || !existsSync(collectorCli)) die('NTA is not built: run `npm run setup` first');
  const natsUrl = await startNats();
  const databaseUrl = await startPostgres();
  await startCollector(natsUrl, databaseUrl);
  if (!args['no-agent']) {
    if (args.replay) startReplay(natsUrl, resolve(args.replay), 'replay requested');
    else {
      const problem = liveCaptureProblem(args.interface);
      if (problem) startReplay(natsUrl, sampleCapture(), `live capture is not possible here (${problem})`);
      else {
        say(`agent capturing live${args.interface ? ` on ${args.interface}` : ' on the default interface'}`);
        const agentArgs = ['capture', '--nats', natsUrl, '--agent-id', 'local', '--spool-dir', join(root, 'var/spool/local')];
        if (args.interface) agentArgs.push('--interface', args.interface);
        if (args.filter) agentArgs.push('--filter', args.filter);
        run('agent', process.execPath, ['--max-semi-space-size=1', agentCli, ...agentArgs], { stopOrder: 0 });
      }
    }
  }
  say(`more agents can join with: pnpm nta-agent capture --nats ${natsUrl}`);
  say(`open the console: http://127.0.0.1:${args.port}/`);
  say('Ctrl-C stops everything');
}

main().catch((err) => die(err.stack ?? String(err)));
