import { describe, expect, it } from 'vitest';
import type { StoredFlow } from '../../types.js';
import { Level } from '../../types.js';
import { asStoredFlow, buildFlow, inBatches, seededRandom, synFlood, TEST_NETWORK } from '../test-traffic.js';
import { SynFloodDetector } from './syn-flood.js';

const T0 = Date.UTC(2026, 0, 5, 9);
const rng = seededRandom(31);
const web = { agentId: 'web-1', hostname: 'web-1.corp.example' };

function run(d: SynFloodDetector, flows: StoredFlow[], batch = 500) {
  const alerts = [];
  let flagged = 0;
  for (const b of inBatches(flows, batch)) {
    const r = d.observe(b);
    alerts.push(...r.alerts);
    flagged += [...r.flagged.values()].filter((l) => l === Level.malicious).length;
  }
  return { alerts, flagged };
}

describe('syn-flood', () => {
  it('syn-flood - a spoofed flood names the victim, with the number of sources', () => {
    const flows = synFlood(rng, T0, { spoofed: true, count: 3000, spanMs: 8000 }).map((f) => asStoredFlow(f, web));
    const { alerts, flagged } = run(new SynFloodDetector(), flows);
    expect(alerts).toHaveLength(1);
    const a = alerts[0];
    expect(a).toMatchObject({ kind: 'syn_flood', level: 'malicious', subject: '10.0.0.80', target: '10.0.0.80', agentId: 'web-1', detector: 'syn-flood/1' });
    expect(a.evidence).toMatchObject({ targetPort: 443, answeredWithSynAck: '100%' });
    expect(a.evidence.distinctSources as number).toBeGreaterThan(200);
    expect(a.evidence.dominantSourceShare as number).toBeLessThan(0.05);
    expect(a.summary).toMatch(/^10\.0\.0\.80:443 got [\d,]+ half-open connections from [\d,]+ sources in \d+ s \(SYN flood\)$/);
    expect(a.flowIds).toHaveLength(20);
    // Once it is known, every half-open flow to the victim is flagged (the first ones crossed the line).
    expect(flagged).toBeGreaterThan(3000 - 500);
  });

  it('syn-flood - a flood from one source names it, with the victim as target', () => {
    const A = TEST_NETWORK.attack;
    const flows = synFlood(rng, T0, { spoofed: false, count: 800, spanMs: 5000, source: A.singleFloodSource }).map((f) => asStoredFlow(f, web));
    const { alerts } = run(new SynFloodDetector(), flows);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ subject: A.singleFloodSource, target: '10.0.0.80', evidence: { targetPort: 80, answeredWithSynAck: '0%', distinctSources: 1 } });
    expect(alerts[0].summary).toMatch(/^203\.0\.113\.66 sent [\d,]+ half-open connections \(SYN, no handshake\) to 10\.0\.0\.80:80 in \d+ s$/);
  });

  it('syn-flood - a busy server with completed handshakes and a slow trickle of half-open ones stay quiet', () => {
    const d = new SynFloodDetector();
    const busy = Array.from({ length: 5000 }, (_, i) =>
      asStoredFlow(buildFlow({
        src: `198.51.${i >> 8}.${i & 255}`, dst: '10.0.0.80', sport: 40_000 + i, dport: 443, proto: 'tcp', startMs: T0 + i * 2,
        durationMs: 300, packetsToDst: 8, packetsToSrc: 10, bytesToDst: 1500, bytesToSrc: 20_000, tcp: 'complete',
      }, rng), web),
    );
    // 400 half-open connections, but over 100 s: about 40 per 10 s window.
    const trickle = synFlood(rng, T0, { spoofed: true, count: 400, spanMs: 100_000 }).map((f) => asStoredFlow(f, web));
    expect(run(d, busy).alerts).toEqual([]);
    expect(run(d, trickle).alerts).toEqual([]);
  });

  it('syn-flood - a flow reported by the agents at both ends counts once', () => {
    const flows = synFlood(rng, T0, { spoofed: false, count: 150, spanMs: 2000 });
    const seenTwice = flows.flatMap((f) => [asStoredFlow(f, web), asStoredFlow({ ...f, flowId: `${f.flowId.slice(0, -4)}ffff` }, { agentId: 'attacker', hostname: 'x' })]);
    expect(run(new SynFloodDetector(), seenTwice).alerts).toEqual([]);
  });

  it('syn-flood - one alert per victim per cooldown, and bounded state under 100k targets', () => {
    const d = new SynFloodDetector({ cooldownMs: 60_000, maxTrackedKeys: 2_000, maxTotalElements: 10_000 });
    const wave = (t: number) => synFlood(rng, t, { spoofed: true, count: 600, spanMs: 3000 }).map((f) => asStoredFlow(f, web));
    expect(run(d, wave(T0)).alerts).toHaveLength(1);
    expect(run(d, wave(T0 + 20_000)).alerts).toHaveLength(0);
    expect(run(d, wave(T0 + 90_000)).alerts).toHaveLength(1);
    const one = wave(T0)[0];
    const spread: StoredFlow[] = Array.from({ length: 100_000 }, (_, i) => ({ ...one, dst: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, firstSeenMs: T0 + 100_000 + i }));
    expect(run(d, spread, 10_000).alerts).toEqual([]);
    expect(d.stats().trackedKeys).toBeLessThanOrEqual(2_000);
    expect(d.stats().evictedKeys).toBeGreaterThan(0);
  });
});
