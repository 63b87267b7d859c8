import type { FlowRecord } from '@nta/shared';
import type { SeededRandom } from '../seeded-random.js';
import { buildFlow, type TcpShape } from './flow-builder.js';
import { TEST_NETWORK as N, ephemeralPort, pick, randomPublicAddress } from './network.js';

/**
 * Attack traffic, each kind as the agents would report it. Every generator takes its start time
 * and returns FlowRecords; roles default to TEST_NETWORK.attack.
 */
const COMMON_PORTS = [
  21, 22, 23, 25, 53, 80, 110, 111, 135, 139, 143, 443, 445, 993, 995, 1723, 3306, 3389, 5900, 8080,
];

/** One source probing `ports` distinct ports on one host (nmap -sS): most closed (RST), some filtered, 3 open. */
export function verticalScan(
  rng: SeededRandom,
  startMs: number,
  ports = 250,
  attacker: string = N.attack.verticalScanner,
  victim: string = N.attack.verticalVictim,
): FlowRecord[] {
  const chosen = new Set<number>(COMMON_PORTS);
  while (chosen.size < ports) chosen.add(1 + rng.int(10_000));
  const open = new Set([22, 80, 443]);
  const sport = ephemeralPort(rng);
  const spanMs = 12_000;
  return [...chosen].slice(0, ports).map((dport, i) => {
    const shape: TcpShape = open.has(dport) ? 'syn-synack-rst' : rng.next() < 0.06 ? 'syn-unanswered' : 'syn-rst';
    const answered = shape !== 'syn-unanswered';
    const spec = {
      src: attacker, dst: victim, sport, dport, proto: 'tcp' as const, tcp: shape,
      startMs: startMs + Math.floor((i * spanMs) / ports), durationMs: answered ? 1 : 0,
      packetsToDst: shape === 'syn-synack-rst' ? 2 : 1, packetsToSrc: answered ? 1 : 0,
      bytesToDst: shape === 'syn-synack-rst' ? 114 : 60, bytesToSrc: answered ? 60 : 0,
    };
    return buildFlow(spec, rng);
  });
}

/** One source probing one port across many hosts: closed on most (RST), open on a few. */
export function horizontalScan(
  rng: SeededRandom,
  startMs: number,
  hosts: readonly string[],
  openOn: readonly string[],
  attacker: string = N.attack.horizontalScanner,
  port: number = N.attack.horizontalPort,
): FlowRecord[] {
  const open = new Set(openOn);
  return hosts.map((dst, i) => {
    const shape: TcpShape = open.has(dst) ? 'syn-synack-rst' : 'syn-rst';
    const spec = {
      src: attacker, dst, sport: ephemeralPort(rng), dport: port, proto: 'tcp' as const, tcp: shape,
      startMs: startMs + i * 500, durationMs: 1,
      packetsToDst: shape === 'syn-rst' ? 1 : 2, packetsToSrc: 1, bytesToDst: shape === 'syn-rst' ? 60 : 114, bytesToSrc: 60,
    };
    return buildFlow(spec, rng);
  });
}

/**
 * Half-open connections to one service. Spoofed: every flow from a random public address, the
 * victim answering SYN-ACK (and retrying twice). Not spoofed: one source, the victim's backlog full
 * so nothing comes back.
 */
export interface SynFloodSpec {
  spoofed: boolean;
  count: number;
  spanMs: number;
  target?: string;
  port?: number;
  source?: string;
}

export function synFlood(rng: SeededRandom, startMs: number, opts: SynFloodSpec): FlowRecord[] {
  const target = opts.target ?? N.attack.floodVictim;
  const port = opts.port ?? (opts.spoofed ? N.attack.floodVictimPort : N.attack.singleFloodPort);
  const out: FlowRecord[] = [];
  for (let i = 0; i < opts.count; i++) {
    const src = opts.spoofed ? randomPublicAddress(rng) : (opts.source ?? N.attack.singleFloodSource);
    const spec = {
      src, dst: target, sport: 1024 + rng.int(64_000), dport: port, proto: 'tcp' as const,
      tcp: opts.spoofed ? ('syn-synack-noack' as const) : ('syn-unanswered' as const),
      startMs: startMs + Math.floor((i * opts.spanMs) / opts.count), durationMs: opts.spoofed ? 3000 : 0,
      packetsToDst: 1, packetsToSrc: opts.spoofed ? 3 : 0, bytesToDst: 60, bytesToSrc: opts.spoofed ? 180 : 0,
    };
    out.push(buildFlow(spec, rng));
  }
  return out;
}

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';
const HEX = '0123456789abcdef';

function encoded(rng: SeededRandom, alphabet: string, length: number): string {
  let s = '';
  for (let i = 0; i < length; i++) s += alphabet[rng.int(alphabet.length)];
  return s;
}

/**
 * A DNS tunnel: data in query names under an attacker's domain, TXT/NULL queries, through the
 * office resolver, which forwards every one upstream (they never hit the cache).
 * base32 (iodine-like): two labels of 52 and 10-50 characters. hex (dnscat2-like): two 30-character labels.
 */
export interface DnsTunnelSpec {
  encoding: 'base32' | 'hex';
  queries: number;
  spanMs: number;
  client?: string;
  domain?: string;
}

