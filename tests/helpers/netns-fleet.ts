/**
 * A small fleet of test hosts on one machine: each host is a network namespace with one
 * veth end named eth0 (IPv4 only, GSO off so every captured TCP packet is one wire
 * segment), the other ends joined by a Linux bridge in the root namespace whose address is
 * where the "central" servers listen. Processes run inside a host with its own hostname
 * (a UTS namespace). Needs root and iproute2.
 *
 * Cleanup: teardown() removes everything; an exit/signal hook does the same if a test
 * never gets there, and createFleet() first sweeps what a killed earlier run left behind
 * (names carry the creating process id, so only dead runs' leftovers are swept).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { exitCleanup } from './exit-cleanup.js';
import { startNatsServer, type NatsServerHandle } from './nats-server.js';

/** Fixed ports of the traffic peer inside each namespace (the namespace is private, so no clash). */
export const PEER_TCP_PORT = 7000;
export const PEER_UDP_PORT = 7001;
export const HOST_IFACE = 'eth0';

const NS_PREFIX = 'nta-mh-';
const processes = exitCleanup('SIGKILL');

export interface FleetHost {
  /** Short name: 'a', 'b', ... */
  readonly key: string;
  readonly ns: string;
  readonly agentId: string;
  readonly hostname: string;
  readonly address: string;
}

export interface Fleet {
  readonly hosts: readonly FleetHost[];
  readonly bridge: string;
  readonly bridgeAddress: string;
  /** Removes namespaces (killing what still runs in them) and the bridge. Idempotent, synchronous. */
  teardown(): void;
}

function ip(...args: string[]): string {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  if (r.error) throw new Error(`ip ${args.join(' ')}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr.trim()}`);
  return r.stdout;
}

/** Throws one clear error when this machine cannot host the fleet (not root, no iproute2, no netns). */
export function assertFleetPossible(): void {
  if (process.getuid?.() !== 0) throw new Error('multi-host test needs root (network namespaces, a bridge and live capture); CI runs it as root');
  const probe = spawnSync('ip', ['-V'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) throw new Error('multi-host test needs `ip` (Debian package iproute2)');
  const ns = `${NS_PREFIX}${process.pid}-probe`;
  const add = spawnSync('ip', ['netns', 'add', ns], { encoding: 'utf8' });
  if (add.status !== 0) throw new Error(`multi-host test needs network namespaces, but \`ip netns add\` failed: ${add.stderr.trim()}`);
  spawnSync('ip', ['netns', 'del', ns]);
  const uts = spawnSync('unshare', ['--uts', 'true'], { encoding: 'utf8' });
  if (uts.error || uts.status !== 0) throw new Error(`multi-host test needs \`unshare --uts\` (util-linux): ${uts.error?.message ?? uts.stderr.trim()}`);
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
};

function removeNamespace(ns: string): void {
  // A namespace lives on while processes are in it: end them first.
  const pids = spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).stdout ?? '';
  for (const pid of pids.split(/\s+/).filter(Boolean)) {
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      // already gone
    }
  }
  spawnSync('ip', ['netns', 'del', ns]); // takes its veth end, and with it the bridge-side end
}

/**
 * Removes what earlier runs of this helper left when they were killed outright (SIGKILL: no
 * exit hook ran): their namespaces with everything running inside, their bridge, their
 * nats-server (known by its store dir, which carries the dead owner's pid) and temp dirs.
 */
function sweepLeftovers(): void {
  const ownedByDeadRun = (name: string): boolean => {
    const m = new RegExp(`^(?:${NS_PREFIX}|nmh)(\\d+)-`).exec(name);
    return m !== null && Number(m[1]) !== process.pid && !alive(Number(m[1]));
  };
  for (const line of ip('netns', 'list').split('\n')) {
    const ns = line.split(' ')[0]!;
    if (ownedByDeadRun(ns)) removeNamespace(ns);
  }
  for (const name of readdirSync('/sys/class/net')) if (ownedByDeadRun(name)) spawnSync('ip', ['link', 'del', name]);
  const deadDirs = readdirSync(tmpdir()).filter(ownedByDeadRun).map((d) => join(tmpdir(), d));
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    let args: string[];
    try {
      args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    } catch {
      continue; // exited meanwhile
    }
    const sd = args.indexOf('-sd');
    if (sd < 0 || !deadDirs.includes(args[sd + 1] ?? '')) continue;
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      // gone already
    }
  }
  for (const dir of deadDirs) rmSync(dir, { recursive: true, force: true });
}

