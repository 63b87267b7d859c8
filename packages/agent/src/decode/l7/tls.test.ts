import { Buffer } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { parseTlsClientHello } from './tls.js';
import type { TlsHint } from './tls.js';
import { guarded, prng } from '../../../test-support/guards.js';

function hex(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s, 'hex'));
}

// Real ClientHellos. The tcpdump corpus holds no TLS over TCP, so these were captured with
// tcpdump on loopback from real clients talking to `openssl s_server`; every value asserted
// below is the one tshark 4 shows for the same packet (tls.handshake.extensions_server_name,
// tls.handshake.extensions_alpn_str).
/** openssl s_client 3.0.19, TLS 1.3: -servername www.example.org -alpn h2,http/1.1 (339 bytes). */
const OPENSSL_TLS13 = hex(
  '160301014e0100014a0303de9564904d5591b9a1835778ee1ddf04568bc2550389aa626684958ef6999c3f20923ccaf81813d992a51d3e3bd8975369' +
  'aaa651eeac153c97ebd491051c211d55003e130213031301c02cc030009fcca9cca8ccaac02bc02f009ec024c028006bc023c0270067c00ac0140039' +
  'c009c0130033009d009c003d003c0035002f00ff010000c300000014001200000f7777772e6578616d706c652e6f7267000b000403000102000a0016' +
  '0014001d0017001e0019001801000101010201030104002300000010000e000c02683208687474702f312e310016000000170000000d002a00280403' +
  '05030603080708080809080a080b080408050806040105010601030303010302040205020602002b0009080304030303020301002d00020101003300' +
  '260024001d0020cb262e69924772d8977a71b6b39f0e2c5494573b7e3f2cc33b4a43ba4d67bd4a',
);
/** openssl s_client 3.0.19 -tls1_2 -servername api.example.net -alpn http/1.1 (227 bytes). */
const OPENSSL_TLS12 = hex(
  '16030100de010000da0303d70a6ee12ea90684d9df1314477d46eb57b37288b2cadb95478004d5f6e68671000038c02cc030009fcca9cca8ccaac02b' +
  'c02f009ec024c028006bc023c0270067c00ac0140039c009c0130033009d009c003d003c0035002f00ff0100007900000014001200000f6170692e65' +
  '78616d706c652e6e6574000b000403000102000a000c000a001d0017001e00190018002300000010000b000908687474702f312e3100160000001700' +
  '00000d002a0028040305030603080708080809080a080b080408050806040105010601030303010302040205020602',
);
/** curl 7.88.1 https://nta.test:18443/ (517 bytes, padding extension). */
const CURL = hex(
  '1603010200010001fc03032117a3405ab5abe2fe2e504ced0871c24b02c453a5d9b097b011a222e9f22e382063c7f3a276042a60d56fc65abde7a6d9' +
  'de7a1bab08d2d70d8debfbee2f2a1a0e003e130213031301c02cc030009fcca9cca8ccaac02bc02f009ec024c028006bc023c0270067c00ac0140039' +
  'c009c0130033009d009c003d003c0035002f00ff010001750000000d000b0000086e74612e74657374000b000403000102000a00160014001d001700' +
  '1e00190018010001010102010301040010000e000c02683208687474702f312e31001600000017000000310000000d002a0028040305030603080708' +
  '080809080a080b080408050806040105010601030303010302040205020602002b0009080304030303020301002d00020101003300260024001d0020' +
  '980dac5e0fede79717a554ebf0574bd8d6ace8fdef66f0cef7c25d622ef87036001500b5000000000000000000000000000000000000000000000000' +
  '000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000' +
  '000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000' +
  '00000000000000000000000000000000000000000000000000000000000000000000000000',
);
/** openssl s_client -groups ffdhe8192:x25519 -servername big.example.org: a 1,024-byte key share (1,297 bytes). */
const OPENSSL_FFDHE8192 = hex(
  '160301050c010005080303d7eaf47dbd51864551d04c73ce0b6b8c5df693ce311c0ef1a571f2219ad827992036ffcbc22e24e64f3bcc8126d5a2a1e5' +
  '0e6df1bdf528f4a4d7f39bbe9077014d003e130213031301c02cc030009fcca9cca8ccaac02bc02f009ec024c028006bc023c0270067c00ac0140039' +
  'c009c0130033009d009c003d003c0035002f00ff0100048100000014001200000f6269672e6578616d706c652e6f7267000b000403000102000a0006' +
  '00040104001d002300000016000000170000000d002a0028040305030603080708080809080a080b0804080508060401050106010303030103020402' +
  '05020602002b0009080304030303020301002d0002010100330406040401040400e60605c612f752a0e9a0138372d027e29f61de7b82be2940f5645b' +
  '20edb43789a3448e207a7fb946bcca02231340e7121a6234c26a853214c3a872e5c72677c49a4d1e27bee984cb8b3f43f9883ab122448f5e12a03fc3' +
  '26696933ac260fe62f37bf7139723cc1c0e23294ea454ce78644c1dcaa6b7126d250db1ee83aee7b1fd76e739bd1a6df1eea09633435387faf3fa11b' +
  '7a51c897e6079e5f6211bda056327c3aba2efbe613fe76f6142f98f09c53f31d8b84858188a8d98519d17d788f9ac0d6dcd85a3ebe32308a06d0b168' +
  '9d9764f279152c67d9c0e472373b2e54e31d0b8f1c2f04fe164918c09542afeaad124ca25a2284f2be62f882fdf4b0ecfd5dadcee45fa24ffdc10a57' +
  '7f5907a0bf401d4ab4cb356eae9ae485e3ed1a52e9906ca7956025fd50ed24735f3fc8670909276c2a5ac8e31d7e52f77721b23418d1bd5fda554c25' +
  '5594bb2ac5592c2c373ce23f417f0dcb2fb24e788ebec865558184f307b038ac597ab2c4da37a6867e5065cec5357b90cc0209c162e29b83b75f5131' +
  '0e43a7c7e2b4bb8d7775e8acb734e0548b2ea5fad7082428ebad587e96f97563e1cc8510587f7276f1b30a76e666e7cc8b6167dc1a7c1db5837dae5c' +
  '4cd4df0a29593ea7234dba860514ea717e07effc9efab41167343279234912bb359337f0927ae1dd43c6e24e79d9dd1227114249597d9e192dd4cde0' +
  '03b794548246243383da5e80201c97e2ae81def661c7a796d8aba70b3b5d565e384dd1b64f5ba4b121991baa61ddcc1e71517d70f67fa8be9574c0a9' +
  'aa4d09e892873095987a9bf04fad4c16186013a3b94519eed926b3e615fd3d3a43526abd523bda81172dfcaf50ec4babe2cb1d1f9a1ce7fdcd35d702' +
  '0cc1aa4c6d62e1f09a8c5cc30882feda9b5571e79d0f6157f7a1dcf6c0a914a2d4b1d70de4726b6bb9437fb835b4d08caef82903bf6598f5959a9ead' +
  'f45625c28c3dcf68f6a39b68bf96e547387eb10144ca0db92ea8e718354f07788a4ca327681cfc3c102fe7630111535a9365a24a78e10ec566f01bdc' +
  '8cbce0400f0729be1aabb0577c2220c4cf851121bb4d19addc9c5e5860393d323041c68afda2eef7f9b618f277bacc47b2c6053a7d2b7668ed48d535' +
  '688da99165b4272f0c86a041e7f944462085ec655249efb095ff457234b863255a02ef0392127757c446feeea757d3b378ad4c6c95c600db56ee4672' +
  '311a1d1d77de35664b0ed464f2b026f820403cba1715d2345c026b702b4dbcb1f122d76ebea941ccc19f367ad48f22cffe0f4f98dd865b78967474ac' +
  'f343a2d5a9ff787e4964866b217684f9029d7bdad39a88c90a2089c9e1a780045e200447fb181b42296039924e6d606a0e3cd3b59889e9ea4c17b4f9' +
  'b3fde31648d563e8e439337c11794e76034e706b38edc72d0fb7e7d81b4480163ebd88beba',
);
/** Python 3 ssl hello for split-after-sni.example.com, sent as 300 + 217 bytes: the first segment. */
const SPLIT_AFTER_SNI = hex(
  '1603010200010001fc030334ec1346895d8b367749f872ff278afc3138198a0786b3609d965efb3d1469d320c5fd91413d1ed2d9791d41d8b3087bf6' +
  'a505e3af9fa39baf2b358620897f12830024130213031301c02cc030c02bc02fcca9cca8c024c028c023c027009f009e006b006700ff0100018f0000' +
  '0020001e00001b73706c69742d61667465722d736e692e6578616d706c652e636f6d000b000403000102000a00160014001d0017001e001900180100' +
  '0101010201030104002300000010000e000c02683208687474702f312e310016000000170000000d002a0028040305030603080708080809080a080b' +
  '080408050806040105010601030303010302040205020602002b00050403040303002d00020101003300260024001d002059287dd44a5197d64e0012',
);
/** Python 3 ssl hello for split-before-sni.example.com, sent as 140 + 377 bytes: the first segment. */
const SPLIT_BEFORE_SNI = hex(
  '1603010200010001fc03038df14a7c4a5308f55daca3852d833d931bc10e5619600d6ee71108209a19206220f3a58c4d15b07145468e453cdbb43ad1' +
  '159f9f496306321d22e827aa8a280ba30024130213031301c02cc030c02bc02fcca9cca8c024c028c023c027009f009e006b006700ff0100018f0000' +
  '0021001f00001c73706c69742d6265666f72652d',
);
/**
 * The ClientHello of the corpus's quic_handshake.pcap (decrypted from its Initial packet by
 * tshark; QUIC carries it in CRYPTO frames), behind a TLS record header: 'localhost', h3.
 */
