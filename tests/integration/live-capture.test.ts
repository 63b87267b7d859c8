/**
 * Live capture through cap/libpcap on real interfaces: loopback, and a veth pair into a
 * network namespace made for the test. Needs root (or CAP_NET_RAW; the namespace test
 * needs root): without it the capture tests are skipped and say why.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { existsSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultInterface, listInterfaces, type InterfaceInfo } from '../../packages/agent/src/capture/interfaces.js';
import { canCapture, CaptureOpenError, openLiveCapture, type LiveCapture } from '../../packages/agent/src/capture/live-source.js';
import { LinkType, type PacketSink } from '../../packages/agent/src/capture/packet-sink.js';

const probe = canCapture('lo');
if (!probe.ok) console.warn(`live-capture: capture tests skipped: ${probe.message}`);
const isRoot = process.getuid?.() === 0;
const haveIp = spawnSync('ip', ['-V']).status === 0;
const nsSkip = !isRoot ? 'not root' : !haveIp ? 'no `ip` command (iproute2)' : !probe.ok ? probe.message : undefined;
if (nsSkip) console.warn(`live-capture: network namespace test skipped: ${nsSkip}`);

interface Seen {
  linkType: number;
  tsMs: number;
  capLen: number;
  wireLen: number;
  seq: number;
  srcIp: string;
}

/** Copies out what the tests check: the buffer is reused for the next packet. */
function recordingSink(out: Seen[]): PacketSink {
  return {
    packet(linkType, tsMs, buf, off, capLen, wireLen) {
      const ip = off + 14; // Ethernet
      const payload = ip + 20 + 8; // IPv4 without options, UDP
      const seq = capLen >= payload + 4 ? new DataView(buf.buffer, buf.byteOffset).getUint32(payload) : -1;
      out.push({ linkType, tsMs, capLen, wireLen, seq, srcIp: [...buf.subarray(ip + 12, ip + 16)].join('.') });
    },
  };
}

function bindUdp(address: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    s.once('error', reject);
    s.bind(0, address, () => resolve(s));
  });
}

async function waitFor(cond: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await sleep(10);
}

/** Payload size of datagram `i`: varied, at least 4 bytes for the sequence number. */
const sizeOf = (i: number): number => 4 + ((i * 37) % 1400);

describe('live-capture', () => {
  it.skipIf(!probe.ok)('live-capture - sees exactly the UDP datagrams sent to loopback', async () => {
    const receiver = await bindUdp('127.0.0.1'); // a listener, so no ICMP port-unreachable noise
    const port = receiver.address().port;
    const seen: Seen[] = [];
    const cap = openLiveCapture({ iface: 'lo', filter: `udp and dst host 127.0.0.1 and dst port ${port}` }, recordingSink(seen));
    const sender = createSocket('udp4');
    const n = 300;
    try {
      expect(cap.linkType).toBe(LinkType.ETHERNET);
      const t0 = Date.now();
      for (let i = 0; i < n; i++) {
        const payload = Buffer.alloc(sizeOf(i));
        payload.writeUInt32BE(i, 0);
        await new Promise<void>((resolve, reject) => sender.send(payload, port, '127.0.0.1', (err) => (err ? reject(err) : resolve())));
      }
      await waitFor(() => seen.length >= n, 5000);
      await sleep(200); // anything extra would show up now
      const t1 = Date.now();
      const stats = await cap.refreshStats();

      expect(seen.length).toBe(n);
      expect(seen.map((p) => p.seq)).toEqual(Array.from({ length: n }, (_, i) => i));
      for (const [i, p] of seen.entries()) {
        expect(p.linkType).toBe(LinkType.ETHERNET);
        expect(p.capLen).toBe(14 + 20 + 8 + sizeOf(i));
        expect(p.wireLen).toBe(p.capLen);
        expect(p.tsMs).toBeGreaterThanOrEqual(t0 - 5);
        expect(p.tsMs).toBeLessThanOrEqual(t1 + 5);
        if (i > 0) expect(p.tsMs).toBeGreaterThanOrEqual(seen[i - 1].tsMs);
      }
      expect(stats.kernelCounters).toBe(true);
      expect(stats.received).toBeGreaterThanOrEqual(n); // 2n on lo: libpcap counts the outgoing copy too
      expect(stats.dropped).toBe(0);
      expect(stats.delivered).toBe(n);
      expect(stats.sinkErrors).toBe(0);
    } finally {
      cap.close();
      sender.close();
      receiver.close();
    }
    expect(cap.stats().received).toBeGreaterThanOrEqual(n);
  });

  it.skipIf(!probe.ok)('live-capture - snapLen cuts packets and wireLen comes from the IP header', async () => {
    const receiver = await bindUdp('127.0.0.1');
    const port = receiver.address().port;
    const seen: Seen[] = [];
    const cap = openLiveCapture({ iface: 'lo', filter: `udp dst port ${port}`, snapLen: 64, bufferBytes: 4 << 20 }, recordingSink(seen));
    const sender = createSocket('udp4');
    try {
      await new Promise<void>((resolve, reject) => sender.send(Buffer.alloc(1000), port, '127.0.0.1', (err) => (err ? reject(err) : resolve())));
      await waitFor(() => seen.length >= 1, 5000);
      expect(seen).toHaveLength(1);
      expect(seen[0].capLen).toBe(64);
      expect(seen[0].wireLen).toBe(14 + 20 + 8 + 1000);
    } finally {
      cap.close();
      sender.close();
      receiver.close();
    }
  });

  it.skipIf(!probe.ok)('live-capture - a bad BPF filter is one clear error', () => {
    const open = (): LiveCapture => openLiveCapture({ iface: 'lo', filter: 'udp port nonsense-port and' }, { packet() {} });
    expect(open).toThrow(CaptureOpenError);
    expect(open).toThrow(/^capture on "lo" failed: bad filter "udp port nonsense-port and": /);
  });

  it('live-capture - a missing interface is one clear error', () => {
    const open = (): LiveCapture => openLiveCapture({ iface: 'nta-nope0' }, { packet() {} });
    expect(open).toThrow(/^capture on "nta-nope0" failed: no such device/);
    expect(canCapture('nta-nope0')).toMatchObject({ ok: false, reason: 'no-such-device' });
  });

  it('live-capture - options cap cannot honour are refused', () => {
    expect(() => openLiveCapture({ iface: 'lo', promiscuous: false }, { packet() {} })).toThrow(/promiscuous: false is not supported/);
    expect(() => openLiveCapture({ iface: 'lo', snapLen: 262144 }, { packet() {} })).toThrow(/snapLen must be an integer from 1 to 65535/);
  });

  it('interfaces - lists loopback, and the default skips loopback and down interfaces', () => {
    const lo = listInterfaces().find((i) => i.name === 'lo');
    if (existsSync('/sys/class/net/lo')) expect(lo).toMatchObject({ loopback: true, up: true, pseudo: false });
    const def = defaultInterface();
    if (def) expect(def).toMatchObject({ up: true, loopback: false, pseudo: false });

    const mk = (name: string, up: boolean, loopback: boolean, defaultRoute = false): InterfaceInfo => ({
      name,
      addresses: [],
      up,
      loopback,
      pseudo: false,
      defaultRoute,
    });
    expect(defaultInterface([mk('lo', true, true), mk('eth0', false, false), mk('eth1', true, false)])?.name).toBe('eth1');
    expect(defaultInterface([mk('veth0', true, false), mk('eth1', true, false, true)])?.name).toBe('eth1');
    expect(defaultInterface([mk('lo', true, true), mk('eth0', false, false)])).toBeUndefined();
  });
});