const writeSysctl = (ns: string | undefined, path: string, value: string): void => {
  const cmd = ['sh', '-c', `echo ${value} > ${path}`];
  const r = ns ? spawnSync('ip', ['netns', 'exec', ns, ...cmd]) : spawnSync(cmd[0]!, cmd.slice(1));
  if (r.status !== 0) throw new Error(`cannot write ${path}${ns ? ` in ${ns}` : ''}`);
};

/** A free 10.213.X.0/24: nothing in the root namespace uses or routes it. */
function freeSubnet(): string {
  const used = ip('-4', '-o', 'addr', 'show') + ip('-4', 'route', 'show');
  for (let i = 0; i < 256; i++) {
    const candidate = `10.213.${Math.floor(Math.random() * 256)}.`;
    if (!used.includes(candidate)) return candidate;
  }
  throw new Error('no free 10.213.X.0/24 subnet');
}

/** Builds the namespaces, the veth pairs and the bridge; hosts get .1, .2, ...; the bridge .254. */
export function createFleet(keys: readonly string[]): Fleet {
  assertFleetPossible();
  processes.install();
  sweepLeftovers();
  const subnet = freeSubnet();
  const bridge = `nmh${process.pid}-br`;
  const hosts = keys.map((key, i): FleetHost => ({
    key,
    ns: `${NS_PREFIX}${process.pid}-${key}`,
    agentId: `host-${key}`,
    hostname: `host-${key}.fleet.test`,
    address: `${subnet}${i + 1}`,
  }));
  const made: string[] = [];
  let bridgeMade = false;
  const fleet: Fleet = {
    hosts,
    bridge,
    bridgeAddress: `${subnet}254`,
    teardown() {
      for (const ns of made.splice(0)) removeNamespace(ns);
      if (bridgeMade) spawnSync('ip', ['link', 'del', bridge]);
      bridgeMade = false;
      processes.teardowns.delete(fleet.teardown);
    },
  };
  processes.teardowns.add(fleet.teardown);
  try {
    ip('link', 'add', bridge, 'type', 'bridge');
    bridgeMade = true;
    // IPv6 off everywhere: no router solicitations or MLD reports among the test traffic.
    writeSysctl(undefined, `/proc/sys/net/ipv6/conf/${bridge}/disable_ipv6`, '1');
    ip('addr', 'add', `${fleet.bridgeAddress}/24`, 'dev', bridge);
    ip('link', 'set', bridge, 'mtu', '1500', 'up');
    for (const h of hosts) {
      const hostEnd = `nmh${process.pid}-${h.key}`;
      ip('netns', 'add', h.ns);
      made.push(h.ns);
      writeSysctl(h.ns, '/proc/sys/net/ipv6/conf/all/disable_ipv6', '1');
      writeSysctl(h.ns, '/proc/sys/net/ipv6/conf/default/disable_ipv6', '1');
      ip('link', 'add', hostEnd, 'type', 'veth', 'peer', 'name', HOST_IFACE, 'netns', h.ns);
      writeSysctl(undefined, `/proc/sys/net/ipv6/conf/${hostEnd}/disable_ipv6`, '1');
      // gso_max_segs 1: TCP hands the device one MSS at a time (what `ethtool -K tso off gso off` gives).
      ip('link', 'set', hostEnd, 'master', bridge, 'mtu', '1500', 'gso_max_segs', '1', 'up');
      ip('-n', h.ns, 'link', 'set', 'lo', 'up');
      ip('-n', h.ns, 'link', 'set', HOST_IFACE, 'mtu', '1500', 'gso_max_segs', '1');
      ip('-n', h.ns, 'addr', 'add', `${h.address}/24`, 'dev', HOST_IFACE);
      ip('-n', h.ns, 'link', 'set', HOST_IFACE, 'up');
      // Nothing is lost on a veth, but segments queued on two CPUs arrive out of order, and
      // on a busy machine a late ACK triggers a tail-loss probe: both made TCP resend data and
      // add SACK blocks. Without SACK, tail-loss probes or reordering-driven fast retransmit,
      // and with a 1 s minimum retransmission timeout, the bytes on the wire are exactly the
      // payload plus fixed-size headers.
      for (const [name, value] of [['tcp_sack', '0'], ['tcp_early_retrans', '0'], ['tcp_reordering', '300']] as const) {
        writeSysctl(h.ns, `/proc/sys/net/ipv4/${name}`, value);
      }
      ip('-n', h.ns, 'route', 'replace', `${subnet}0/24`, 'dev', HOST_IFACE, 'proto', 'kernel', 'scope', 'link', 'src', h.address, 'rto_min', '1s');
    }
  } catch (err) {
    fleet.teardown();
    throw err;
  }
  return fleet;
}