export function dnsTunnel(rng: SeededRandom, startMs: number, opts: DnsTunnelSpec): FlowRecord[] {
  const client = opts.client ?? (opts.encoding === 'base32' ? N.attack.tunnelClient : N.attack.hexTunnelClient);
  const domain = opts.domain ?? (opts.encoding === 'base32' ? N.attack.tunnelDomain : N.attack.hexTunnelDomain);
  const out: FlowRecord[] = [];
  for (let i = 0; i < opts.queries; i++) {
    const sub = opts.encoding === 'base32'
      ? `${encoded(rng, BASE32, 52)}.${encoded(rng, BASE32, 10 + rng.int(41))}`
      : `${encoded(rng, HEX, 30)}.${encoded(rng, HEX, 30)}`;
    const name = `${sub}.${domain}`;
    const t = startMs + Math.floor((i * opts.spanMs) / opts.queries);
    const l7 = { dnsQuery: name, dnsQueryType: opts.encoding === 'base32' ? 10 : 16, dnsRcode: 0 };
    const q = 54 + name.length + 16;
    const r = q + 60 + rng.int(120);
    const query = { dport: 53, proto: 'udp' as const, packetsToDst: 1, packetsToSrc: 1, bytesToDst: q, bytesToSrc: r, l7 };
    out.push(buildFlow({ ...query, src: client, dst: N.resolver, sport: ephemeralPort(rng), startMs: t, durationMs: 30 + rng.int(60) }, rng));
    const upstream = pick(rng, N.upstreamResolvers);
    out.push(buildFlow({ ...query, src: N.resolver, dst: upstream, sport: ephemeralPort(rng), startMs: t + 1, durationMs: 25 + rng.int(60) }, rng));
  }
  return out;
}

/** An upload of `bytes` to one external address over HTTPS, reported in 60 s active-timeout pieces. */
export function exfiltration(
  rng: SeededRandom,
  startMs: number,
  bytes: number = N.attack.exfilBytes,
  client: string = N.attack.exfilClient,
  dst: string = N.attack.exfilDestination,
): FlowRecord[] {
  const pieces = 4;
  const sport = ephemeralPort(rng);
  const out: FlowRecord[] = [];
  for (let p = 0; p < pieces; p++) {
    const up = Math.round(bytes / pieces);
    const down = Math.round(up / 180);
    const spec = {
      src: client, dst, sport, dport: 443, proto: 'tcp' as const, startMs: startMs + p * 60_000, durationMs: 59_500,
      packetsToDst: Math.round(up / 1450), packetsToSrc: Math.round(up / 1450 / 2), bytesToDst: up, bytesToSrc: down,
      tcp: p === 0 ? ('complete' as const) : ('midstream' as const), endReason: p === pieces - 1 ? ('fin' as const) : ('active' as const),
      l7: { tlsSni: 'files.storage-sync.example' },
    };
    out.push(buildFlow(spec, rng));
  }
  return out;
}

/**
 * Flows far outside ordinary traffic on many features at once, for testing the model: a UDP
 * flood of minimum-size packets in no time, a TCP flow to a high port that is nearly all resets
 * and retransmitted SYNs, a connection to a low port holding jumbo frames for an hour, and a
 * one-way blast of maximum-size frames at microsecond spacing.
 */
export function plantedOutliers(rng: SeededRandom, startMs: number, count: number): FlowRecord[] {
  const out: FlowRecord[] = [];
  for (let i = 0; i < count; i++) {
    const t = startMs + i * 1000;
    const src = `10.0.0.${100 + (i % 20)}`;
    const dst = randomPublicAddress(rng);
    const base = { src, dst, sport: ephemeralPort(rng), startMs: t };
    let flow: FlowRecord;
    switch (i % 4) {
      case 0: {
        const spec = { ...base, dport: 50_000 + rng.int(10_000), proto: 'udp' as const, durationMs: 50,
          packetsToDst: 3_000_000, packetsToSrc: 0, bytesToDst: 3_000_000 * 60, bytesToSrc: 0 };
        flow = buildFlow(spec, rng);
        flow.features = { ...flow.features, pktSizeMin: 60, pktSizeMax: 60, pktSizeStd: 0, iatMinMs: 0, iatMaxMs: 0.001, iatStdMs: 0 };
        break;
      }
      case 1: {
        const spec = { ...base, dport: 61_000 + rng.int(4000), proto: 'tcp' as const, durationMs: 2, tcp: 'reset' as const,
          packetsToDst: 60_000, packetsToSrc: 60_000, bytesToDst: 3_600_000, bytesToSrc: 3_600_000 };
        flow = buildFlow(spec, rng);
        flow.features = { ...flow.features, synCount: 30_000, synAckCount: 0, rstCount: 30_000, payloadBytes: 0 };
        break;
      }
      case 2: {
        const spec = { ...base, dport: 7 + rng.int(10), proto: 'tcp' as const, durationMs: 3_600_000, tcp: 'complete' as const,
          packetsToDst: 2, packetsToSrc: 2, bytesToDst: 18_000, bytesToSrc: 18_000 };
        flow = buildFlow(spec, rng);
        const jumbo = { pktSizeMin: 9000, pktSizeMax: 9000, pktSizeMean: 9000, pktSizeStd: 0, iatMinMs: 1_000_000, iatMaxMs: 1_300_000 };
        flow.features = { ...flow.features, ...jumbo };
        break;
      }
      default: {
        const spec = { ...base, dport: 40_000 + rng.int(9000), proto: 'tcp' as const, durationMs: 100, tcp: 'syn-unanswered' as const,
          packetsToDst: 1_000_000, packetsToSrc: 0, bytesToDst: 1_514_000_000, bytesToSrc: 0 };
        flow = buildFlow(spec, rng);
        flow.features = { ...flow.features, pktSizeMin: 1514, pktSizeMax: 1514, pktSizeStd: 0, synCount: 1, iatMaxMs: 0.001 };
      }
    }
    out.push(flow);
  }
  return out;
}
