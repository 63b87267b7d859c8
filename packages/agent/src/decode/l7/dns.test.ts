import { Buffer } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { parseDns } from './dns.js';
import type { DnsHint } from './dns.js';
import { guarded, prng } from '../../../test-support/guards.js';

function hex(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s, 'hex'));
}

// UDP and TCP payloads from the tcpdump corpus (../shared/corpus/tcpdump/). The expected
// values are tshark's dns.qry.name, dns.qry.type, dns.flags.response and dns.flags.rcode.
/** dns_udp.pcap #1: query www.tcpdump.org A, with an OPT record. */
const UDP_QUERY = hex('593401200001000000000001037777770774637064756d70036f72670000010001000029100000000000000c000a000842f5d00996f90b13');
/** dns_udp.pcap #2: its response, answers and authority compressed against the question. */
const UDP_RESPONSE = hex(
  '593485000001000200020005037777770774637064756d70036f72670000010001c00c000100010000003c0004c08b2e42c00c000100010000003c' +
  '0004c6c75868c0100002000100015180001203736e7308636f6f7065726978036e657400c01000020001000151800012036e69630973616e64656c' +
  '6d616e02636100c06b000100010000012c0004d157f912c06b001c00010000012c00102607f0b0000f000000000000babef00dc04d00010001000' +
  '01c200004616b850fc04d001c000100001c20001026003c0300000000f03c91fffe96e8ef0000291000000000000000',
);
/** dns_tcp.pcap #4: query www.tcpdump.org A over TCP, with the 2-byte length prefix. */
const TCP_QUERY = hex('0038431901200001000000000001037777770774637064756d70036f72670000010001000029100000000000000c000a00088f06be7d691442f0');
/** dns_tcp.pcap #6: its response over TCP. */
const TCP_RESPONSE = hex(
  '00e0431985000001000200020005037777770774637064756d70036f72670000010001c00c000100010000003c0004c08b2e42c00c000100010000' +
  '003c0004c6c75868c01000020001000151800012036e69630973616e64656c6d616e02636100c0100002000100015180001203736e7308636f6f70' +
  '65726978036e657400c04d000100010000012c0004d157f912c04d001c00010000012c00102607f0b0000f000000000000babef00dc06b00010001' +
  '00001c200004616b850fc06b001c000100001c20001026003c0300000000f03c91fffe96e8ef0000291000000000000000',
);
/** dns-uri.pcap #4: NXDOMAIN for _ftp.dns.test URI (type 256). */
const URI_NXDOMAIN = hex(
  '656585830001000000010001045f66747003646e7304746573740001000001c0150006000100002a30002f096c6f63616c686f737400066e6f626f' +
  '647907696e76616c6964000000000100000e10000004b000093a8000002a300000291000000000000000',
);
/** dns-badcookie.pcap #2: response for the root SOA, header RCODE 7 (BADCOOKIE's low bits). */
const ROOT_BADCOOKIE = hex('f6ab818700010000000000010000060001000029100001000000001c000a001836bf111fef2e01097d8ffe065c636ffb142d767494407a73');
/** dnssec.pcap #1: query monadic.cynic.net SSHFP (type 44). */
const DNSSEC_QUERY = hex('51ec01000001000000000001076d6f6e616469630563796e6963036e657400002c00010000291000000080000000');
/** dns-zlip-1.pcap: the question is a pointer to itself. */
const ZLIP_SELF_POINTER = hex('ed6900000001000000000000c00cc007c010c017c020c027c030c0ffcf000000010001');
/** dns-zlip-2.pcap: the question starts with a forward pointer. */
const ZLIP_FORWARD_POINTER = hex('4a3000000001000000000000c00ec00cc010c017c020c027c030c0ffcf000000010001');
/** dns-zlip-3.pcap: a 62-byte label, then a pointer back to it: an endless name. */
const ZLIP_LABEL_LOOP = hex(
  'ffcb000000010000000000003e746869736c6565746f737472696e6777696c6c6372617368796f75726c6974746c656e616d6573657276657266' +
  '6f72737572656861686168616861686168c00cc00cc00cc00cc00cc00cc00cc00cc00cc00cc00cc00cc00cc00cc00c',
);
/** dns-badlabel.pcap (first 48 of 63,173 bytes): opcode 15, QDCOUNT 64259. */
const BADLABEL = hex('c980ffeffb0301fb0301fb0301fb0301fb0301fb0301fb0301fb0200fb0301fb0301fb0301fb0301fb2003fb0301fb03');