const QUIC_HELLO = hex(
  '1603010105' +
  '010001010303ac4ff6e32c580a3139397ad860b00daf583e12b2bfcf518b97b8bfb4eb5c5aee0000087a7a130113021303010000d01a1a0000000000' +
  '0e000c0000096c6f63616c686f7374000a000c000a5a5a001d001700180019001000050003026833000500050100000000000d001800160403080404' +
  '0105030203080508050501080606010201001200000033002b00295a5a000100001d00209358d133697a693a26d9ce4b941cfe9b27923110cb182e7b' +
  '1d2172ac4c3ea702002d00020101002b000504dada03040039002a010480007530040480200000050480020000060480020000070480020000080108' +
  '0901080e0240400f00001b0003020001caca000100',
);

const u16 = (n: number): number[] => [(n >> 8) & 0xff, n & 0xff];
const ascii = (s: string): number[] => [...s].map((c) => c.charCodeAt(0));
const ext = (type: number, body: number[]): number[] => [...u16(type), ...u16(body.length), ...body];

function sniExt(names: [nameType: number, name: number[]][]): number[] {
  const list = names.flatMap(([t, n]) => [t, ...u16(n.length), ...n]);
  return ext(0, [...u16(list.length), ...list]);
}

function alpnExt(protocols: number[][]): number[] {
  const list = protocols.flatMap((p) => [p.length, ...p]);
  return ext(16, [...u16(list.length), ...list]);
}

