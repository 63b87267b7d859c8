import type { FlowRecord } from '@nta/shared';
import { describe, expect, it } from 'vitest';
import { Level } from '../types.js';
import { FeatureReservoir } from './feature-reservoir.js';
import { FEATURE_COUNT, FEATURE_NAMES } from './features.js';
import { ModelManager, toPersisted } from './model-manager.js';
import { InMemoryModelStore, type ModelStore, type PersistedModel } from './model-store.js';
import { ordinaryTraffic, outlierTraffic } from './test-traffic.js';

const ordinary = (seed: number): FlowRecord[] => ordinaryTraffic({ seed }).map((l) => l.flow);
const T0 = Date.UTC(2026, 0, 5, 10);

function fraction(levels: Uint8Array, level: number): number {
  return levels.filter((l) => l === level).length / levels.length;
}

describe('model-manager', () => {
  it('model-manager - before the first model every flow scores 0 and is normal', () => {
    const mm = new ModelManager({ store: new InMemoryModelStore() });
    const flows = ordinary(1).slice(0, 50);
    const r = mm.scoreBatch(flows);
    expect(r.model).toBeNull();
    expect(Array.from(r.scores).every((s) => s === 0)).toBe(true);
    expect(Array.from(r.levels).every((l) => l === Level.normal)).toBe(true);
    expect(mm.scoreBatch([]).scores.length).toBe(0);
  });

  it('model-manager - trains only when due, off the scoring path, with increasing versions', async () => {
    const store = new InMemoryModelStore();
    const mm = new ModelManager({ store, minTrainingRows: 2_000, retrainIntervalMs: 600_000, reservoirRows: 10_000 });
    const flows = ordinary(2);
    mm.observe(flows.slice(0, 1_500));
    expect(mm.retrainIfDue(T0)).toBe(false); // too few rows
    mm.observe(flows.slice(1_500, 5_000));
    expect(mm.retrainIfDue(T0)).toBe(true);
    expect(mm.retrainIfDue(T0)).toBe(false); // one at a time
    // Scheduled, not run inline: scoring right now still sees no model.
    expect(mm.scoreBatch(flows.slice(0, 10)).model).toBeNull();
    await mm.waitForTraining();
    expect(mm.model?.version).toBe(1);
    expect(mm.model?.rowsUsed).toBe(5_000);
    expect(mm.retrainIfDue(T0 + 599_999)).toBe(false); // interval not over
    expect(mm.retrainIfDue(T0 + 600_000)).toBe(true);
    await mm.waitForTraining();
    expect(mm.model?.version).toBe(2);
    expect(mm.model?.trainedAtMs).toBe(T0 + 600_000);
    expect(store.versions()).toEqual([1, 2]);
    expect(mm.stats()).toMatchObject({ modelVersion: 2, trainings: 2, reservoirRows: 5_000 });
  });

  it('model-manager - planted outliers reach malicious far more often than ordinary flows', async () => {
    const mm = new ModelManager({ store: new InMemoryModelStore() });
    mm.observe(ordinary(3));
    await mm.trainNow(T0);
    const fresh = mm.scoreBatch(ordinary(4));
    const planted = mm.scoreBatch(outlierTraffic(40, { seed: 4 }).map((l) => l.flow));
    const ordinaryMalicious = fraction(fresh.levels, Level.malicious);
    const plantedMalicious = fraction(planted.levels, Level.malicious);
    console.log(`model: malicious ordinary ${(ordinaryMalicious * 100).toFixed(3)}%, planted ${(plantedMalicious * 100).toFixed(0)}%`);
    expect(plantedMalicious).toBeGreaterThan(0.25);
    expect(ordinaryMalicious).toBeLessThan(0.001);
    expect(fraction(fresh.levels, Level.suspicious)).toBeLessThan(0.02);
    expect(planted.levels.every((l) => l !== Level.normal)).toBe(true);
  });

  it('model-manager - a restored model scores identically and versions continue after it', async () => {
    const store = new InMemoryModelStore();
    const first = new ModelManager({ store, seed: 9 });
    first.observe(ordinary(5));
    await first.trainNow(T0);
    const probe = [...ordinary(6).slice(0, 500), ...outlierTraffic(8).map((l) => l.flow)];
    const before = first.scoreBatch(probe);

    const second = new ModelManager({ store, seed: 9 });
    const loaded = await second.init();
    expect(loaded?.version).toBe(1);
    const after = second.scoreBatch(probe);
    expect(Array.from(after.scores)).toEqual(Array.from(before.scores));
    expect(Array.from(after.levels)).toEqual(Array.from(before.levels));
    expect(after.model?.thresholds).toEqual(before.model?.thresholds);

    second.observe(ordinary(7).slice(0, 3_000));
    expect(second.retrainIfDue(T0 + 60_000)).toBe(false); // the loaded model is fresh enough
    await second.trainNow(T0 + 60_000);
    expect(second.model?.version).toBe(2);
    expect(store.versions()).toEqual([1, 2]);
  });

  it('model-manager - ignores a stored model for other features or a corrupt one, and says so', async () => {
    const good = new ModelManager({ store: new InMemoryModelStore() });
    good.observe(ordinary(8).slice(0, 3_000));
    const model = await good.trainNow(T0);
    if (model === null) throw new Error('no model');
    const persisted = toPersisted(model);
    const variants: PersistedModel[] = [
      { ...persisted, featureNames: [...FEATURE_NAMES].reverse() },
      { ...persisted, forest: { ...persisted.forest, threshold: 'AAAA' } },
      { version: 1, layout: 'from an older release' } as unknown as PersistedModel,
    ];
    for (const stored of variants) {
      const errors: string[] = [];
      const store: ModelStore = { loadLatest: async () => stored, save: async () => {} };
      const mm = new ModelManager({ store, onError: (err, during) => errors.push(`${during}: ${String(err)}`) });
      expect(await mm.init()).toBeNull();
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatch(/^load: .*(not used|not valid)/);
      // Versions still continue after the stored one.
      mm.observe(ordinary(9).slice(0, 2_500));
      expect((await mm.trainNow(T0))?.version).toBe(2);
    }
  });

  it('model-manager - a store that fails to load or save is reported and the model is used anyway', async () => {
    const errors: string[] = [];
    const store: ModelStore = {
      loadLatest: async () => {
        throw new Error('db down');
      },
      save: async () => {
        throw new Error('disk full');
      },
    };
    const mm = new ModelManager({ store, onError: (err, during) => errors.push(`${during}: ${(err as Error).message}`) });
    expect(await mm.init()).toBeNull();
    mm.observe(ordinary(10).slice(0, 2_500));
    const model = await mm.trainNow(T0);
    expect(model?.version).toBe(1);
    expect(mm.scoreBatch(ordinary(10).slice(0, 5)).model).toBe(model);
    expect(errors).toEqual(['load: db down', 'save: disk full']);
  });

  it('model-manager - the reservoir stays bounded and malicious flows are not learnt', () => {
    const mm = new ModelManager({ store: new InMemoryModelStore(), reservoirRows: 5_000 });
    const flows = ordinary(11);
    for (let i = 0; i < 4; i++) mm.observe(flows);
    expect(mm.stats().reservoirRows).toBe(5_000);

    const picky = new ModelManager({ store: new InMemoryModelStore(), reservoirRows: 5_000 });
    const levels = new Uint8Array(100).fill(Level.malicious);
    levels[7] = Level.suspicious;
    picky.observe(flows.slice(0, 100), levels);
    expect(picky.stats().reservoirRows).toBe(1);
  });

  it('model-manager - scores 500-flow batches, features included (throughput logged, not asserted)', async () => {
    const mm = new ModelManager({ store: new InMemoryModelStore() });
    mm.observe(ordinary(13));
    await mm.trainNow(T0);
    const batches: FlowRecord[][] = [];
    const flows = ordinary(14);
    for (let i = 0; i + 500 <= flows.length; i += 500) batches.push(flows.slice(i, i + 500));
    for (const b of batches) mm.scoreBatch(b); // warm-up
    const before = process.cpuUsage();
    let malicious = 0;
    for (const b of batches) malicious += mm.scoreBatch(b).levels.filter((l) => l === Level.malicious).length;
    const used = process.cpuUsage(before);
    const cpuMs = (used.user + used.system) / 1000;
    const n = batches.length * 500;
    console.log(`model-manager: scoreBatch ${n} flows in 500-flow batches, ${cpuMs.toFixed(1)} ms CPU = ${Math.round((n / cpuMs) * 1000)} flows/s`);
    expect(malicious).toBeLessThan(n * 0.001);
  });

  it('model-manager - hostile extreme values score within [0, 1]', async () => {
    const mm = new ModelManager({ store: new InMemoryModelStore() });
    mm.observe(ordinary(12).slice(0, 3_000));
    await mm.trainNow(T0);
    const base = ordinary(12)[0];
    const extreme: FlowRecord = {
      ...base,
      packets: Number.MAX_SAFE_INTEGER,
      bytes: Number.MAX_VALUE,
      bytesToDst: Number.MAX_VALUE,
      features: { ...base.features, durationMs: Number.MAX_VALUE, iatMaxMs: Number.MAX_VALUE, pktSizeMean: 1e200, rstCount: 1e15 },
    };
    const r = mm.scoreBatch([extreme, extreme]);
    for (const s of r.scores) expect(s >= 0 && s <= 1).toBe(true);
  });
});

describe('feature-reservoir', () => {
  it('feature-reservoir - keeps a uniform sample and, after an epoch, mostly new rows', () => {
    const r = new FeatureReservoir(1_000, FEATURE_COUNT, 3);
    const write = (tag: number, n: number): void => {
      for (let i = 0; i < n; i++) {
        const at = r.reserveRow();
        if (at >= 0) r.data[at] = tag;
      }
    };
    write(1, 10_000);
    expect(r.rows).toBe(1_000);
    r.startEpoch();
    write(2, 9_000);
    const share = (tag: number): number => {
      let n = 0;
      for (let i = 0; i < r.rows; i++) if (r.data[i * FEATURE_COUNT] === tag) n++;
      return n / r.rows;
    };
    // After the epoch the old sample weighs as 1,000 rows against 9,000 new: about 10% old.
    expect(share(1)).toBeGreaterThan(0.05);
    expect(share(1)).toBeLessThan(0.15);
    expect(r.snapshot().data.length).toBe(1_000 * FEATURE_COUNT);
  });
});