describe('live-capture in a network namespace', () => {
  const suffix = randomBytes(3).toString('hex');
  const ns = `nta-test-${suffix}`;
  const hostIf = `nta-h${suffix}`;
  const nsIf = `nta-n${suffix}`;
  let hostAddr = '';
  let nsAddr = '';
  let created = false;

  const ip = (...args: string[]): void => {
    const r = spawnSync('ip', args, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr.trim()}`);
  };

  beforeAll(() => {
    if (nsSkip) return;
    const inUse = spawnSync('ip', ['-4', '-o', 'addr', 'show'], { encoding: 'utf8' }).stdout;
    let subnet: string;
    do subnet = `10.250.${randomInt(0, 256)}.`;
    while (inUse.includes(subnet));
    const base = 4 * randomInt(0, 64);
    hostAddr = `${subnet}${base + 1}`;
    nsAddr = `${subnet}${base + 2}`;
    ip('netns', 'add', ns);
    created = true;
    ip('link', 'add', hostIf, 'type', 'veth', 'peer', 'name', nsIf, 'netns', ns);
    ip('addr', 'add', `${hostAddr}/30`, 'dev', hostIf);
    ip('link', 'set', hostIf, 'up');
    ip('-n', ns, 'link', 'set', 'lo', 'up');
    ip('-n', ns, 'addr', 'add', `${nsAddr}/30`, 'dev', nsIf);
    ip('-n', ns, 'link', 'set', nsIf, 'up');
  });

  afterAll(() => {
    if (!created) return;
    spawnSync('ip', ['netns', 'del', ns]); // takes the ns end of the veth pair, and with it the host end
    if (existsSync(`/sys/class/net/${hostIf}`)) spawnSync('ip', ['link', 'del', hostIf]);
  });

  it.skipIf(nsSkip !== undefined)('live-capture - sees UDP sent from a namespace over a veth pair', async () => {
    const operstate = `/sys/class/net/${hostIf}/operstate`;
    await waitFor(() => readFileSync(operstate, 'utf8').trim() === 'up', 5000);
    const receiver = await bindUdp(hostAddr);
    const port = receiver.address().port;
    let received = 0;
    receiver.on('message', () => received++);
    const seen: Seen[] = [];
    const cap = openLiveCapture({ iface: hostIf, filter: `udp and dst host ${hostAddr} and dst port ${port}` }, recordingSink(seen));
    const n = 20;
    try {
      expect(cap.linkType).toBe(LinkType.ETHERNET);
      const script = `const s = require('node:dgram').createSocket('udp4'); let i = 0;
        const next = () => { if (i === ${n}) return s.close(); const p = Buffer.alloc(4 + ((i * 37) % 1400)); p.writeUInt32BE(i++, 0);
          s.send(p, ${port}, '${hostAddr}', (e) => { if (e) { console.error(e.message); process.exit(1); } next(); }); };
        next();`;
      const child = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', script], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
      expect(stderr).toBe('');
      expect(code).toBe(0);
      await waitFor(() => seen.length >= n && received >= n, 5000);
      await sleep(200);
      const stats = await cap.refreshStats();

      expect(received).toBe(n);
      expect(seen.map((p) => p.seq)).toEqual(Array.from({ length: n }, (_, i) => i));
      for (const [i, p] of seen.entries()) {
        expect(p.srcIp).toBe(nsAddr);
        expect(p.capLen).toBe(14 + 20 + 8 + sizeOf(i));
        expect(p.wireLen).toBe(p.capLen);
      }
      expect(stats).toMatchObject({ received: n, dropped: 0, delivered: n, kernelCounters: true });
    } finally {
      cap.close();
      receiver.close();
    }
  });
});