export interface HostProcess {
  readonly child: ChildProcess;
  /** Resolves with the exit code (null after a signal). */
  readonly exited: Promise<number | null>;
  /** The last lines it wrote (stdout and stderr), for failure messages. */
  output(): string;
  /** Sends `signal`, SIGKILL after graceMs, and waits for the exit. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<number | null>;
}

/** Runs argv inside the host's namespace under the host's hostname. */
export function spawnInHost(host: FleetHost, argv: readonly string[], opts: { env?: Record<string, string>; stdin?: boolean } = {}): HostProcess {
  processes.install();
  const setHostname = 'echo "$1" > /proc/sys/kernel/hostname && shift && exec "$@"';
  // ip netns exec and unshare exec in place, so the child's pid is the program's own.
  const child = spawn('ip', ['netns', 'exec', host.ns, 'unshare', '--uts', 'sh', '-c', setHostname, 'sh', host.hostname, ...argv], {
    stdio: [opts.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...opts.env },
  });
  processes.running.add(child);
  let tail = '';
  const keep = (chunk: Buffer): void => {
    tail = (tail + chunk.toString('utf8')).slice(-6000);
  };
  child.stderr?.on('data', keep);
  if (!opts.stdin) child.stdout?.on('data', keep);
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => {
      processes.running.delete(child);
      resolve(code);
    });
    child.once('error', (err) => {
      tail += `\nspawn failed: ${err.message}`;
      resolve(-1);
    });
  });
  return {
    child,
    exited,
    output: () => tail,
    async stop(signal = 'SIGTERM', graceMs = 10_000) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/**
 * A nats-server with JetStream listening on the bridge address only, so the namespaces reach
 * it. Its store dir is named after this process, so sweepLeftovers() finds and kills the
 * server of a run that was killed outright.
 */
export function startBridgeNats(address: string, startTimeoutMs = 15_000): Promise<NatsServerHandle> {
  return startNatsServer({ host: address, storeDir: tempDir('nats'), startTimeoutMs });
}

/** A temporary directory removed at exit (e.g. an agent's spool); named after this process for sweepLeftovers. */
export function tempDir(what: string): string {
  processes.install();
  const dir = mkdtempSync(join(tmpdir(), `${NS_PREFIX}${process.pid}-${what}-`));
  processes.tempDirs.add(dir);
  return dir;
}

/*
 * The traffic peer: one node process per host, serving TCP and UDP and acting as a client on
 * request (JSON lines on stdin, answers on stdout), so every conversation's 5-tuple and
 * payload are known. TCP: the client's first 4 bytes say how many bytes the server sends
 * back after the client's FIN. UDP: every datagram is echoed. ICMP: the system's ping.
 */
const PEER_SCRIPT = String.raw`
const net = require('node:net'), dgram = require('node:dgram'), { execFile } = require('node:child_process');
const [tcpPort, udpPort] = process.argv.slice(1).map(Number);
const say = (m) => process.stdout.write(JSON.stringify(m) + '\n');
const server = net.createServer({ allowHalfOpen: true }, (s) => {
  let head = Buffer.alloc(0);
  s.on('data', (d) => { if (head.length < 4) head = Buffer.concat([head, d]); });
  s.on('end', () => s.end(Buffer.alloc(head.length >= 4 ? head.readUInt32BE(0) : 0, 0x61)));
  s.on('error', () => {});
});
const echo = dgram.createSocket('udp4');
echo.on('message', (m, r) => echo.send(m, r.port, r.address));
const tcp = (c) => new Promise((resolve, reject) => {
  const s = net.connect({ host: c.to, port: c.port, allowHalfOpen: true });
  let sport = 0, received = 0;
  s.on('connect', () => { sport = s.localPort; const b = Buffer.alloc(c.send, 0x62); b.writeUInt32BE(c.reply, 0); s.end(b); });
  s.on('data', (d) => { received += d.length; });
  s.on('error', reject);
  s.on('close', () => resolve({ sport, received }));
});
const udp = (c) => new Promise((resolve, reject) => {
  const s = dgram.createSocket('udp4');
  let i = 0;
  const timer = setTimeout(() => { s.close(); reject(new Error('no echo for datagram ' + i)); }, 5000);
  const next = () => {
    if (i < c.sizes.length) return s.send(Buffer.alloc(c.sizes[i], 0x63), c.port, c.to);
    clearTimeout(timer);
    const sport = s.address().port;
    s.close();
    resolve({ sport, echoed: i });
  };
  s.on('message', () => { i++; next(); });
  s.on('error', (e) => { clearTimeout(timer); reject(e); });
  s.bind(0, next);
});
const ping = (c) => new Promise((resolve, reject) =>
  execFile('ping', ['-n', '-q', '-c', String(c.count), '-i', '0.1', '-W', '2', c.to], (err, out, errOut) =>
    err ? reject(new Error('ping: ' + (errOut || out || err.message))) : resolve({})));
const ops = { tcp, udp, ping };
require('node:readline').createInterface({ input: process.stdin }).on('line', (line) => {
  const c = JSON.parse(line);
  ops[c.op](c).then((r) => say({ id: c.id, ok: true, ...r }), (e) => say({ id: c.id, ok: false, error: String(e.message || e) }));
});
process.stdin.on('end', () => process.exit(0));
server.listen(tcpPort, () => echo.bind(udpPort, () => say({ ready: true })));
`;

export interface TcpExchange {
  /** The client's (ephemeral) source port. */
  sport: number;
  received: number;
}

/** A fleet host, or any address on the bridge. */
export interface Reachable {
  readonly address: string;
}

export interface TrafficPeer {
  readonly host: FleetHost;
  /** One TCP connection to `to`'s peer: sends sendBytes (>= 4), gets replyBytes back, both sides close. */
  tcp(to: Reachable, sendBytes: number, replyBytes: number): Promise<TcpExchange>;
  /** Datagrams of these sizes to `to`'s echo server, one at a time, each echoed before the next. */
  udp(to: Reachable, sizes: readonly number[]): Promise<{ sport: number; echoed: number }>;
  /** `ping -c count` to `to` (a host, or e.g. the bridge); fails unless every echo is answered. */
  ping(to: Reachable, count: number): Promise<void>;
  close(): Promise<void>;
}

interface PeerAnswer {
  id?: number;
  ok?: boolean;
  ready?: boolean;
  error?: string;
  [field: string]: unknown;
}

export async function startTrafficPeer(host: FleetHost): Promise<TrafficPeer> {
  const proc = spawnInHost(host, [process.execPath, '-e', PEER_SCRIPT, String(PEER_TCP_PORT), String(PEER_UDP_PORT)], { stdin: true });
  const pending = new Map<number, { resolve: (a: PeerAnswer) => void; reject: (e: Error) => void }>();
  let nextId = 1;
  let markReady: (() => void) | undefined;
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  createInterface({ input: proc.child.stdout! }).on('line', (line) => {
    let answer: PeerAnswer;
    try {
      answer = JSON.parse(line) as PeerAnswer;
    } catch {
      return; // not ours
    }
    if (answer.ready) markReady?.();
    const waiter = answer.id === undefined ? undefined : pending.get(answer.id);
    if (!waiter) return;
    pending.delete(answer.id!);
    if (answer.ok) waiter.resolve(answer);
    else waiter.reject(new Error(`${host.agentId} peer: ${answer.error}`));
  });
  void proc.exited.then((code) => {
    for (const w of pending.values()) w.reject(new Error(`${host.agentId} peer exited (${code}): ${proc.output()}`));
    pending.clear();
  });
  const started = await Promise.race([ready.then(() => true), proc.exited.then(() => false), sleep(15_000, false)]);
  if (!started) {
    await proc.stop('SIGKILL');
    throw new Error(`traffic peer in ${host.ns} did not start: ${proc.output()}`);
  }
  const request = (op: Record<string, unknown>): Promise<PeerAnswer> =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject });
      proc.child.stdin!.write(`${JSON.stringify({ id, ...op })}\n`);
    });
  return {
    host,
    async tcp(to, sendBytes, replyBytes) {
      const a = await request({ op: 'tcp', to: to.address, port: PEER_TCP_PORT, send: sendBytes, reply: replyBytes });
      return { sport: a.sport as number, received: a.received as number };
    },
    async udp(to, sizes) {
      const a = await request({ op: 'udp', to: to.address, port: PEER_UDP_PORT, sizes });
      return { sport: a.sport as number, echoed: a.echoed as number };
    },
    async ping(to, count) {
      await request({ op: 'ping', to: to.address, count });
    },
    async close() {
      proc.child.stdin!.end();
      await proc.stop('SIGTERM', 3_000);
    },
  };
}
