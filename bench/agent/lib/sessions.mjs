// What happens on the synthetic network, one generator per kind of session. A session
// yields packets (`pkt(...)`, one reused object) or a pause in microseconds (a number);
// the scheduler in mixed.mjs interleaves thousands of them on one capture clock.
import { Proto, TcpFlag } from './pcap-writer.mjs';
import * as l7 from './l7.mjs';
import { junkName, randomPublicV4 } from './world.mjs';

const { SYN, ACK, FIN, RST, PSH } = TcpFlag;
/** Share of sessions (other than NTP, scans and ARP) that run over IPv6. */
const V6_SHARE = 0.11;
const S = 1_000_000;

/** @typedef {import('./pcap-writer.mjs').Flow} Flow */
/** @typedef {import('./mixed.mjs').Mixed} Mixed */

const spec = { raw: /** @type {Uint8Array | null} */ (null), f: /** @type {Flow} */ (/** @type {unknown} */ (null)), dir: 0, flags: 0, head: /** @type {Uint8Array | null} */ (null), fill: 0 };

/** @param {Flow} f @param {number} dir @param {number} flags @param {Uint8Array | null} head @param {number} fill */
function pkt(f, dir, flags, head, fill) {
  spec.raw = null;
  spec.f = f;
  spec.dir = dir;
  spec.flags = flags;
  spec.head = head;
  spec.fill = fill;
  return spec;
}

function raw(frame) {
  spec.raw = frame;
  return spec;
}