interface HelloOptions {
  recordLen?: number;
  sessionId?: number[];
  cipherSuites?: number[];
  compression?: number[];
  extensionsLen?: number;
  /** Leave out the extensions block, length included (SSL 3.0 style). */
  noExtensions?: boolean;
}

/** A TLS 1.2-style ClientHello record with the given extensions. */
function clientHello(extensions: number[][], o: HelloOptions = {}): Uint8Array {
  const exts = extensions.flat();
  const sessionId = o.sessionId ?? [];
  const suites = o.cipherSuites ?? [0x13, 0x01, 0xc0, 0x2f];
  const compression = o.compression ?? [0];
  const body = [
    3, 3, ...new Array<number>(32).fill(0xab),
    sessionId.length, ...sessionId,
    ...u16(suites.length), ...suites,
    compression.length, ...compression,
    ...(o.noExtensions === true ? [] : [...u16(o.extensionsLen ?? exts.length), ...exts]),
  ];
  const hs = [1, (body.length >> 16) & 0xff, ...u16(body.length), ...body];
  return new Uint8Array([22, 3, 1, ...u16(o.recordLen ?? hs.length), ...hs]);
}

function expectSaneHint(hint: TlsHint | null): void {
  if (hint === null) return;
  if (hint.sni !== undefined) {
    expect(hint.sni).toMatch(/^[\x21-\x7e]{1,255}$/);
  }
  if (hint.alpn !== undefined) {
    expect(hint.alpn.length).toBeGreaterThan(0);
    expect(hint.alpn.length).toBeLessThanOrEqual(16);
    for (const p of hint.alpn) expect(p).toMatch(/^[\x21-\x7e]{1,255}$/);
  }
}

const parse = (b: Uint8Array): TlsHint | null => parseTlsClientHello(b, 0, b.length);

