import { performance } from 'node:perf_hooks';
import { pino } from 'pino';
import pg from 'pg';
import { decodeFlowBatch } from '../../packages/collector/src/ingest/message-decoder.js';
import { enrichBatches } from '../../packages/collector/src/ingest/enrich.js';
import { startEnrichment } from '../../packages/collector/src/enrichment-setup.js';
import { loadConfig } from '../../packages/collector/src/config.js';
import { makeFlow, rng } from './traffic.js';
const r = rng(1);
const te = new TextEncoder();
const msgs: Uint8Array[] = [];
for (let i = 0; i < 400; i++) {
  const host = i % 50;
  msgs.push(te.encode(JSON.stringify({ v: 1, agentId: `host-${host}`, hostname: 'h', runId: 'r', seq: i, sentAtMs: 0, flows: Array.from({ length: 500 }, (_, k) => makeFlow(i * 500 + k, host, Date.now() - 3600_000 + i * 9000 + k, r)) })));
}
const pool = new pg.Pool({ connectionString: 'postgres://nobody@127.0.0.1:1/x' });
const en = await startEnrichment(loadConfig({}), { pool, log: pino({ level: 'silent' }) });
for (let round = 0; round < 3; round++) {
  let tDecode = 0, tEnrich = 0, tObserve = 0;
  for (let i = 0; i < msgs.length; i += 20) {
    let t = performance.now();
    const batches = msgs.slice(i, i + 20).map((m, j) => decodeFlowBatch(`nta.v1.flows.host-${(i + j) % 50}`, m)).map((d) => { if (!d.ok) throw new Error(d.reason); return d.value; });
    tDecode += performance.now() - t; t = performance.now();
    const e = enrichBatches(batches, en.enrichment);
    tEnrich += performance.now() - t; t = performance.now();
    en.observe(e.flows);
    tObserve += performance.now() - t;
  }
  const n = msgs.length * 500;
  console.log(`decode ${(tDecode * 1000 / n).toFixed(2)} us/flow, enrich+score+detect ${(tEnrich * 1000 / n).toFixed(2)}, observe ${(tObserve * 1000 / n).toFixed(2)}`);
}
await en.stop();
{
  const batches = msgs.slice(0, 100).map((m, j) => decodeFlowBatch(`nta.v1.flows.host-${j % 50}`, m)).map((d) => (d.ok ? d.value : null)!);
  const flows = batches.flatMap((b) => b.flows);
  const stored = enrichBatches(batches, {}).flows;
  const time = (label: string, fn: () => void) => { fn(); const t = performance.now(); fn(); fn(); console.log(label, ((performance.now() - t) * 1000 / (2 * flows.length)).toFixed(2), 'us/flow'); };
  time('geo (4 lookups)', () => { for (const f of flows) { en.enrichment.geo!.countryLabel(f.src); en.enrichment.geo!.countryLabel(f.dst); en.enrichment.geo!.asn(f.src); en.enrichment.geo!.asn(f.dst); } });
  time('scoreBatch', () => { for (const b of batches) en.enrichment.scorer!.scoreBatch(b.flows); });
  time('detectors', () => { for (let i = 0; i < stored.length; i += 10000) en.enrichment.detectors!.observe(stored.slice(i, i + 10000)); });
  time('enrich bare', () => { enrichBatches(batches, {}); });
}
