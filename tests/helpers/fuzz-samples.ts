/**
 * What the hostile-input tests share: the seeded PRNG and its seed, and the packets the
 * fuzzers start from (synthetic frames plus the first packets of every corpus file).
 *
 * Everything random comes from one seeded PRNG; the seed is printed once per test file,
 * and NTA_FUZZ_SEED=<seed> replays a run exactly.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { readCaptureFile } from '../../packages/agent/src/index.js';
import * as W from './pcap-writer.js';
import { CORPUS_DIR } from './corpus.js';

export const SEED = process.env.NTA_FUZZ_SEED !== undefined ? Number(process.env.NTA_FUZZ_SEED) >>> 0 : (Date.now() ^ (process.pid << 16)) >>> 0;
console.info(`hostile input: seed ${SEED} (replay with NTA_FUZZ_SEED=${SEED})`);

/** mulberry32: small, fast, and the same sequence everywhere for a given seed. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  u32(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
  int(n: number): number {
    return n <= 0 ? 0 : this.u32() % n;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }
  chance(p: number): boolean {
    return this.u32() < p * 4294967296;
  }
  bytes(n: number): Buffer {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = this.u32() & 255;
    return b;
  }
}

export function memoryInUse(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

export const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');

// ------------------------------------------------------------------ packets to start from

export interface Sample {
  linkType: number;
  data: Uint8Array;
  origin: string;
}

/** Frames the corpus is short of: DNS, TLS ClientHello and HTTP on every link type the agent decodes. */
export function syntheticSamples(): Sample[] {
  const dns = W.udpDatagram(40000, 53, W.dnsMessage('www.example.com', 1));
  const dnsReply = W.udpDatagram(53, 40000, W.dnsMessage('www.example.com', 28, 3));
  const mdns = W.udpDatagram(5353, 5353, W.dnsMessage('printer.local', 12));
  const dnsMsg = W.dnsMessage('a.very.long.name.with.many.labels.example.org', 16);
  const dnsTcp = W.tcpSegment(40001, 53, W.TcpFlag.PSH | W.TcpFlag.ACK, W.concatBytes([Uint8Array.of(dnsMsg.length >> 8, dnsMsg.length & 255), dnsMsg]));
  const tls = W.tcpSegment(40002, 443, W.TcpFlag.PSH | W.TcpFlag.ACK, W.tlsClientHello('secure.example.net', ['h2', 'http/1.1']));
  const http = W.tcpSegment(40003, 80, W.TcpFlag.PSH | W.TcpFlag.ACK, W.httpRequest('GET', '/index.html', 'www.example.com'));
  const syn = W.tcpSegment(40004, 22, W.TcpFlag.SYN);
  const icmpEcho = Buffer.from('0800f7ff00010001', 'hex');
  const icmp6Echo = Buffer.from('80007fff00010001', 'hex');
  const v4 = (proto: number, l4: Uint8Array): Buffer => W.ipv4Packet(proto, l4);
  const v6 = (next: number, l4: Uint8Array): Buffer => W.ipv6Packet(next, l4);
  const eth = (type: number, l3: Uint8Array, vlans: { id: number; tpid?: number }[] = []): Buffer => W.ethernetFrame(type, l3, vlans);
  const E = W.EtherTypeNum;
  const frames: [number, Buffer, string][] = [
    [1, eth(E.IPV4, v4(17, dns)), 'eth/ipv4/udp/dns-query'],
    [1, eth(E.IPV4, v4(17, dnsReply)), 'eth/ipv4/udp/dns-reply'],
    [1, eth(E.IPV6, v6(17, mdns)), 'eth/ipv6/udp/mdns'],
    [1, eth(E.IPV4, v4(6, dnsTcp)), 'eth/ipv4/tcp/dns'],
    [1, eth(E.IPV4, v4(6, tls), [{ id: 100 }]), 'eth/vlan/ipv4/tcp/tls-client-hello'],
    [1, eth(E.IPV6, v6(6, tls)), 'eth/ipv6/tcp/tls-client-hello'],
    [1, eth(E.IPV4, v4(6, http)), 'eth/ipv4/tcp/http'],
    [1, eth(E.IPV4, v4(6, W.tcpSegment(40005, 443, 0x18, W.tlsClientHello('x', [])))), 'eth/ipv4/tcp/tls-short-sni'],
    [1, eth(E.IPV4, v4(6, W.tcpSegment(40006, 8443, 0x18, W.tlsClientHello('a'.repeat(200) + '.example', ['h3', 'h2', 'spdy/3', 'http/1.1', 'x'.repeat(60)])))), 'eth/ipv4/tcp/tls-long'],
    [1, eth(E.IPV6, v6(6, W.tcpSegment(40007, 443, 0x18, W.tlsClientHello('api.example.org', ['h2']).subarray(0, 60)))), 'eth/ipv6/tcp/tls-truncated'],
    [1, eth(E.IPV4, v4(6, syn), [{ id: 10, tpid: E.QINQ }, { id: 20 }]), 'eth/qinq/ipv4/tcp-syn'],
    [1, eth(E.MPLS, W.mplsStack([100, 200], v4(17, dns))), 'eth/mpls/ipv4/udp/dns'],
    [1, eth(E.PPPOE, W.pppoeSession(0x0057, v6(58, icmp6Echo))), 'eth/pppoe/ipv6/icmpv6'],
    [1, eth(E.IPV4, W.ipv4Packet(17, dns.subarray(0, 16), { moreFragments: true })), 'eth/ipv4/first-fragment'],
    [1, eth(E.IPV4, W.ipv4Packet(17, dns.subarray(16), { fragOffset: 2 })), 'eth/ipv4/fragment'],
    [1, eth(E.IPV4, v4(132, Buffer.from('0b5a0b5a000000000000000001000014', 'hex'))), 'eth/ipv4/sctp'],
    [1, eth(E.IPV4, v4(47, Buffer.from('00000800', 'hex'))), 'eth/ipv4/gre'],
    [113, W.linuxSllFrame(E.IPV4, v4(1, icmpEcho)), 'sll/ipv4/icmp'],
    [113, W.linuxSllFrame(E.IPV4, v4(6, tls)), 'sll/ipv4/tcp/tls'],
    [276, W.linuxSll2Frame(E.IPV6, v6(17, dns)), 'sll2/ipv6/udp/dns'],
    [0, W.loopbackFrame(2, v4(6, dnsTcp)), 'null/ipv4/tcp/dns'],
    [0, W.loopbackFrame(30, v6(6, http)), 'null/ipv6/tcp/http'],
    [108, W.loopbackFrame(24, v6(17, dns), true), 'loop/ipv6/udp/dns'],
    [101, v4(6, http), 'raw/ipv4/tcp/http'],
    [228, v4(17, dnsReply), 'ipv4/udp/dns'],
    [229, v6(0, W.concatBytes([Uint8Array.of(44, 0, 0, 0, 0, 0, 0, 0), Uint8Array.of(17, 0, 0, 1, 0, 0, 0, 7), dns])), 'ipv6/hop-by-hop/fragment/udp'],
    [12, v4(6, syn), 'raw12/ipv4/tcp-syn'],
  ];
  return frames.map(([linkType, data, origin]) => ({ linkType, data, origin }));
}

