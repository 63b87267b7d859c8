import { describe, expect, it } from 'vitest';
import type { StoredFlow } from '../../types.js';
import { FEATURE_NAMES } from '../features.js';
import { ModelManager } from '../model-manager.js';
import { InMemoryModelStore } from '../model-store.js';
import { ordinaryTraffic, outlierTraffic, toStoredFlows, type LabelledFlow } from '../test-traffic.js';
import { AnomalyDetector } from './anomaly.js';

async function trainedManager(): Promise<ModelManager> {
  const mm = new ModelManager({ store: new InMemoryModelStore() });
  mm.observe(ordinaryTraffic({ seed: 3 }).map((l) => l.flow));
  await mm.trainNow(Date.UTC(2026, 0, 5, 10));
  return mm;
}

function scored(mm: ModelManager, labelled: LabelledFlow[]): StoredFlow[] {
  const flows = toStoredFlows(labelled);
  const r = mm.scoreBatch(flows);
  flows.forEach((f, i) => {
    f.score = r.scores[i];
    f.level = r.levels[i] as StoredFlow['level'];
  });
  return flows;
}

describe('anomaly', () => {
  it('anomaly - a flow at the malicious score raises one alert per source, explained by its top features', async () => {
    const mm = await trainedManager();
    const flows = scored(mm, outlierTraffic(40, { seed: 8 }));
    const malicious = flows.filter((f) => f.score >= (mm.model?.thresholds.malicious ?? 1));
    expect(malicious.length).toBeGreaterThan(0);
    const d = new AnomalyDetector(() => mm.model);
    const r = d.observe(flows);
    expect(r.alerts.map((a) => a.subject).sort()).toEqual([...new Set(malicious.map((f) => f.src))].sort());
    expect(r.flagged.size).toBe(malicious.length);
    const a = r.alerts[0];
    expect(a).toMatchObject({ kind: 'anomaly', level: 'malicious', detector: `iforest/${mm.model?.version}` });
    const top = a.evidence.topFeatures as { name: string; deviation: number }[];
    expect(top).toHaveLength(3);
    expect(top.every((t) => (FEATURE_NAMES as readonly string[]).includes(t.name))).toBe(true);
    expect(top[0].deviation).toBeGreaterThanOrEqual(top[1].deviation);
    expect(top[1].deviation).toBeGreaterThanOrEqual(top[2].deviation);
    expect(a.summary).toMatch(/^10\.0\.0\.\d+ -> \S+:\d+\/\w+ scored 0\.\d\d \(malicious from 0\.\d\d\); most unusual: \w+ /);
    // Same sources again within the cooldown: no new alerts.
    expect(d.observe(flows).alerts).toEqual([]);
  });

  it('anomaly - no model, no alerts; ordinary traffic raises alerts for at most 0.1% of flows', async () => {
    expect(new AnomalyDetector(() => null).observe(toStoredFlows(outlierTraffic(4))).alerts).toEqual([]);
    const mm = await trainedManager();
    const flows = scored(mm, ordinaryTraffic({ seed: 12 }));
    const alerts = new AnomalyDetector(() => mm.model).observe(flows).alerts;
    console.log(`anomaly: ${alerts.length} alerts on ${flows.length} ordinary flows: ${alerts.map((x) => x.summary).join(' | ')}`);
    expect(alerts.length).toBeLessThanOrEqual(flows.length * 0.001);
  });
});
