#!/usr/bin/env node
// Live capture throughput on loopback: the highest UDP packet rate that cap/libpcap takes
// with zero drops by libpcap's own counters (PACKET_STATISTICS, read as
// packages/agent/src/capture/live-stats.ts does), with a counting sink and with a sink that
// does about 300 ns of work per packet. Settings mirror live-source.ts: 128 MiB ring,
// 65535-byte copy buffer, performance.now() timestamps, wireLen check.
//
// Load comes from a separate Node process (this file with --gen) sending to 127.0.0.1 only,
// bounded in count and time. Needs root (or CAP_NET_RAW) and perl.
//
//   node bench/agent/live.mjs [--rates 20000,50000,...] [--seconds 3] [--size 64]
//                             [--buffer-mb 128] [--sinks count,work300] [--pin]
//
// --pin puts the capture on CPU 0 and the load on CPU 1 (steadier on an idle machine, worse
// when other work shares the CPUs). The load average is printed before and after: on a
// shared 2-core machine, other processes move these figures a lot.
//
// Prints a table, then one JSON line with every trial.
import { spawn, spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';

// cap 0.2.1 never uv_close()s its poll handle: a collected Cap, even a closed one, is a
// use-after-free in libuv's handle queue. Keep them all (as live-source.ts does).
const retained = [];

const self = fileURLToPath(import.meta.url);
const argv = process.argv.slice(2);
if (argv[0] === '--gen') await generate(argv.slice(1).map(Number));
else await main();

function opt(name, fallback) {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < argv.length ? argv[i + 1] : fallback;
}

async function main() {
  const rates = opt('rates', '20000,40000,60000,80000,100000,120000,140000,160000,200000').split(',').map(Number);
  const seconds = Number(opt('seconds', '3'));
  const size = Number(opt('size', '64'));
  const bufferBytes = Number(opt('buffer-mb', '128')) * 1024 * 1024;
  const sinks = opt('sinks', 'count,work300').split(',');
  const pin = argv.includes('--pin') && cpus().length >= 2 && spawnSync('taskset', ['-V']).status === 0;
  if (pin) spawnSync('taskset', ['-pc', '0', String(process.pid)]); // capture on CPU 0, load on CPU 1

  const require = createRequire(new URL('../../packages/agent/package.json', import.meta.url));
  const { Cap } = require('cap');
  const { port, proc: drain } = await startDrain();
  const work = calibrateWork(300);
  console.log(`live capture on lo, udp dst port ${port}, ${size}-byte payloads, ring ${bufferBytes / 1048576} MiB, ${seconds} s per rate${pin ? ', capture on CPU 0 and load on CPU 1' : ''}`);
  console.log(`load average before: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  console.log(`work300 sink: ${work.iters} hash rounds = ${work.nsPerCall.toFixed(0)} ns per packet (measured)`);
  console.log('sink     target/s   sent/s  delivered   kernel recv  kernel drop  capture pkt/s  cpu ns/pkt');

  const trials = [];
  try {
    for (const sinkName of sinks) {
      for (const rate of rates) {
        const t = await trial({ Cap, port, rate, count: Math.min(2_000_000, Math.round(rate * seconds)), size, bufferBytes, pin, sink: sinkName, work });
        trials.push(t);
        console.log(
          `${sinkName.padEnd(8)} ${String(rate).padStart(8)} ${String(t.sentPerS).padStart(8)} ${String(t.delivered).padStart(10)} ${String(t.kernelReceived).padStart(13)} ${String(t.kernelDropped).padStart(12)} ${String(t.capturePerS).padStart(14)} ${String(t.cpuNsPerPacket).padStart(11)}`,
        );
      }
    }
  } finally {
    drain.kill('SIGKILL');
  }
  console.log(`load average after: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const best = {};
  for (const s of sinks) {
    const clean = trials.filter((t) => t.sink === s && t.kernelDropped === 0 && t.delivered === t.sent && t.sent > 0);
    best[s] = clean.length ? Math.max(...clean.map((t) => t.sentPerS)) : 0;
    console.log(`${s}: highest rate with zero drops: ${best[s]} packets/s`);
  }
  console.log(JSON.stringify({ bench: 'agent-live-capture', iface: 'lo', size, bufferBytes, seconds, pin, zeroDropMaxPerS: best, trials }));
}

async function trial({ Cap, port, rate, count, size, bufferBytes, pin, sink, work }) {
  const cap = new Cap();
  retained.push(cap);
  const buffer = Buffer.alloc(65535);
  const before = socketFds();
  cap.open('lo', `udp and dst host 127.0.0.1 and dst port ${port}`, bufferBytes, buffer);
  const fd = findPcapFd(before);
  if (fd === undefined) throw new Error('cannot find the pcap socket for its counters');
  readKernelStats(fd); // zero the counters

  let delivered = 0;
  let first = 0;
  let last = 0;
  let acc = 0;
  const wallAtOpen = Date.now();
  const monoAtOpen = performance.now();
  const doWork = sink === 'work300';
  cap.on('packet', (capLen, truncated) => {
    const now = performance.now();
    if (delivered++ === 0) first = now;
    last = now;
    const tsMs = wallAtOpen + (now - monoAtOpen);
    const wireLen = truncated || capLen >= 65535 ? -1 : capLen;
    acc += doWork ? work.fn(buffer, capLen, work.iters) : wireLen + (tsMs > 0 ? 1 : 0);
  });

  const cpu0 = process.cpuUsage();
  const gen = spawn(pin ? 'taskset' : process.execPath, [...(pin ? ['-c', '1', process.execPath] : []), self, '--gen', port, rate, count, size, 2].map(String), {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  gen.stdout.on('data', (d) => (out += d));
  const code = await new Promise((resolve) => gen.on('close', resolve));
  if (code !== 0) throw new Error(`generator exited with ${code}`);
  const g = JSON.parse(out);
  const end = Date.now() + 3000;
  while (delivered < g.sent && Date.now() < end) await sleep(20);
  await sleep(100);
  const cpu = process.cpuUsage(cpu0);
  const k = readKernelStats(fd);
  cap.close();
  cap.removeAllListeners('packet');
  if (acc === 0.5) console.log(''); // keep the work observable
  return {
    sink,
    targetPerS: rate,
    sent: g.sent,
    sentPerS: g.pps,
    delivered,
    kernelReceived: k.received,
    kernelDropped: k.dropped,
    capturePerS: delivered > 1 ? Math.round((delivered - 1) / ((last - first) / 1000)) : 0,
    /** CPU time of the capture process (user + system) per delivered packet. */
    cpuNsPerPacket: delivered > 0 ? Math.round(((cpu.user + cpu.system) * 1000) / delivered) : 0,
  };
}

/** A UDP socket on the target port that never reads: no ICMP port-unreachable for the load. */
async function startDrain() {
  const proc = spawn('perl', ['-MIO::Socket::INET', '-e', '$| = 1; my $s = IO::Socket::INET->new(LocalAddr => "127.0.0.1:0", Proto => "udp") or die "$!"; print $s->sockport, "\\n"; sleep 3600'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise((resolve, reject) => {
    proc.stdout.once('data', (d) => resolve(Number(String(d).trim())));
    proc.once('error', reject);
  });
  return { port, proc };
}

/** FNV-style rounds over the first 32 bytes, repeated to take about `ns` per call. */
function calibrateWork(ns) {
  const fn = (buf, len, iters) => {
    let h = 0x811c9dc5;
    const n = len < 32 ? len : 32;
    for (let k = 0; k < iters; k++) for (let i = 0; i < n; i++) h = Math.imul(h ^ buf[i], 16777619);
    return h >>> 0;
  };
  const sample = Buffer.alloc(128, 7);
  const time = (iters) => {
    const calls = 200_000;
    let x = 0;
    const t = performance.now();
    for (let c = 0; c < calls; c++) x += fn(sample, 106, iters);
    return { ns: ((performance.now() - t) * 1e6) / calls, x };
  };
  const median = (iters) => {
    const runs = Array.from({ length: 5 }, () => time(iters).ns).sort((a, b) => a - b);
    return runs[2];
  };
  median(1);
  let iters = 1;
  while (median(iters + 1) <= ns && iters < 1000) iters++;
  if (Math.abs(median(iters + 1) - ns) < Math.abs(median(iters) - ns)) iters++;
  return { fn, iters, nsPerCall: median(iters) };
}

// The kernel counters pcap_stats reads: getsockopt(SOL_PACKET, PACKET_STATISTICS), reset on read.
function readKernelStats(fd) {
  const script = `open(my $s, '+<&=', 3) or die; my $v = getsockopt($s, 263, 6) or die "$!"; my ($p, $d) = unpack('LL', $v); print "$p $d\\n"`;
  const r = spawnSync('perl', ['-e', script], { stdio: ['ignore', 'pipe', 'inherit', fd], encoding: 'utf8' });
  const [received, dropped] = r.stdout.trim().split(' ').map(Number);
  return { received, dropped };
}

function socketFds() {
  const out = new Map();
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`);
      if (target.startsWith('socket:[')) out.set(Number(fd), target.slice(8, -1));
    } catch {
      // closed meanwhile
    }
  }
  return out;
}

function findPcapFd(before) {
  const inodes = new Set(readFileSync('/proc/net/packet', 'utf8').trim().split('\n').slice(1).map((l) => l.trim().split(/\s+/)[8]));
  const found = [...socketFds()].filter(([fd, inode]) => before.get(fd) !== inode && inodes.has(inode));
  return found.length === 1 ? found[0][0] : undefined;
}

/** Load generator: `count` datagrams of `size` bytes to 127.0.0.1:port at `rate`/s, paced per millisecond. */
async function generate([port, rate, count, size, nsock]) {
  const socks = await Promise.all(
    Array.from({ length: nsock }, () => new Promise((resolve) => {
      const s = dgram.createSocket('udp4');
      s.on('error', () => {});
      s.connect(port, '127.0.0.1', () => resolve(s));
    })),
  );
  const payload = Buffer.alloc(size);
  const deadline = performance.now() + (count / rate) * 1000 * 3 + 5000;
  let sent = 0;
  const t0 = performance.now();
  while (sent < count && performance.now() < deadline) {
    const due = Math.min(count, Math.floor(((performance.now() - t0) * rate) / 1000));
    for (let burst = Math.min(due - sent, 256); burst > 0; burst--) socks[sent++ % nsock].send(payload);
    if (sent >= due) await new Promise((resolve) => setImmediate(resolve));
  }
  const ms = performance.now() - t0;
  await sleep(20);
  for (const s of socks) s.close();
  process.stdout.write(JSON.stringify({ sent, ms, pps: Math.round((sent / ms) * 1000) }));
}
