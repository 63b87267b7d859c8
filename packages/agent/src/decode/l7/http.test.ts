import { Buffer } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { parseHttpRequest } from './http.js';
import type { HttpHint } from './http.js';
import { guarded, prng } from '../../../test-support/guards.js';

function hex(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s, 'hex'));
}

// TCP payloads from the tcpdump corpus (../shared/corpus/tcpdump/). The expected values are
// tshark's http.request.method and http.host.
/** accecn_handshake.pcap #4: curl 7.69.1, Host first. */
const CURL_GET = hex(
  '474554202f314d20485454502f312e310d0a486f73743a2036362e3232382e34332e31320d0a557365722d4167656e743a206375726c2f372e36392e' +
  '310d0a4163636570743a202a2f2a0d0a0d0a',
);
/** arcnet-rfc1051-arp-icmp-http.pcap #14: curl 7.9.5, Host after User-Agent. */
const OLD_CURL_GET = hex(
  '474554202f20485454502f312e310d0a557365722d4167656e743a206375726c2f372e392e352028693538362d70632d6c696e75782d676e752920' +
  '6c69626375726c20372e392e3520286970763620656e61626c6564290d0a486f73743a2074637064756d702e6f72670d0a507261676d613a206e6f' +
  '2d63616368650d0a4163636570743a20696d6167652f6769662c20696d6167652f782d786269746d61702c20696d6167652f6a7065672c20696d61' +
  '67652f706a7065672c202a2f2a0d0a0d0a',
);
/** print-flags.pcap #4: ELinks. */
const ELINKS_GET = hex(
  '474554202f20485454502f312e310d0a486f73743a206c6f63616c686f73740d0a557365722d4167656e743a20454c696e6b732f302e31302e342d' +
  '372d64656269616e2028746578746d6f64653b204c696e757820322e362e31312d312d3638362d736d7020693638363b203133327835362d32290d' +
  '0a4163636570743a202a2f2a0d0a4163636570742d456e636f64696e673a20677a69700d0a4163636570742d4c616e67756167653a20656e0d0a43' +
  '6f6e6e656374696f6e3a204b6565702d416c6976650d0a0d0a',
);
/** ipv4_tcp_http_xml_tso.pcap #1 (the 369 header bytes of 1,976): a proxy-form SOAP POST. */
const SOAP_POST = hex(
  '504f535420687474703a2f2f67776d2d6d6c2d61322e77736f6471612e636f6d2f2f72657365617263682f6d6f64756c652d6c6f616465722f6d6f64' +
  '756c652d6c6f616465722e6173703f757365725f69643d7465737420485454502f312e310d0a436f6e74656e742d547970653a20746578742f786d6c' +
  '3b20636861727365743d7574662d380d0a534f4150416374696f6e3a2022220d0a557365722d4167656e743a20417869732f312e342d4c4953410d0a' +
  '6c6973614672616d65526f6f743a20747275650d0a6c6973614672616d6552656d6f746549503a203136392e3235342e3136392e33300d0a6c697361' +
  '4672616d6549443a2033616531663062302d303239332d313165322d616131362d3738653764313634663830340d0a486f73743a2067776d2d6d6c2d' +
  '61322e77736f6471612e636f6d0d0a50726f78792d436f6e6e656374696f6e3a204b6565702d416c6976650d0a436f6e74656e742d4c656e6774683a' +
  '20313630370d0a0d0a',
);

const REAL: [name: string, bytes: Uint8Array, expected: HttpHint][] = [
  ['curl GET', CURL_GET, { method: 'GET', host: '66.228.43.12' }],
  ['old curl GET', OLD_CURL_GET, { method: 'GET', host: 'tcpdump.org' }],
  ['ELinks GET', ELINKS_GET, { method: 'GET', host: 'localhost' }],
  ['SOAP POST', SOAP_POST, { method: 'POST', host: 'gwm-ml-a2.wsodqa.com' }],
];

const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const parse = (b: Uint8Array): HttpHint | null => parseHttpRequest(b, 0, b.length);