const REAL: [name: string, bytes: Uint8Array, tcp: boolean, expected: DnsHint][] = [
  ['udp query', UDP_QUERY, false, { isResponse: false, query: 'www.tcpdump.org', queryType: 1, rcode: 0 }],
  ['udp response', UDP_RESPONSE, false, { isResponse: true, query: 'www.tcpdump.org', queryType: 1, rcode: 0 }],
  ['tcp query', TCP_QUERY, true, { isResponse: false, query: 'www.tcpdump.org', queryType: 1, rcode: 0 }],
  ['tcp response', TCP_RESPONSE, true, { isResponse: true, query: 'www.tcpdump.org', queryType: 1, rcode: 0 }],
  ['nxdomain', URI_NXDOMAIN, false, { isResponse: true, query: '_ftp.dns.test', queryType: 256, rcode: 3 }],
  ['root', ROOT_BADCOOKIE, false, { isResponse: true, query: '.', queryType: 6, rcode: 7 }],
  ['dnssec', DNSSEC_QUERY, false, { isResponse: false, query: 'monadic.cynic.net', queryType: 44, rcode: 0 }],
];

const u16 = (n: number): number[] => [(n >> 8) & 0xff, n & 0xff];
const ascii = (s: string): number[] => [...s].map((c) => c.charCodeAt(0));
/** Wire-format name from labels, root label included. */
const name = (...labels: (string | number[])[]): number[] => [
  ...labels.flatMap((l) => {
    const b = typeof l === 'string' ? ascii(l) : l;
    return [b.length, ...b];
  }),
  0,
];
const A_IN = [0, 1, 0, 1];

/** A DNS message: header with the given flags and QDCOUNT, then `question` bytes. */
function message(question: number[], flags = 0x0100, qdcount = 1): Uint8Array {
  return new Uint8Array([0x12, 0x34, ...u16(flags), ...u16(qdcount), 0, 0, 0, 0, 0, 0, ...question]);
}

const parse = (b: Uint8Array, tcp = false): DnsHint | null => parseDns(b, 0, b.length, tcp);