const REAL_HELLOS: [name: string, bytes: Uint8Array, expected: TlsHint][] = [
  ['openssl TLS 1.3', OPENSSL_TLS13, { sni: 'www.example.org', alpn: ['h2', 'http/1.1'] }],
  ['openssl TLS 1.2', OPENSSL_TLS12, { sni: 'api.example.net', alpn: ['http/1.1'] }],
  ['curl', CURL, { sni: 'nta.test', alpn: ['h2', 'http/1.1'] }],
  ['openssl ffdhe8192', OPENSSL_FFDHE8192, { sni: 'big.example.org' }],
  ['quic corpus hello', QUIC_HELLO, { sni: 'localhost', alpn: ['h3'] }],
];

describe('tls', () => {
  it.each(REAL_HELLOS)('tls - extracts SNI and ALPN from a real %s ClientHello', (_name, bytes, expected) => {
    expect(parse(bytes)).toEqual(expected);
  });

  it('tls - reads only [off, end) of a larger buffer', () => {
    const buf = new Uint8Array(OPENSSL_TLS13.length + 40).fill(0xee);
    buf.set(OPENSSL_TLS13, 17);
    const hint = parseTlsClientHello(guarded(buf, 17, 17 + OPENSSL_TLS13.length), 17, 17 + OPENSSL_TLS13.length);
    expect(hint).toEqual({ sni: 'www.example.org', alpn: ['h2', 'http/1.1'] });
  });

  it('tls - a hello split over two segments gives the SNI when it is in the first', () => {
    expect(parse(SPLIT_AFTER_SNI)).toEqual({ sni: 'split-after-sni.example.com', alpn: ['h2', 'http/1.1'] });
  });

  it('tls - a hello cut before the SNI is still recognised, without names', () => {
    expect(parse(SPLIT_BEFORE_SNI)).toEqual({});
  });

  it('tls - a large hello cut at a 1448-byte segment boundary mid-extension keeps what came before', () => {
    const hello = clientHello([sniExt([[0, ascii('pq.example.com')]]), alpnExt([ascii('h2')]), ext(51, new Array<number>(1400).fill(7))]);
    expect(hello.length).toBeGreaterThan(1448);
    expect(parseTlsClientHello(hello, 0, 1448)).toEqual({ sni: 'pq.example.com', alpn: ['h2'] });
  });

  it('tls - truncation at every byte offset of real hellos never throws or reads past end', () => {
    for (const [, bytes, expected] of REAL_HELLOS) {
      for (let end = 0; end <= bytes.length; end++) {
        const hint = parseTlsClientHello(guarded(bytes, 0, end), 0, end);
        if (end < 11) expect(hint).toBeNull();
        else expect(hint).not.toBeNull();
        if (hint?.sni !== undefined) expect(hint.sni).toBe(expected.sni);
        if (hint?.alpn !== undefined) expect(hint.alpn).toEqual(expected.alpn);
      }
    }
  });

  it('tls - takes the first host_name of a server_name list with several names', () => {
    const hello = clientHello([sniExt([[7, ascii('other-type')], [0, ascii('first.example')], [0, ascii('second.example')]])]);
    expect(parse(hello)).toEqual({ sni: 'first.example' });
  });

  it('tls - returns the whole ALPN list in order, capped at 16 names', () => {
    expect(parse(clientHello([alpnExt([ascii('h2'), ascii('http/1.1'), ascii('spdy/3.1')])]))).toEqual({ alpn: ['h2', 'http/1.1', 'spdy/3.1'] });
    const many = Array.from({ length: 20 }, (_, i) => ascii(`p${i}`));
    expect(parse(clientHello([alpnExt(many)]))?.alpn).toEqual(Array.from({ length: 16 }, (_, i) => `p${i}`));
  });

  it('tls - escapes non-printable SNI bytes and caps the name at 255 characters', () => {
    expect(parse(clientHello([sniExt([[0, [0x61, 0x00, 0x20, 0x5c, 0xff, 0x62]]])]))?.sni).toBe('a\\000\\032\\\\\\255b');
    expect(parse(clientHello([sniExt([[0, new Array<number>(400).fill(0x78)]])]))?.sni).toBe('x'.repeat(255));
  });

  it('tls - a hello without extensions or with an empty server_name gives no names', () => {
    expect(parse(clientHello([], { noExtensions: true }))).toEqual({});
    expect(parse(clientHello([ext(0, [])]))).toEqual({});
  });

  it('tls - a hello longer than its record is read up to the record end', () => {
    const hello = clientHello([sniExt([[0, ascii('in.record')]]), alpnExt([ascii('h2')])]);
    // Shrink the record so it ends inside the ALPN extension, as when the hello spans records.
    const recordLen = hello.length - 5 - 3;
    const split = new Uint8Array(hello);
    split[3] = recordLen >> 8;
    split[4] = recordLen & 0xff;
    expect(parse(split)).toEqual({ sni: 'in.record' });
  });

  it('tls - rejects payloads that are not a ClientHello record', () => {
    const good = clientHello([sniExt([[0, ascii('x.example')]])]);
    const variant = (i: number, v: number): Uint8Array => {
      const b = new Uint8Array(good);
      b[i] = v;
      return b;
    };
    expect(parse(good)).toEqual({ sni: 'x.example' });
    expect(parse(variant(0, 23))).toBeNull(); // application data
    expect(parse(variant(1, 2))).toBeNull(); // record version 2.x
    expect(parse(variant(2, 5))).toBeNull(); // record version 3.5
    expect(parse(variant(5, 2))).toBeNull(); // ServerHello
    expect(parse(variant(9, 4))).toBeNull(); // legacy_version 4.3
    expect(parse(new TextEncoder().encode('GET / HTTP/1.1\r\nHost: x\r\n\r\n'))).toBeNull();
    expect(parse(new Uint8Array([0x80, 0x2e, 0x01, 0x03, 0x01]))).toBeNull(); // SSLv2 hello
    expect(parse(new Uint8Array(0))).toBeNull();
  });

  it('tls - rejects length fields that contradict the enclosing length', () => {
    const sni = sniExt([[0, ascii('x.example')]]);
    expect(parse(clientHello([sni], { sessionId: new Array<number>(33).fill(1) }))).toBeNull();
    expect(parse(clientHello([sni], { cipherSuites: [0x13, 0x01, 0xc0] }))).toBeNull();
    expect(parse(clientHello([sni], { cipherSuites: [] }))).toBeNull();
    expect(parse(clientHello([sni], { compression: [] }))).toBeNull();
    expect(parse(clientHello([sni], { extensionsLen: sni.length + 1 }))).toBeNull();
    expect(parse(clientHello([ext(0, [0, 20, 0, 0, 3, 0x61, 0x62, 0x63])]))).toBeNull(); // list longer than extension
    expect(parse(clientHello([ext(0, [0, 6, 0, 0, 9, 0x61, 0x62, 0x63])]))).toBeNull(); // name longer than list
    expect(parse(clientHello([ext(16, [0, 4, 2, 0x68, 0x32, 0])]))).toBeNull(); // empty ALPN name
    expect(parse(clientHello([ext(16, [0, 0])]))).toBeNull(); // empty ALPN list
    expect(parse(clientHello([ext(16, [0, 3, 5, 0x68, 0x32])]))).toBeNull(); // ALPN name past the list
    const overlong = clientHello([sni]);
    overlong[overlong.length - sni.length + 3] = 0xff; // extension length past the extensions block
    expect(parse(overlong)).toBeNull();
  });

  it('tls - survives 100,000 random and mutated buffers', () => {
    const rand = prng(0x7115);
    const seeds = [...REAL_HELLOS.map(([, b]) => b), SPLIT_AFTER_SNI, clientHello([sniExt([[0, ascii('a.b')]]), alpnExt([ascii('h2')])])];
    const buf = new Uint8Array(2048);
    let withSni = 0;
    for (let i = 0; i < 100_000; i++) {
      const off = Math.floor(rand() * 8);
      let len: number;
      if (i % 3 === 0) {
        len = Math.floor(rand() * 600);
        for (let j = 0; j < off + len + 8; j++) buf[j] = Math.floor(rand() * 256);
        if (i % 2 === 0) buf.set([22, 3, Math.floor(rand() * 5), Math.floor(rand() * 4), Math.floor(rand() * 256), 1], off);
      } else {
        const seed = seeds[i % seeds.length];
        buf.set(seed, off);
        len = Math.floor(rand() * (seed.length + 1));
        const flips = 1 + Math.floor(rand() * 6);
        for (let f = 0; f < flips; f++) buf[off + Math.floor(rand() * seed.length)] = Math.floor(rand() * 256);
      }
      const end = off + len;
      const view = i % 10 === 0 ? guarded(buf, off, end) : buf;
      const hint = parseTlsClientHello(view, off, end);
      expectSaneHint(hint);
      if (hint?.sni !== undefined) withSni++;
    }
    expect(withSni).toBeGreaterThan(10_000); // the mutations do reach the extension walk
  });
});