describe('http', () => {
  it.each(REAL)('http - takes method and Host from a real %s as tshark does', (_name, bytes, expected) => {
    expect(parse(bytes)).toEqual(expected);
  });

  it('http - reads only [off, end) of a larger buffer', () => {
    const buf = new Uint8Array(CURL_GET.length + 20).fill(0x0a);
    buf.set(CURL_GET, 3);
    const end = 3 + CURL_GET.length;
    expect(parseHttpRequest(guarded(buf, 3, end), 3, end)).toEqual({ method: 'GET', host: '66.228.43.12' });
  });

  it('http - matches the Host header name in any case and trims its value', () => {
    expect(parse(text('GET / HTTP/1.1\r\nhOsT: \t Example.COM:8080 \t\r\n\r\n'))).toEqual({ method: 'GET', host: 'Example.COM:8080' });
    expect(parse(text('PUT /x HTTP/1.0\nHOST:a.example\n\n'))).toEqual({ method: 'PUT', host: 'a.example' });
  });

  it('http - takes the first Host and ignores look-alike headers', () => {
    const req = text('GET / HTTP/1.1\r\nX-Host: no\r\nHostname: no\r\nHost : no\r\nHost: yes\r\nHost: second\r\n\r\n');
    expect(parse(req)).toEqual({ method: 'GET', host: 'yes' });
  });

  it('http - a request cut before or inside the Host line gives the method alone', () => {
    const cutBefore = text('GET /index.html HTTP/1.1\r\nUser-Agent: x\r\nHo');
    expect(parse(cutBefore)).toEqual({ method: 'GET', host: undefined });
    const cutInside = text('GET / HTTP/1.1\r\nHost: www.exam');
    expect(parse(cutInside)).toEqual({ method: 'GET', host: undefined });
  });

  it('http - truncation at every byte offset never throws or reads past end', () => {
    for (const [, bytes, expected] of REAL) {
      for (let end = 0; end <= bytes.length; end++) {
        const hint = parseHttpRequest(guarded(bytes, 0, end), 0, end);
        if (end <= expected.method.length) expect(hint).toBeNull();
        else expect(hint?.method).toBe(expected.method);
        if (hint?.host !== undefined) expect(hint.host).toBe(expected.host);
      }
    }
  });

  it('http - stops looking for Host at the end of the header section', () => {
    expect(parse(text('POST /f HTTP/1.1\r\nContent-Length: 9\r\n\r\nHost: body'))).toEqual({ method: 'POST', host: undefined });
    expect(parse(text('GET / HTTP/1.1\r\nHost:   \r\n\r\n'))).toEqual({ method: 'GET', host: undefined });
  });

  it('http - escapes non-printable Host bytes and caps the value at 255 characters', () => {
    const odd = new Uint8Array([...text('GET / HTTP/1.1\r\nHost: a'), 0x00, 0x20, 0x5c, 0xe9, ...text('b\r\n\r\n')]);
    expect(parse(odd)?.host).toBe('a\\000\\032\\\\\\233b');
    expect(parse(text(`GET / HTTP/1.1\r\nHost: ${'h'.repeat(300)}\r\n\r\n`))?.host).toBe('h'.repeat(255));
  });

  it('http - recognises every supported method and nothing else', () => {
    for (const m of ['GET', 'POST', 'PUT', 'DELETE', 'HEAD', 'OPTIONS', 'PATCH', 'CONNECT', 'TRACE', 'PROPFIND', 'PROPPATCH', 'MKCOL', 'COPY', 'MOVE', 'LOCK', 'UNLOCK']) {
      expect(parse(text(`${m} /r HTTP/1.1\r\nHost: h\r\n\r\n`))).toEqual({ method: m, host: 'h' });
    }
    expect(parse(text('CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n'))?.host).toBe('example.com:443');
    for (const bad of ['get / HTTP/1.1\r\n', 'GETS / HTTP/1.1\r\n', 'GET\t/ HTTP/1.1\r\n', 'GET  / HTTP/1.1\r\n', 'HTTP/1.1 200 OK\r\n',
      'SSH-2.0-OpenSSH_9.6\r\n', 'M-SEARCH * HTTP/1.1\r\n', 'POS', '']) {
      expect(parse(text(bad))).toBeNull();
    }
    expect(parse(new Uint8Array([0x16, 0x03, 0x01, 0x02, 0x00, 0x01]))).toBeNull();
  });

  it('http - survives 100,000 random and mutated buffers', () => {
    const rand = prng(0x4771);
    const seeds = REAL.map(([, b]) => b);
    const buf = new Uint8Array(1024);
    let withHost = 0;
    for (let i = 0; i < 100_000; i++) {
      const off = Math.floor(rand() * 8);
      let len: number;
      if (i % 3 === 0) {
        len = Math.floor(rand() * 300);
        for (let j = 0; j < off + len + 8; j++) buf[j] = rand() < 0.2 ? 0x0a : Math.floor(rand() * 256);
        if (i % 2 === 0) buf.set(text('GET /'), off);
      } else {
        const seed = seeds[i % seeds.length];
        buf.set(seed, off);
        len = Math.floor(rand() * (seed.length + 1));
        const flips = 1 + Math.floor(rand() * 6);
        for (let f = 0; f < flips; f++) buf[off + Math.floor(rand() * seed.length)] = Math.floor(rand() * 256);
      }
      const end = off + len;
      const hint = parseHttpRequest(i % 10 === 0 ? guarded(buf, off, end) : buf, off, end);
      if (hint?.host !== undefined) {
        withHost++;
        expect(hint.host).toMatch(/^[\x21-\x7e]{1,255}$/);
      }
    }
    expect(withHost).toBeGreaterThan(10_000); // the mutations do reach the header walk
  });
});