describe('dns', () => {
  it.each(REAL)('dns - parses a real %s as tshark does', (_name, bytes, tcp, expected) => {
    expect(parse(bytes, tcp)).toEqual(expected);
  });

  it('dns - takes the first question name from a response', () => {
    const second = name('second', 'example');
    const msg = message([...name('First', 'example'), ...A_IN, ...second, 0, 28, 0, 1], 0x8180, 2);
    expect(parse(msg)).toEqual({ isResponse: true, query: 'first.example', queryType: 1, rcode: 0 });
  });

  it('dns - reads only [off, end) of a larger buffer', () => {
    const buf = new Uint8Array(UDP_QUERY.length + 30).fill(0xc0);
    buf.set(UDP_QUERY, 9);
    const end = 9 + UDP_QUERY.length;
    expect(parseDns(guarded(buf, 9, end), 9, end, false)).toEqual(REAL[0][3]);
  });

  it('dns - a TCP length prefix bounds the message and must cover a header', () => {
    const two = new Uint8Array([...TCP_QUERY, ...TCP_QUERY]);
    expect(parse(two, true)?.query).toBe('www.tcpdump.org');
    expect(parse(TCP_QUERY.subarray(0, 2), true)).toBeNull(); // length sent in its own segment
    expect(parse(new Uint8Array([0, 11, ...UDP_QUERY]), true)).toBeNull();
    // A prefix shorter than the question cuts it off.
    expect(parse(new Uint8Array([0, 20, ...UDP_QUERY]), true)).toBeNull();
  });

  it('dns - rejects the corpus compression loops and forward pointers', () => {
    expect(parse(ZLIP_SELF_POINTER)).toBeNull();
    expect(parse(ZLIP_FORWARD_POINTER)).toBeNull();
    expect(parse(ZLIP_LABEL_LOOP)).toBeNull();
    expect(parse(BADLABEL)).toBeNull();
  });

  it('dns - rejects a compression pointer loop, a pointer past the end and a cut pointer', () => {
    expect(parse(message([1, 0x61, 0xc0, 12, ...A_IN]))).toBeNull(); // a -> itself, forever
    expect(parse(message([1, 0x61, 0xc0, 0xff, ...A_IN]))).toBeNull(); // past the end
    expect(parse(message([1, 0x61, 0xff, 0xff, ...A_IN]))).toBeNull(); // far past the end
    expect(parse(message([1, 0x61, 0xc0, 2, ...A_IN]))).toBeNull(); // into the header
    expect(parse(message([1, 0x61, 0xc0]))).toBeNull(); // cut mid-pointer
  });

  it('dns - follows a backward compression pointer', () => {
    // One label holding "\3com\0", then a pointer to the "\3com\0" inside it.
    const msg = message([5, 3, 0x63, 0x6f, 0x6d, 0, 0xc0, 13, 0, 16, 0, 1]);
    expect(parse(msg)).toEqual({ isResponse: false, query: '\\003com\\000.com', queryType: 16, rcode: 0 });
  });

  it('dns - rejects label lengths of 64 and more (extended and reserved label types)', () => {
    for (const len of [64, 0x41, 0x7f, 0x80, 0xbf]) {
      expect(parse(message([len, ...new Array<number>(len & 0x3f).fill(0x61), 0, ...A_IN]))).toBeNull();
    }
    expect(parse(message([...name('x'.repeat(63), 'com'), ...A_IN]))?.query).toBe(`${'x'.repeat(63)}.com`);
  });

  it('dns - accepts names up to 255 bytes on the wire and no longer', () => {
    const l63 = 'a'.repeat(63);
    const max = name(l63, l63, l63, 'b'.repeat(61)); // 3 * 64 + 62 + 1 = 255
    expect(max.length).toBe(255);
    expect(parse(message([...max, ...A_IN]))?.query).toBe(`${l63}.${l63}.${l63}.${'b'.repeat(61)}`);
    expect(parse(message([...name(l63, l63, l63, 'b'.repeat(62)), ...A_IN]))).toBeNull();
  });

  it('dns - lower-cases names and escapes other bytes as dig does', () => {
    expect(parse(message([...name('WwW', 'ExAmPlE', 'CoM'), ...A_IN]))?.query).toBe('www.example.com');
    const odd = parse(message([...name([0x41, 0x00, 0x20, 0x2e, 0x5c, 0x7f, 0xff, 0x5f], 'x'), ...A_IN]))?.query;
    expect(odd).toBe('a\\000\\032\\.\\\\\\127\\255_.x');
    expect(odd).toMatch(/^[\x21-\x7e]+$/);
  });

  it('dns - rejects implausible headers and questions', () => {
    const q = [...name('example', 'com'), ...A_IN];
    expect(parse(message(q, 0x0100))).not.toBeNull();
    expect(parse(message(q, 0x3800))).toBeNull(); // opcode 7
    expect(parse(message(q, 0x0140))).toBeNull(); // Z bit
    expect(parse(message(q, 0x0100, 0))).toBeNull();
    expect(parse(message(q, 0x0100, 17))).toBeNull();
    expect(parse(message(q, 0x0100, 16))).not.toBeNull();
    expect(parse(message([...name('example'), 0, 0, 0, 1]))).toBeNull(); // QTYPE 0
    expect(parse(message([...name('example'), 0, 1, 0, 2]))).toBeNull(); // QCLASS 2
    expect(parse(message([...name('printer', 'local'), 0, 12, 0x80, 1]))?.queryType).toBe(12); // mDNS QU bit
    expect(parse(message([]))).toBeNull();
    expect(parse(UDP_QUERY.subarray(0, 11))).toBeNull();
  });

  it('dns - a message cut right after the name gives the name without a type', () => {
    const msg = message([...name('cut', 'example'), ...A_IN]);
    expect(parseDns(msg, 0, msg.length - 4, false)).toEqual({ isResponse: false, query: 'cut.example', queryType: undefined, rcode: 0 });
  });

  it('dns - truncation at every byte offset never throws or reads past end', () => {
    for (const [, bytes, tcp, expected] of REAL) {
      const headerEnd = tcp ? 14 : 12;
      for (let end = 0; end <= bytes.length; end++) {
        const hint = parseDns(guarded(bytes, 0, end), 0, end, tcp);
        if (end <= headerEnd) expect(hint).toBeNull();
        if (hint !== null) {
          expect(hint.query).toBe(expected.query);
          expect(hint.rcode).toBe(expected.rcode);
        }
      }
    }
  });

  it('dns - survives 100,000 random and mutated buffers', () => {
    const rand = prng(0xd25);
    const seeds = REAL.map(([, b]) => b);
    const buf = new Uint8Array(1024);
    let accepted = 0;
    for (let i = 0; i < 100_000; i++) {
      const off = Math.floor(rand() * 8);
      const tcp = rand() < 0.3;
      let len: number;
      if (i % 3 === 0) {
        len = Math.floor(rand() * 300);
        for (let j = 0; j < off + len + 8; j++) buf[j] = rand() < 0.3 ? 0xc0 | Math.floor(rand() * 4) : Math.floor(rand() * 256);
        if (i % 2 === 0) buf.set([0, 1, 0, 0, 0, 1], off); // plausible header start
      } else {
        const seed = seeds[i % seeds.length];
        buf.set(seed, off);
        len = Math.floor(rand() * (seed.length + 1));
        const flips = 1 + Math.floor(rand() * 4);
        for (let f = 0; f < flips; f++) buf[off + Math.floor(rand() * seed.length)] = Math.floor(rand() * 256);
      }
      const end = off + len;
      const hint = parseDns(i % 10 === 0 ? guarded(buf, off, end) : buf, off, end, tcp);
      if (hint !== null) {
        accepted++;
        expect(hint.query).toMatch(/^[\x21-\x7e]+$/);
        expect(hint.rcode).toBeLessThan(16);
      }
    }
    expect(accepted).toBeGreaterThan(10_000); // the mutations do reach the name reader
  });
});
