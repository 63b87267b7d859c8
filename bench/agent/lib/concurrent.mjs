// The concurrent capture: N distinct 5-tuples opened within about two seconds, then
// every one of them answered (in a scattered order) within two more, so the whole set is
// live in a flow table at once and none idles out (UDP idle timeout 15 s).
import { Proto, TcpFlag } from './pcap-writer.mjs';
import { START_US } from './mixed.mjs';
import { v6Addr } from './world.mjs';

const PASS_US = 2_000_000;
const GAP_US = 500_000;
const SERVERS = 997;

/**
 * Flow `i` (a pure function of `i`, so both passes agree without storing a million flows):
 * 80% IPv4 UDP/443, 15% IPv4 TCP/443 (SYN, then SYN-ACK), 5% IPv6 UDP/443.
 * @param {import('./pcap-writer.mjs').Flow} f reused
 */
function describe(f, i) {
  const kind = (Math.imul(i, 0x9e3779b1) >>> 0) % 100;
  f.v6 = kind >= 95;
  f.proto = kind >= 80 && kind < 95 ? Proto.TCP : Proto.UDP;
  const client = (i >>> 4) + 1;
  const server = (i % SERVERS) + 1;
  if (f.v6) {
    f.ips[0] = v6Addr([0x2001, 0x0db8, 0x00c0, 0, 0, 0, client >>> 16, client & 0xffff]);
    f.ips[1] = v6Addr([0x2001, 0x0db8, 0x0198, 0x0018, 0, 0, 0, server]);
  } else {
    f.ips[0] = Uint8Array.of(10, 64 + (client >>> 16), (client >>> 8) & 0xff, client & 0xff);
    f.ips[1] = Uint8Array.of(198, 18, server >>> 8, server & 0xff); // RFC 2544 benchmarking range
  }
  f.ports[0] = 40_000 + (i & 15);
  f.seq[0] = Math.imul(i, 2_654_435_761) >>> 0;
  f.seq[1] = Math.imul(i ^ 0x5bd1e995, 2_246_822_519) >>> 0;
  f.flowLabel = i & 0xfffff;
}

/**
 * @param {import('./pcap-writer.mjs').PcapWriter} w
 * @param {number} flows
 */
export function runConcurrent(w, flows) {
  /** @type {import('./pcap-writer.mjs').Flow} */
  const f = {
    v6: false,
    proto: Proto.UDP,
    vlan: 0,
    macs: [Uint8Array.of(0x02, 0, 0x0a, 0x40, 0, 1), Uint8Array.of(0x00, 0x1a, 0x2b, 0x3c, 0x4d, 0x5e)],
    ips: [new Uint8Array(4), new Uint8Array(4)],
    ports: [0, 443],
    ttl: [64, 52],
    ipId: [1, 1],
    seq: [0, 0],
    tsBase: [1000, 7000],
    tsLast: [0, 0],
    win: [502, 501],
    flowLabel: 0,
  };
  const head = [Uint8Array.of(0x41, 1, 2, 3, 4, 5, 6, 7, 8), Uint8Array.of(0x43, 8, 7, 6, 5, 4, 3, 2, 1)];
  // Pass 1: every flow's first packet, in order.
  for (let i = 0; i < flows; i++) {
    describe(f, i);
    const ts = START_US + Math.floor((i * PASS_US) / flows);
    if (f.proto === Proto.TCP) w.packet(ts, f, 0, TcpFlag.SYN, null, 0);
    else w.packet(ts, f, 0, 0, head[0], 20 + (i % 61));
  }
  // Pass 2: every flow's answer, in a scattered order (a stride coprime with `flows`).
  const stride = coprimeStride(flows);
  for (let k = 0; k < flows; k++) {
    const i = (k * stride) % flows;
    describe(f, i);
    f.seq[0] = (f.seq[0] + 1) >>> 0; // the SYN took one sequence number
    const ts = START_US + PASS_US + GAP_US + Math.floor((k * PASS_US) / flows);
    if (f.proto === Proto.TCP) w.packet(ts, f, 1, TcpFlag.SYN | TcpFlag.ACK, null, 0);
    else w.packet(ts, f, 1, 0, head[1], 40 + (i % 97));
  }
}

function coprimeStride(n) {
  const gcd = (a, b) => (b === 0 ? a : gcd(b, a % b));
  let s = 999_983;
  while (gcd(s, n) !== 1) s += 2;
  return s % n || 1;
}