function concat(a, b) {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

function* handshake(f) {
  yield pkt(f, 0, SYN, null, 0);
  yield pkt(f, 1, SYN | ACK, null, 0);
  yield pkt(f, 0, ACK, null, 0);
}

/**
 * `total` bytes from `dir` in full-sized segments, the peer acknowledging every second
 * one. `head(seg, n)` gives the leading bytes of segment `seg` of `n` bytes (or null).
 */
function* send(f, dir, total, head) {
  const mss = f.v6 ? 1428 : 1448;
  for (let seg = 0; total > 0; seg++) {
    const n = Math.min(mss, total);
    total -= n;
    const h = head ? head(seg, n) : null;
    yield pkt(f, dir, total === 0 ? PSH | ACK : ACK, h, n - (h ? h.length : 0));
    if (seg % 2 === 1 || total === 0) yield pkt(f, 1 - dir, ACK, null, 0);
  }
}

/** FIN (most), RST, or nothing at all: an abandoned connection ends by idle timeout. */
function* close(m, f) {
  const r = m.rng.float();
  const first = m.rng.chance(0.6) ? 0 : 1;
  if (r < 0.78) {
    yield pkt(f, first, FIN | ACK, null, 0);
    if (m.rng.chance(0.3)) yield pkt(f, 1 - first, ACK, null, 0);
    yield pkt(f, 1 - first, FIN | ACK, null, 0);
    yield pkt(f, first, ACK, null, 0);
  } else if (r < 0.95) {
    yield pkt(f, first, RST | ACK, null, 0);
  }
}

const tlsRecord = (seg, n) => l7.tlsRecordHeader(n - 5);

/** `total`, nudged so that no segment is too short to hold a TLS record header. */
function tlsTotal(f, total) {
  const tail = total % (f.v6 ? 1428 : 1448);
  return tail > 0 && tail < 8 ? total + 8 : total;
}

/** A name lookup over UDP: query, then (nearly always) the answer. */
export function* dnsLookup(m, client, name, qtype, v6) {
  const { rng, world } = m;
  m.count.dnsQueries++;
  const f = m.flow(Proto.UDP, client, rng.pick(v6 ? world.resolversV6 : world.resolversV4), 53, v6);
  const id = rng.int(0x10000);
  yield pkt(f, 0, 0, l7.dnsQuery(id, name, qtype), 0);
  if (rng.chance(0.01)) return;
  yield rng.range(2000, 40_000);
  const site = m.siteByName.get(name);
  const addrs = !site ? [] : qtype === l7.DnsType.A ? site.v4 : qtype === l7.DnsType.AAAA ? site.v6 : [];
  const rcode = site ? l7.DnsRcode.NOERROR : l7.DnsRcode.NXDOMAIN;
  const cname = addrs.length ? site?.cname : undefined;
  yield pkt(f, 1, 0, l7.dnsResponse(id, name, qtype, rcode, { cname, ttlS: rng.pick([30, 60, 300, 3600]), addrs }), 0);
}

export function* dnsSession(m) {
  const { rng, world } = m;
  const client = world.pickClient(rng);
  const v6 = rng.chance(V6_SHARE);
  const r = rng.float();
  if (r < 0.06) {
    yield* dnsLookup(m, client, junkName(rng), l7.DnsType.A, v6);
  } else {
    const name = world.pickSite(rng).name;
    const qtype = r < 0.6 ? l7.DnsType.A : r < 0.9 ? l7.DnsType.AAAA : l7.DnsType.HTTPS;
    yield* dnsLookup(m, client, name, qtype, v6);
  }
}

/** HTTPS: lookup, handshake, ClientHello (SNI, ALPN), server flight, request/response rounds. */
export function* tlsSession(m) {
  const { rng, world } = m;
  const client = world.pickClient(rng);
  const v6 = rng.chance(V6_SHARE);
  const site = world.pickSite(rng);
  if (rng.chance(0.5)) yield* dnsLookup(m, client, site.name, v6 ? l7.DnsType.AAAA : l7.DnsType.A, v6);
  const f = m.flow(Proto.TCP, client, rng.pick(v6 ? site.v6 : site.v4), 443, v6);
  yield* handshake(f);
  m.count.tlsClientHellos++;
  yield pkt(f, 0, PSH | ACK, l7.tlsClientHello(rng, site.name, rng.chance(0.7) ? ['h2', 'http/1.1'] : ['http/1.1']), 0);
  yield pkt(f, 1, ACK, null, 0);
  const hello = l7.tlsServerHello(rng);
  yield* send(f, 1, tlsTotal(f, rng.range(2600, 5200)), (seg, n) => (seg === 0 ? concat(hello, l7.tlsRecordHeader(n - hello.length - 5)) : tlsRecord(seg, n)));
  for (let round = rng.range(1, 6); round > 0; round--) {
    yield* send(f, 0, rng.range(120, 900), tlsRecord);
    yield* send(f, 1, tlsTotal(f, Math.round(rng.pareto(400, 1.15, 8_000_000))), tlsRecord);
    if (rng.chance(0.05)) yield rng.range(1, 40) * S; // keep-alive: idle, then reused
  }
  yield* close(m, f);
}

/** Plain HTTP/1.1 with a Host header: GET (or POST with a body), response, keep-alive rounds. */
export function* httpSession(m) {
  const { rng, world } = m;
  const client = world.pickClient(rng);
  const v6 = rng.chance(V6_SHARE);
  const site = world.pickSite(rng);
  if (rng.chance(0.6)) yield* dnsLookup(m, client, site.name, v6 ? l7.DnsType.AAAA : l7.DnsType.A, v6);
  const f = m.flow(Proto.TCP, client, rng.pick(v6 ? site.v6 : site.v4), 80, v6);
  yield* handshake(f);
  const ua = rng.pick(world.userAgents);
  for (let round = rng.range(1, 4); round > 0; round--) {
    const upload = rng.chance(0.1) ? Math.round(rng.pareto(200, 1.2, 4_000_000)) : 0;
    const req = l7.httpRequest(upload ? 'POST' : 'GET', site.name, rng.pick(world.paths), ua, upload);
    m.count.httpRequests++;
    yield* send(f, 0, req.length + upload, (seg) => (seg === 0 ? req : null));
    const status = rng.pick([200, 200, 200, 200, 200, 304, 404, 302]);
    const body = status === 200 ? Math.round(rng.pareto(300, 1.15, 8_000_000)) : status === 404 ? 153 : 0;
    const header = l7.httpResponseHeader(status, body);
    yield* send(f, 1, header.length + body, (seg) => (seg === 0 ? header : null));
  }
  yield* close(m, f);
}

/** QUIC-sized UDP/443 datagrams (short-header, protected), ending by idle timeout. */
export function* quicSession(m) {
  const { rng, world } = m;
  const client = world.pickClient(rng);
  const v6 = rng.chance(V6_SHARE * 1.5);
  const site = world.pickSite(rng);
  if (rng.chance(0.4)) yield* dnsLookup(m, client, site.name, l7.DnsType.HTTPS, v6);
  const f = m.flow(Proto.UDP, client, rng.pick(v6 ? site.v6 : site.v4), 443, v6);
  // Short header: 0b01xxxxxx, then the peer's 8-byte connection id. The id's first byte
  // avoids 0x4_, which makes tshark's COTP heuristic claim the datagram.
  const cid = [rng.fill(new Uint8Array(9)), rng.fill(new Uint8Array(9))];
  for (const c of cid) {
    c[0] = 0x40 | (c[0] & 0x3f);
    if ((c[1] & 0xf0) === 0x40) c[1] ^= 0x80;
  }
  for (let round = rng.range(1, 4); round > 0; round--) {
    yield pkt(f, 0, 0, cid[0], rng.range(30, 400));
    const n = Math.round(rng.pareto(2, 1.2, 4000));
    for (let i = 1; i <= n; i++) {
      yield pkt(f, 1, 0, cid[1], rng.range(1190, 1340));
      if (i % 3 === 0 || i === n) yield pkt(f, 0, 0, cid[0], rng.range(24, 60));
    }
    if (rng.chance(0.1)) yield rng.range(2, 25) * S;
  }
}

/** NTPv4: one to four client/server exchanges (iburst), two seconds apart. */
export function* ntpSession(m) {
  const { rng, world } = m;
  const server = rng.pick(world.ntpServers);
  const f = m.flow(Proto.UDP, world.pickClient(rng), rng.pick(server.v4), 123, false);
  if (rng.chance(0.5)) f.ports[0] = 123;
  for (let i = rng.range(1, 4); i > 0; i--) {
    const sentUs = m.nowUs;
    yield pkt(f, 0, 0, l7.ntpRequest(sentUs), 0);
    yield rng.range(5000, 60_000);
    yield pkt(f, 1, 0, l7.ntpReply(sentUs, m.nowUs, 0xc0a80001), 0);
    if (i > 1) yield 2 * S;
  }
}

/** ping: echo requests a second apart, replies unless the target is down. */
export function* pingSession(m) {
  const { rng, world } = m;
  const v6 = rng.chance(0.25);
  const site = world.pickSite(rng);
  const f = m.flow(v6 ? Proto.ICMPV6 : Proto.ICMP, world.pickClient(rng), rng.pick(v6 ? site.v6 : site.v4), 0, v6);
  const id = rng.int(0x10000);
  const down = rng.chance(0.1);
  const [req, rep] = v6 ? [128, 129] : [8, 0];
  for (let seq = 1, n = rng.range(1, 10); seq <= n; seq++) {
    yield pkt(f, 0, 0, l7.icmpEcho(req, id, seq, m.nowUs), 0);
    if (!down) {
      yield rng.range(3000, 80_000);
      yield pkt(f, 1, 0, l7.icmpEcho(rep, id, seq, m.nowUs), 0);
    }
    if (seq < n) yield S;
  }
}

/** A connection that fails: refused (RST) or unanswered SYNs retried after 1 s and 2 s. */
export function* failedTcpSession(m) {
  const { rng, world } = m;
  const v6 = rng.chance(V6_SHARE);
  const site = world.pickSite(rng);
  const f = m.flow(Proto.TCP, world.pickClient(rng), rng.pick(v6 ? site.v6 : site.v4), rng.pick([443, 22, 3389, 8443, 25]), v6);
  yield pkt(f, 0, SYN, null, 0);
  if (rng.chance(0.5)) {
    yield rng.range(5000, 60_000);
    yield pkt(f, 1, RST | ACK, null, 0);
    return;
  }
  for (const waitS of [1, 2]) {
    yield waitS * S;
    f.seq[0] = (f.seq[0] - 1) >>> 0; // a retransmission reuses the sequence number
    yield pkt(f, 0, SYN, null, 0);
  }
}

/** Bulk transfer to a LAN file server (backups): long, full-sized segments. */
export function* bulkSession(m) {
  const { rng, world } = m;
  const f = m.flow(Proto.TCP, world.pickClient(rng), world.fileServer.v4, 8443, false, world.fileServer.mac);
  f.ttl[1] = 64;
  yield* handshake(f);
  yield* send(f, 0, Math.round(rng.pareto(200_000, 1.3, 30_000_000)), null);
  yield* close(m, f);
}

/** An internet host probing a LAN host's ports: SYN, then RST (closed) or SYN-ACK (open). */
export function* scanSession(m) {
  const { rng, world } = m;
  const scanner = { mac: world.routerMac, v4: randomPublicV4(rng), v6: world.routerV4, vlan: 0 };
  const target = world.pickClient(rng);
  const sport = rng.range(40_000, 60_000);
  for (let i = rng.range(20, 120); i > 0; i--) {
    const f = m.flow(Proto.TCP, scanner, target.v4, rng.range(1, 10_000), false, target.mac);
    f.ports[0] = sport;
    f.vlan = target.vlan;
    yield pkt(f, 0, SYN, null, 0);
    if (rng.chance(0.95)) yield pkt(f, 1, RST | ACK, null, 0);
    else {
      yield pkt(f, 1, SYN | ACK, null, 0);
      yield pkt(f, 0, RST, null, 0);
    }
    yield rng.range(500, 20_000);
  }
}

/** The router asks for a LAN host's MAC address (non-IP frames). */
export function* arpSession(m) {
  const { rng, world } = m;
  const c = world.pickClient(rng);
  yield raw(l7.arpFrame(1, world.routerMac, world.routerV4, c.mac, c.v4));
  yield rng.range(100, 2000);
  yield raw(l7.arpFrame(2, c.mac, c.v4, world.routerMac, world.routerV4));
}
