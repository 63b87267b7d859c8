/**
 * The agent against hostile packets: real and synthetic packets mutated by the hundred
 * thousand and fed to FlowPipeline directly, plus crafted nesting, hash collisions and
 * far-future timestamps. Nothing may throw, hang, or hold memory without bound.
 *
 * NTA_FUZZ_SEED=<seed> replays a run exactly (see tests/helpers/fuzz-samples.ts).
 */
import { beforeAll, describe, expect, test } from 'vitest';
import { DecodedPacket, FlowPipeline, decodePacket } from '../../packages/agent/src/index.js';
import * as W from '../helpers/pcap-writer.js';
import { collectGarbage } from '../helpers/gc.js';
import { Rng, SEED, loadSamples, memoryInUse, type Sample } from '../helpers/fuzz-samples.js';
import {
  lengthFields,
  mutateFlip,
  mutateLengthField,
  mutateLinkType,
  mutateOverwrite,
  mutatePayload,
  mutateShim,
  mutateTruncate,
  randomPacket,
  type Field,
  type Mutant,
} from '../helpers/fuzz-packet-mutations.js';
import { FuzzClock, FuzzHarness } from '../helpers/fuzz-harness.js';

let samples: Sample[] = [];

beforeAll(async () => {
  samples = await loadSamples();
});

/** Mutants of real and synthetic packets, then packets of random bytes on top. */
const MUTATED_PACKETS = 320_000;
const RANDOM_PACKETS = 30_000;

