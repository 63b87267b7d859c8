import { FlowBatch } from '@nta/shared';
import { describe, expect, it } from 'vitest';
import { mixedTraffic } from '../scoring/test-traffic.js';
import { isFastValidFlowBatch } from './fast-flow-batch.js';

/** Batches as the agent sends them, from the scoring tests' seeded traffic (DNS, TLS, HTTP hints, scans...). */
function agentBatches(size: number): unknown[] {
  const flows = mixedTraffic({ seed: 3 }).slice(0, 3000).map((l) => l.flow);
  const out: unknown[] = [];
  for (let i = 0; i < flows.length; i += size) {
    out.push(JSON.parse(JSON.stringify({ v: 1, agentId: 'edge-1', hostname: 'edge-1.example', runId: 'r1', seq: i, sentAtMs: 1, flows: flows.slice(i, i + size) })));
  }
  return out;
}

function rng(seed: number): () => number {
  let x = seed;
  return () => ((x = (x * 1103515245 + 12345) >>> 0) / 4294967296);
}

const HOSTILE_VALUES: unknown[] = [
  null, undefined, true, '', 'x', '1', -1, -0.5, 0.5, 1e300, Number.MAX_SAFE_INTEGER + 2, NaN, [], {}, [1], { a: 1 },
  '10.0.0.256', '01.2.3.4', '1.2.3', '::1', 'fe80::1%eth0', '00000000-0000-0000-0000-000000000000',
  'a0e4e6e4-0000-0000-0000-000000000000', 'x'.repeat(300), 65536, 4096, 256, 16, 7, 'tcp ', 'ip-1000', 'fin\n',
];

function mutate(value: unknown, r: () => number): unknown {
  const copy = structuredClone(value) as Record<string, unknown> & { flows: Record<string, unknown>[] };
  const targets: Record<string, unknown>[] = [copy];
  const flow = copy.flows[Math.floor(r() * copy.flows.length)]!;
  targets.push(flow, flow.features as Record<string, unknown>);
  if (flow.l7) targets.push(flow.l7 as Record<string, unknown>);
  const target = targets[Math.floor(r() * targets.length)]!;
  const keys = Object.keys(target);
  const key = keys[Math.floor(r() * keys.length)]!;
  if (r() < 0.1) delete target[key];
  else target[key] = HOSTILE_VALUES[Math.floor(r() * HOSTILE_VALUES.length)];
  return copy;
}

describe('fast FlowBatch check', () => {
  const batches = agentBatches(300);
  // Small batches for mutation, so one mutated field decides the verdict and cloning is cheap.
  const small = agentBatches(4);

  it('accepts what the agent sends, so ingest takes the fast path', () => {
    for (const b of batches) {
      expect(FlowBatch.safeParse(b).success).toBe(true);
      expect(isFastValidFlowBatch(b)).toBe(true);
    }
  });

  it('never accepts what the zod schema refuses, over thousands of hostile mutations', () => {
    const r = rng(42);
    let refusedByBoth = 0;
    for (let i = 0; i < 4000; i++) {
      const m = mutate(small[i % small.length], r);
      const fast = isFastValidFlowBatch(m);
      const zod = FlowBatch.safeParse(m).success;
      if (fast) expect(zod, JSON.stringify(m).slice(0, 300)).toBe(true);
      if (!zod) refusedByBoth++;
    }
    // The mutations must really produce invalid batches for the check to mean anything.
    expect(refusedByBoth).toBeGreaterThan(2000);
  });

  it('refuses non-objects and empty or oversized flow lists', () => {
    for (const v of [null, 1, 'x', [], { v: 1 }]) expect(isFastValidFlowBatch(v)).toBe(false);
    const b = structuredClone(batches[0]) as { flows: unknown[] };
    expect(isFastValidFlowBatch({ ...b, flows: [] })).toBe(false);
    expect(isFastValidFlowBatch({ ...b, flows: Array(10_001).fill(b.flows[0]) })).toBe(false);
  });
});