/** Files rich in what the L7 hints parse: more of their packets are taken. */
export const L7_RICH_FILES = /dns|tls|ssl|http|quic|smtp|imap|pop|ftp|rtsp|sip/i;

/** The first packets of every corpus file: thousands of real frames over some 30 link types. */
export async function corpusSamples(perFile: number): Promise<Sample[]> {
  if (!existsSync(CORPUS_DIR)) return [];
  const out: Sample[] = [];
  for (const file of readdirSync(CORPUS_DIR).filter((f) => /\.pcap(ng)?$/.test(f)).sort()) {
    let n = 0;
    const limit = L7_RICH_FILES.test(file) ? 40 : perFile;
    try {
      await readCaptureFile(join(CORPUS_DIR, file), {
        packet(linkType, _ts, buf, off, capLen) {
          if (n++ < limit && capLen > 0) out.push({ linkType, data: buf.slice(off, off + capLen), origin: `${file}#${n}` });
        },
      });
    } catch {
      // Not a capture: nothing to take from it.
    }
  }
  return out;
}

/** The samples every fuzzer starts from: the synthetic frames, then up to 6 packets of each corpus file. */
export async function loadSamples(): Promise<Sample[]> {
  return [...syntheticSamples(), ...(await corpusSamples(6))];
}

/** `n` frames picked from the samples of one link type (from all samples if none has it). */
export function samplesOf(rng: Rng, samples: readonly Sample[], linkType: number, n: number): Uint8Array[] {
  const pool = samples.filter((s) => s.linkType === linkType);
  const from = pool.length > 0 ? pool : samples;
  return Array.from({ length: n }, () => rng.pick(from).data);
}

/**
 * For a test file: loads the samples and makes a temporary work dir before its tests,
 * removes the dir after them. Read the fields inside tests (they are set in beforeAll).
 */
export function useFuzzWorkspace(): { samples: Sample[]; workDir: string } {
  const ws = { samples: [] as Sample[], workDir: '' };
  beforeAll(async () => {
    ws.samples = await loadSamples();
    ws.workDir = mkdtempSync(join(tmpdir(), 'nta-hostile-'));
  });
  afterAll(() => {
    if (ws.workDir) rmSync(ws.workDir, { recursive: true, force: true });
  });
  return ws;
}