describe('fuzz: mutated packets through FlowPipeline', () => {
  test('fuzz - 350k mutated packets: nothing escapes, counters add up, memory bounded', () => {
    const rng = new Rng(SEED);
    const clock = new FuzzClock(rng);
    const harness = new FuzzHarness(rng, clock, 50_000);
    expect(samples.length).toBeGreaterThan(20);
    const linkTypes = new Set(samples.map((s) => s.linkType));
    collectGarbage();
    const before = memoryInUse();
    let peak = before;
    const started = performance.now();
    const kinds = new Map<string, number>();
    const count = (kind: string): void => {
      // 'length-field dns.qdcount' counts as 'length-field:dns'.
      const [head, detail = ''] = kind.split(' ');
      const k = head === 'length-field' ? `${head}:${detail.split('.')[0]}` : head;
      kinds.set(k, (kinds.get(k) ?? 0) + 1);
    };
    const feed = (m: Mutant, origin: string): void => {
      harness.feed(m, origin);
      count(m.kind);
    };

    // Passes over the samples until enough mutants went in; the first pass also truncates
    // every fifth sample (and every synthetic one) at every length up to 512 bytes.
    const layouts = samples.map(lengthFields);
    const isL7 = (f: Field): boolean => f.name.startsWith('dns.') || f.name.startsWith('tls.');
    const l7Layouts = layouts.map((l) => ({ ...l, fields: l.fields.filter(isL7) }));
    for (let pass = 0; harness.fed < MUTATED_PACKETS; pass++) {
      for (const [i, s] of samples.entries()) {
        if (harness.fed >= MUTATED_PACKETS) break;
        const layout = layouts[i];
        for (let k = 0; k < 15; k++) feed(mutateFlip(rng, s), s.origin);
        for (let k = 0; k < 15; k++) feed(mutateOverwrite(rng, s), s.origin);
        for (let k = 0; k < 8; k++) feed(mutateTruncate(rng, s), s.origin);
        for (let k = 0; k < 25; k++) feed(layout.fields.length > 0 ? mutateLengthField(rng, s, layout) : mutateFlip(rng, s), s.origin);
        for (let k = 0; k < 4; k++) feed(mutateLinkType(rng, s), s.origin);
        if (s.linkType === 1) for (let k = 0; k < 4; k++) feed(mutateShim(rng, s), s.origin);
        // DNS and TLS samples get extra mutants aimed at their own length fields only.
        const l7 = l7Layouts[i];
        if (l7.fields.length > 0) {
          const extra = l7.fields.some((f) => f.name.startsWith('tls.')) ? 600 : 60;
          for (let k = 0; k < extra; k++) feed(mutateLengthField(rng, s, l7), s.origin);
        }
        // Payloads the L7 hints parse: DNS, TLS, and HTTP request lines (an upper-case first byte).
        const http = l7.payloadEnd > l7.payloadOff && s.data[l7.payloadOff] >= 0x41 && s.data[l7.payloadOff] <= 0x5a;
        if (l7.fields.length > 0 || http) for (let k = 0; k < (http ? 200 : 40); k++) feed(mutatePayload(rng, s, l7), s.origin);
        if (pass === 0 && (i % 5 === 0 || s.origin.indexOf('#') < 0)) {
          const upTo = Math.min(s.data.length, 512);
          for (let len = 0; len <= upTo; len++) feed({ linkType: s.linkType, data: s.data, capLen: len, kind: 'truncate-every-length' }, s.origin);
        }
        if ((i & 63) === 0) peak = Math.max(peak, memoryInUse());
      }
    }
    for (let k = 0; k < RANDOM_PACKETS; k++) feed(randomPacket(rng), 'random');
    harness.close();
    const elapsedS = (performance.now() - started) / 1000;
    const exact = collectGarbage();
    const grewMb = (memoryInUse() - before) / 2 ** 20;
    const peakMb = (peak - before) / 2 ** 20;
    console.info(
      `fuzz seed ${SEED}: ${harness.fed} packets from ${samples.length} samples (${linkTypes.size} link types) through ${harness.pipelines} pipelines, ` +
        `${harness.flowsOut} flows, ${elapsedS.toFixed(1)} s, memory +${grewMb.toFixed(1)} MB (peak +${peakMb.toFixed(1)} MB); ` +
        [...kinds].map(([k, v]) => `${k} ${v}`).join(', '),
    );
    expect(harness.failures, `seed ${SEED}: exceptions escaped FlowPipeline.packet/finish`).toEqual([]);
    expect(harness.invariantErrors, `seed ${SEED}`).toEqual([]);
    expect(harness.fed).toBeGreaterThanOrEqual(MUTATED_PACKETS + RANDOM_PACKETS);
    expect(grewMb, `seed ${SEED}: memory retained after the fuzz`).toBeLessThan(exact ? 32 : 512);
    expect(peakMb, `seed ${SEED}: memory during the fuzz`).toBeLessThan(512);
  });

  test('fuzz - nested LLC/SNAP + 802.1Q headers in one large frame do not overflow the stack', () => {
    // 10,000 levels of [LLC/SNAP -> 802.1Q -> 802.3 length] = 120 KB, within the pcap reader's 256 KiB record limit.
    const level = Buffer.from('aaaa03000000810000010040', 'hex');
    const frame = Buffer.concat([Buffer.from('0200000000020200000000010040', 'hex'), Buffer.alloc(level.length * 10_000, level)]);
    const pkt = new DecodedPacket();
    expect(() => decodePacket(1, frame, 0, frame.length, pkt)).not.toThrow();
  });

  test('fuzz - crafted hash collisions do not make the flow table or the talker table quadratic', () => {
    // The agent's hashes as they stand: flow/hash.ts hash2 = finalize(mix(mix(mix(mix(0x9747b28c, a), b), ports), proto))
    // and host-counters.ts finalize32. Both are invertible and unseeded, so a sender can choose where its
    // flows land: the same bucket chain, or one long linear-probing run. Once the tables are seeded with
    // a secret, these "colliding" packets are ordinary ones and the two timings match.
    const rotl = (x: number, r: number): number => (x << r) | (x >>> (32 - r));
    const rotr = (x: number, r: number): number => (x >>> r) | (x << (32 - r));
    const mix = (h: number, k: number): number => {
      k = rotl(Math.imul(k, 0xcc9e2d51), 15);
      h = rotl(h ^ Math.imul(k, 0x1b873593), 13);
      return (Math.imul(h, 5) + 0xe6546b64) | 0;
    };
    const inverse = (a: number): number => {
      let x = a;
      for (let i = 0; i < 5; i++) x = Math.imul(x, 2 - Math.imul(a, x));
      return x;
    };
    /** The k for which mix(h, k) === out. */
    const solveMix = (h: number, out: number): number => {
      const t = rotr(Math.imul((out - 0xe6546b64) | 0, inverse(5)), 13) ^ h;
      return Math.imul(rotr(Math.imul(t, inverse(0x1b873593)), 15), inverse(0xcc9e2d51)) >>> 0;
    };
    /** The address whose finalize32 is h. */
    const unfinalize32 = (h: number): number => {
      h ^= h >>> 16;
      h = Math.imul(h, inverse(0xc2b2ae35));
      h ^= (h >>> 13) ^ (h >>> 26);
      h = Math.imul(h, inverse(0x85ebca6b));
      return (h ^ (h >>> 16)) >>> 0;
    };
    const frame = W.ethernetFrame(W.EtherTypeNum.IPV4, W.ipv4Packet(17, W.udpDatagram(1, 1, new Uint8Array(8)), { dst: '10.0.0.2' }));
    const dst = 0x0a000002;
    const run = (n: number, maxFlows: number, packet: (i: number) => [src: number, ports: number]): number => {
      const pipeline = new FlowPipeline({ agentId: 'fuzz', flowTable: { maxFlows } }, { onFlow: () => {} });
      const started = performance.now();
      for (let i = 1; i <= n; i++) {
        const [src, ports] = packet(i);
        frame.writeUInt32BE(src, 26);
        frame.writeUInt32BE(ports, 34);
        pipeline.packet(1, 1_700_000_000_000, frame, 0, frame.length, frame.length);
      }
      pipeline.finish();
      return performance.now() - started;
    };
    const ordinaryFlow = (i: number): [number, number] => [i, ((1024 + (i % 60_000)) << 16) | 53];
    run(2_000, 1 << 17, ordinaryFlow); // warm-up, so the JIT is not what gets measured
    // 25,000 flows from sources below dst (so they are endpoint A) whose ports make every hash equal.
    const flowsOrdinary = run(25_000, 1 << 17, ordinaryFlow);
    const flowsColliding = run(25_000, 1 << 17, (i) => [i, solveMix(mix(mix(0x9747b28c, i), dst), 0x12345678)]);
    // 24,000 sources in one second whose talker-table hashes share their low 16 bits.
    const talkersOrdinary = run(24_000, 16, (i) => [0x0b000000 + i, 0x04000035]);
    const talkersColliding = run(24_000, 16, (i) => [unfinalize32(i << 16), 0x04000035]);
    const timings = JSON.stringify({ flowsOrdinary, flowsColliding, talkersOrdinary, talkersColliding }, (_k, v: unknown) => (typeof v === 'number' ? Math.round(v) : v));
    expect.soft(flowsColliding, `flow table, ms: ${timings}`).toBeLessThan(3 * flowsOrdinary + 200);
    expect.soft(talkersColliding, `talker table, ms: ${timings}`).toBeLessThan(3 * talkersOrdinary + 200);
  });

  test('fuzz - memory stays bounded after one packet from the far future (time stands still for the host counters)', () => {
    // One record with ts_sec 0xffffffff, then 300,000 one-packet flows from distinct sources
    // over 300 s of ordinary packet time. Seconds should keep rolling and flows keep expiring,
    // so what is held stays small.
    const pipeline = new FlowPipeline({ agentId: 'fuzz', flowTable: { maxFlows: 256 } }, { onFlow: () => {} });
    const v4 = W.ethernetFrame(W.EtherTypeNum.IPV4, W.ipv4Packet(17, W.udpDatagram(1000, 53, new Uint8Array(8))));
    const v6 = W.ethernetFrame(W.EtherTypeNum.IPV6, W.ipv6Packet(17, W.udpDatagram(1000, 53, new Uint8Array(8))));
    const t0 = 1_700_000_000_000;
    pipeline.packet(1, t0, v4, 0, v4.length, v4.length);
    pipeline.packet(1, 4294967295 * 1000, v4, 0, v4.length, v4.length);
    collectGarbage();
    const before = memoryInUse();
    for (let i = 0; i < 300_000; i++) {
      const frame = i & 1 ? v6 : v4;
      if (i & 1) frame.writeUInt32BE(i, 14 + 8 + 12);
      else frame.writeUInt32BE(i, 14 + 12);
      pipeline.packet(1, t0 + i, frame, 0, frame.length, frame.length);
    }
    const exact = collectGarbage();
    const grewMb = (memoryInUse() - before) / 2 ** 20;
    pipeline.finish();
    expect(pipeline.stats().packets).toBe(300_002);
    expect(grewMb, 'MB held for 256 flows after 300k packets').toBeLessThan(exact ? 16 : 256);
  });
});
