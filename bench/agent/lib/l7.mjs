// Application payloads in their real wire formats: DNS, TLS ClientHello/ServerHello and
// records, HTTP/1.1, NTP, ICMP echo and ARP. Small builders, called once per message.

export const DnsType = { A: 1, CNAME: 5, PTR: 12, TXT: 16, AAAA: 28, HTTPS: 65 };
export const DnsRcode = { NOERROR: 0, NXDOMAIN: 3 };

/** Growable byte sink for building messages. */
class Bytes {
  constructor() {
    /** @type {number[]} */
    this.a = [];
  }
  u8(v) {
    this.a.push(v & 0xff);
    return this;
  }
  u16(v) {
    this.a.push((v >>> 8) & 0xff, v & 0xff);
    return this;
  }
  u24(v) {
    this.a.push((v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);
    return this;
  }
  u32(v) {
    this.a.push((v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);
    return this;
  }
  bytes(v) {
    for (let i = 0; i < v.length; i++) this.a.push(v[i]);
    return this;
  }
  ascii(s) {
    for (let i = 0; i < s.length; i++) this.a.push(s.charCodeAt(i) & 0xff);
    return this;
  }
  get length() {
    return this.a.length;
  }
  /** Overwrites a big-endian length field at `at` (2 or 3 bytes). */
  patch(at, width, v) {
    for (let i = width - 1; i >= 0; i--, v >>>= 8) this.a[at + i] = v & 0xff;
    return this;
  }
  done() {
    return Uint8Array.from(this.a);
  }
}

/** @param {Bytes} b @param {string} name */
function dnsName(b, name) {
  for (const label of name.split('.')) if (label) b.u8(label.length).ascii(label);
  b.u8(0);
}

function ednsOpt(b) {
  b.u8(0).u16(41).u16(1232).u32(0).u16(0);
}

/** A recursive query with EDNS(0), as stub resolvers send it. */
export function dnsQuery(id, name, qtype) {
  const b = new Bytes().u16(id).u16(0x0120).u16(1).u16(0).u16(0).u16(1);
  dnsName(b, name);
  b.u16(qtype).u16(1);
  ednsOpt(b);
  return b.done();
}

/**
 * The answer to `dnsQuery(id, name, qtype)`: an optional CNAME, then address records
 * pointing back at the name (compression pointers, as real servers write them).
 * @param {number} id @param {string} name @param {number} qtype @param {number} rcode
 * @param {{ cname?: string, ttlS: number, addrs: Uint8Array[] }} ans
 */
export function dnsResponse(id, name, qtype, rcode, ans) {
  const count = rcode === DnsRcode.NOERROR ? ans.addrs.length + (ans.cname ? 1 : 0) : 0;
  const b = new Bytes().u16(id).u16(0x8180 | rcode).u16(1).u16(count).u16(0).u16(1);
  dnsName(b, name);
  b.u16(qtype).u16(1);
  if (count) {
    let owner = 0xc00c;
    if (ans.cname) {
      b.u16(owner).u16(DnsType.CNAME).u16(1).u32(ans.ttlS);
      const lenAt = b.length;
      b.u16(0);
      owner = 0xc000 | b.length;
      dnsName(b, ans.cname);
      b.patch(lenAt, 2, b.length - lenAt - 2);
    }
    for (const addr of ans.addrs) b.u16(owner).u16(qtype).u16(1).u32(ans.ttlS).u16(addr.length).bytes(addr);
  }
  ednsOpt(b);
  return b.done();
}

const CIPHER_SUITES = [
  0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f,
  0x0035,
];
const SIG_ALGS = [0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601];

/**
 * A TLS 1.3 ClientHello record with SNI and ALPN, padded to 512 bytes like browsers do.
 * @param {import('./rng.mjs').Rng} rng @param {string} sni @param {string[]} alpn
 */
export function tlsClientHello(rng, sni, alpn) {
  const b = new Bytes().u8(0x16).u16(0x0301).u16(0);
  b.u8(1).u24(0);
  const hsStart = b.length;
  b.u16(0x0303).bytes(rng.fill(new Uint8Array(32)));
  b.u8(32).bytes(rng.fill(new Uint8Array(32)));
  b.u16(CIPHER_SUITES.length * 2);
  for (const c of CIPHER_SUITES) b.u16(c);
  b.u8(1).u8(0);
  const extAt = b.length;
  b.u16(0);
  const ext = (type, body) => {
    b.u16(type);
    const at = b.length;
    b.u16(0);
    body();
    b.patch(at, 2, b.length - at - 2);
  };
  ext(0, () => b.u16(sni.length + 3).u8(0).u16(sni.length).ascii(sni));
  ext(23, () => {});
  ext(0xff01, () => b.u8(0));
  ext(10, () => b.u16(8).u16(0x001d).u16(0x0017).u16(0x0018).u16(0x0019));
  ext(11, () => b.u8(1).u8(0));
  ext(35, () => {});
  ext(16, () => {
    const at = b.length;
    b.u16(0);
    for (const p of alpn) b.u8(p.length).ascii(p);
    b.patch(at, 2, b.length - at - 2);
  });
  ext(5, () => b.u8(1).u16(0).u16(0));
  ext(13, () => {
    b.u16(SIG_ALGS.length * 2);
    for (const s of SIG_ALGS) b.u16(s);
  });
  ext(18, () => {});
  ext(51, () => b.u16(36).u16(0x001d).u16(32).bytes(rng.fill(new Uint8Array(32))));
  ext(45, () => b.u8(1).u8(1));
  ext(43, () => b.u8(4).u16(0x0304).u16(0x0303));
  const unpadded = b.length - hsStart + 4; // 4: the padding extension's own header
  const pad = Math.max(0, 512 - unpadded);
  ext(21, () => b.bytes(new Uint8Array(pad)));
  b.patch(extAt, 2, b.length - extAt - 2);
  b.patch(hsStart - 3, 3, b.length - hsStart);
  b.patch(3, 2, b.length - 5);
  return b.done();
}

/** ServerHello (TLS 1.3, x25519) followed by the middlebox-compatibility ChangeCipherSpec. */
export function tlsServerHello(rng) {
  const b = new Bytes().u8(0x16).u16(0x0303).u16(0);
  b.u8(2).u24(0);
  const hsStart = b.length;
  b.u16(0x0303).bytes(rng.fill(new Uint8Array(32)));
  b.u8(32).bytes(rng.fill(new Uint8Array(32)));
  b.u16(0x1301).u8(0);
  b.u16(46);
  b.u16(43).u16(2).u16(0x0304);
  b.u16(51).u16(36).u16(0x001d).u16(32).bytes(rng.fill(new Uint8Array(32)));
  b.patch(hsStart - 3, 3, b.length - hsStart);
  b.patch(3, 2, b.length - 5);
  b.u8(0x14).u16(0x0303).u16(1).u8(1);
  return b.done();
}

/** Header of an application-data record whose body (`bodyLen` opaque bytes) follows. */
export function tlsRecordHeader(bodyLen) {
  return Uint8Array.of(0x17, 0x03, 0x03, bodyLen >>> 8, bodyLen & 0xff);
}

/** @param {string} method @param {string} host @param {string} path @param {string} ua @param {number} bodyLen */
export function httpRequest(method, host, path, ua, bodyLen) {
  let s = `${method} ${path} HTTP/1.1\r\nHost: ${host}\r\nUser-Agent: ${ua}\r\nAccept: */*\r\nAccept-Encoding: gzip, deflate\r\nConnection: keep-alive\r\n`;
  if (bodyLen > 0) s += `Content-Type: application/octet-stream\r\nContent-Length: ${bodyLen}\r\n`;
  return Buffer.from(`${s}\r\n`, 'latin1');
}

/** Response header for `bodyLen` opaque body bytes that follow it. */
export function httpResponseHeader(status, bodyLen) {
  const reason = status === 200 ? 'OK' : status === 304 ? 'Not Modified' : status === 404 ? 'Not Found' : 'Found';
  const s =
    `HTTP/1.1 ${status} ${reason}\r\nServer: nginx\r\nDate: Mon, 02 Nov 2026 09:00:00 GMT\r\n` +
    `Content-Type: application/octet-stream\r\nContent-Length: ${bodyLen}\r\nConnection: keep-alive\r\n\r\n`;
  return Buffer.from(s, 'latin1');
}

const NTP_EPOCH_OFFSET_S = 2_208_988_800;

function ntpTime(b, tsUs) {
  const sec = Math.floor(tsUs / 1e6);
  b.u32(sec + NTP_EPOCH_OFFSET_S).u32(Math.floor(((tsUs - sec * 1e6) / 1e6) * 4294967296));
}

/** NTPv4 client request (mode 3). */
export function ntpRequest(tsUs) {
  const b = new Bytes().u8(0x23).u8(0).u8(6).u8(0xec).u32(0).u32(0).u32(0);
  b.u32(0).u32(0).u32(0).u32(0).u32(0).u32(0);
  ntpTime(b, tsUs);
  return b.done();
}

/** NTPv4 server reply (mode 4, stratum 2) to a request sent at `requestUs`. */
export function ntpReply(requestUs, tsUs, refId) {
  const b = new Bytes().u8(0x24).u8(2).u8(6).u8(0xe9).u32(0x00000a00).u32(0x00001200).u32(refId);
  ntpTime(b, tsUs - 16_000_000);
  ntpTime(b, requestUs);
  ntpTime(b, tsUs - 40);
  ntpTime(b, tsUs - 20);
  return b.done();
}

/**
 * ICMP (or ICMPv6) echo message as Linux ping sends it: 56 data bytes, a 16-byte
 * timeval then a 0x10.. pattern. The checksum is left zero for the frame writer.
 */
export function icmpEcho(type, id, seq, tsUs) {
  const b = new Bytes().u8(type).u8(0).u16(0).u16(id).u16(seq);
  const sec = Math.floor(tsUs / 1e6);
  const usec = tsUs - sec * 1e6;
  b.bytes([sec & 0xff, (sec >>> 8) & 0xff, (sec >>> 16) & 0xff, (sec >>> 24) & 0xff, 0, 0, 0, 0]);
  b.bytes([usec & 0xff, (usec >>> 8) & 0xff, (usec >>> 16) & 0xff, 0, 0, 0, 0, 0]);
  for (let i = 0x10; i < 0x38; i++) b.u8(i);
  return b.done();
}

/** ARP request (op 1, broadcast) or reply (op 2) as an Ethernet frame. */
export function arpFrame(op, srcMac, srcIp, dstMac, dstIp) {
  const b = new Bytes();
  b.bytes(op === 1 ? [0xff, 0xff, 0xff, 0xff, 0xff, 0xff] : dstMac).bytes(srcMac).u16(0x0806);
  b.u16(1).u16(0x0800).u8(6).u8(4).u16(op);
  b.bytes(srcMac).bytes(srcIp).bytes(op === 1 ? [0, 0, 0, 0, 0, 0] : dstMac).bytes(dstIp);
  return b.done();
}
