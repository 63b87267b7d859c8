import type { FlowRecord } from '@nta/shared';
import { describe, expect, it } from 'vitest';
import { FEATURE_COUNT, FEATURE_NAMES, writeFeatureMatrix, writeFeatures } from './features.js';

function flow(over: Partial<FlowRecord> = {}, features: Partial<FlowRecord['features']> = {}): FlowRecord {
  return {
    flowId: '00000000-0000-4000-8000-000000000001',
    firstSeenMs: 1_000,
    lastSeenMs: 2_000,
    family: 4,
    ipProto: 6,
    proto: 'tcp',
    src: '10.0.0.1',
    dst: '93.184.216.34',
    sport: 50_000,
    dport: 443,
    packetsToDst: 10,
    packetsToSrc: 20,
    bytesToDst: 1_000,
    bytesToSrc: 30_000,
    packets: 30,
    bytes: 31_000,
    tcpFlagsToDst: 0x1b,
    tcpFlagsToSrc: 0x1b,
    endReason: 'fin',
    features: {
      durationMs: 1_000,
      pktSizeMin: 54,
      pktSizeMax: 1514,
      pktSizeMean: 1033,
      pktSizeStd: 600,
      iatMeanMs: 34,
      iatStdMs: 20,
      iatMinMs: 0.1,
      iatMaxMs: 300,
      synCount: 1,
      synAckCount: 1,
      finCount: 2,
      rstCount: 0,
      byteRatio: 1_000 / 31_000,
      payloadBytes: 29_380,
      ...features,
    },
    ...over,
  };
}

function featuresOf(f: FlowRecord): Record<string, number> {
  const out = new Float64Array(FEATURE_COUNT);
  writeFeatures(f, out, 0);
  return Object.fromEntries(FEATURE_NAMES.map((n, i) => [n, out[i]]));
}

describe('features', () => {
  it('features - writes exactly FEATURE_COUNT values at the offset and leaves neighbours alone', () => {
    const out = new Float64Array(FEATURE_COUNT + 4).fill(-7);
    writeFeatures(flow(), out, 2);
    expect(out[0]).toBe(-7);
    expect(out[1]).toBe(-7);
    expect(out[FEATURE_COUNT + 2]).toBe(-7);
    expect(out[FEATURE_COUNT + 3]).toBe(-7);
    expect(Array.from(out.subarray(2, 2 + FEATURE_COUNT)).every((v) => v !== -7)).toBe(true);
  });

  it('features - log-scales counts and keeps ratios and sizes on their own scale', () => {
    const v = featuresOf(flow());
    expect(v.log_packets).toBeCloseTo(Math.log1p(30));
    expect(v.log_bytes_to_src).toBeCloseTo(Math.log1p(30_000));
    expect(v.log_duration_ms).toBeCloseTo(Math.log1p(1_000));
    expect(v.log_fin_count).toBeCloseTo(Math.log1p(2));
    expect(v.byte_ratio).toBeCloseTo(1_000 / 31_000);
    expect(v.pkt_size_max).toBe(1514);
    expect(v.payload_fraction).toBeCloseTo(29_380 / 31_000);
  });

  it('features - classes the destination port and one-hot encodes the protocol', () => {
    expect(featuresOf(flow({ dport: 443 }))).toMatchObject({ dport_class: 0, proto_tcp: 1, proto_udp: 0, proto_icmp: 0, proto_other: 0 });
    expect(featuresOf(flow({ ipProto: 17, proto: 'udp', dport: 5353 }))).toMatchObject({ dport_class: 1, proto_udp: 1, proto_tcp: 0 });
    expect(featuresOf(flow({ dport: 50_000 }))).toMatchObject({ dport_class: 2 });
    expect(featuresOf(flow({ ipProto: 58, proto: 'icmpv6', dport: 0 }))).toMatchObject({ dport_class: -1, proto_icmp: 1 });
    expect(featuresOf(flow({ ipProto: 47, proto: 'gre', dport: 0 }))).toMatchObject({ dport_class: -1, proto_other: 1, proto_tcp: 0 });
  });

  it('features - absurd and empty values stay finite and ordered', () => {
    const huge = featuresOf(
      flow(
        { packets: Number.MAX_SAFE_INTEGER, bytes: 1e300, bytesToDst: 1e300, packetsToDst: Number.MAX_SAFE_INTEGER },
        { durationMs: 1e300, pktSizeMax: 1e9, pktSizeMean: 1e9, iatMaxMs: 1e300, rstCount: 1e12, payloadBytes: 1e300 },
      ),
    );
    const empty = featuresOf(
      flow(
        { packets: 0, bytes: 0, packetsToDst: 0, packetsToSrc: 0, bytesToDst: 0, bytesToSrc: 0 },
        { durationMs: 0, pktSizeMin: 0, pktSizeMax: 0, pktSizeMean: 0, pktSizeStd: 0, payloadBytes: 0, byteRatio: 0 },
      ),
    );
    for (const v of [...Object.values(huge), ...Object.values(empty)]) expect(Number.isFinite(v)).toBe(true);
    expect(huge.log_bytes).toBeGreaterThan(featuresOf(flow()).log_bytes);
    expect(huge.pkt_size_max).toBe(65_535);
    expect(huge.payload_fraction).toBe(1);
    expect(empty.payload_fraction).toBe(0);
    expect(empty.log_packets).toBe(0);
  });

  it('features - the matrix writer reuses a large enough buffer and lays rows out in order', () => {
    const flows = [flow({ dport: 22 }), flow({ dport: 50_000 })];
    const scratch = new Float64Array(10 * FEATURE_COUNT);
    const m = writeFeatureMatrix(flows, scratch);
    expect(m).toBe(scratch);
    const dportClass = FEATURE_NAMES.indexOf('dport_class');
    expect([m[dportClass], m[FEATURE_COUNT + dportClass]]).toEqual([0, 2]);
    expect(writeFeatureMatrix(flows, new Float64Array(1)).length).toBe(2 * FEATURE_COUNT);
  });
});
