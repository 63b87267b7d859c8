/**
 * pnpm bench collector [--flows N] [--history N] [--flavor postgres|timescaledb] [--skip-ingest] [--skip-history]
 *
 * 1. Ingest: N flows pre-published to JetStream in 500-flow batches, consumed by a running
 *    collector with scoring and enrichment on, until all are stored; against a raw binary
 *    COPY of the same rows into the same table (10k-row transactions) in the same run.
 * 2. Queries: top talkers over `history` flows (default 10 M) from 50 hosts across 24 h,
 *    through the REST API, p50/p95 over a mix of ranges, metrics and host filters; against
 *    the same aggregation straight over the raw flows table.
 */
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import pgCopy from 'pg-copy-streams';
import { pino } from 'pino';
import { connect } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { flowSubject, type FlowBatch } from '@nta/shared';
import { ensureStreams } from '@nta/shared/nats';
import { loadConfig, startCollector } from '@nta/collector';
import { migrate } from '../../packages/collector/src/db/migrations.js';
import { BinaryCopyEncoder } from '../../packages/collector/src/db/binary-copy.js';
import { FLOW_COLUMN_NAMES, encodeFlowRow } from '../../packages/collector/src/db/flow-rows.js';
import { PartitionManager, dayStartMs } from '../../packages/collector/src/db/partitions.js';
import { RollupRefresher } from '../../packages/collector/src/db/rollups.js';
import { startServers } from '../../tests/helpers/collector-stack.js';
import { DEFAULT_SHAPE, makeFlow, rng, toStored } from './traffic.js';

const { values: opts } = parseArgs({
  options: {
    flows: { type: 'string', default: '500000' },
    history: { type: 'string', default: '10000000' },
    flavor: { type: 'string', default: 'postgres' },
    'skip-ingest': { type: 'boolean', default: false },
    'skip-history': { type: 'boolean', default: false },
    queries: { type: 'string', default: '40' },
  },
});
const FLOWS = Number(opts.flows);
const HISTORY = Number(opts.history);
const flavor = opts.flavor === 'timescaledb' ? 'timescaledb' : 'postgres';
const log = pino({ level: process.env.NTA_BENCH_LOG ?? 'warn' });
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const say = (s: string) => process.stdout.write(`${s}\n`);

const COLUMNS = FLOW_COLUMN_NAMES.join(', ');

async function copyRows(pool: pg.Pool, partitions: PartitionManager, rows: ReturnType<typeof toStored>[]): Promise<void> {
  const client = await pool.connect();
  try {
    await partitions.ensure(client, 'flows', new Set(rows.map((r) => dayStartMs(r.firstSeenMs))));
    const enc = new BinaryCopyEncoder(rows.length * 260);
    for (const r of rows) encodeFlowRow(enc, r);
    await client.query('BEGIN');
    await pipeline(Readable.from([enc.finish()]), client.query(pgCopy.from(`COPY flows (${COLUMNS}) FROM STDIN (FORMAT binary)`)));
    await client.query('COMMIT');
  } finally {
    client.release();
  }
}

function fleetFlows(count: number, spanMs: number, endMs: number, seed: number) {
  const r = rng(seed);
  const out: { host: number; flow: ReturnType<typeof makeFlow> }[] = [];
  for (let n = 0; n < count; n++) {
    const host = n % DEFAULT_SHAPE.hosts;
    out.push({ host, flow: makeFlow(n + seed * 100_000_000, host, endMs - spanMs + Math.floor((n / count) * spanMs), r) });
  }
  return out;
}

async function benchIngest(servers: Awaited<ReturnType<typeof startServers>>): Promise<void> {
  say(`\n== ingest: ${fmt(FLOWS)} flows, ${flavor} ==`);
  const endMs = Date.now() - 60_000;
  await rawCopyReference(servers, endMs);
  await publishFleet(servers, endMs);
  await consume(servers);
}

let copyRate = 0;

async function rawCopyReference(servers: Awaited<ReturnType<typeof startServers>>, endMs: number): Promise<void> {
  const flows = fleetFlows(FLOWS, 3_600_000, endMs, 1);

  // Reference: raw binary COPY of the same rows into the same (empty, indexed) table.
  const refUrl = await servers.pg.createDatabase();
  const refPool = new pg.Pool({ connectionString: refUrl, max: 2, options: '-c TimeZone=UTC' });
  refPool.on('error', () => {});
  const storage = await migrate(refPool);
  const partitions = new PartitionManager(storage);
  // Through JSON, as the collector receives them: same object shapes, same encoding cost.
  const stored = JSON.parse(JSON.stringify(flows.map((f) => toStored(f.flow, f.host)))) as ReturnType<typeof toStored>[];
  const t0 = performance.now();
  for (let i = 0; i < stored.length; i += 10_000) await copyRows(refPool, partitions, stored.slice(i, i + 10_000));
  const copySeconds = (performance.now() - t0) / 1000;
  await refPool.end();
  copyRate = FLOWS / copySeconds;
  say(`raw COPY (10k-row transactions): ${fmt(copyRate)} rows/s (${copySeconds.toFixed(2)} s)`);
}

/** Same flows (same seed) as the reference, in 500-flow batches per agent; nothing kept in memory after. */
async function publishFleet(servers: Awaited<ReturnType<typeof startServers>>, endMs: number): Promise<void> {
  const flows = fleetFlows(FLOWS, 3_600_000, endMs, 1);

  // The collector: batches waiting in JetStream, then consumed with scoring and enrichment on.
  const nc = await connect({ servers: servers.nats.url });
  await ensureStreams(await jetstreamManager(nc));
  const js = jetstream(nc);
  const byHost = new Map<number, typeof flows>();
  for (const f of flows) {
    let list = byHost.get(f.host);
    if (!list) byHost.set(f.host, (list = []));
    list.push(f);
  }
  let seq = 0;
  const pending: Promise<unknown>[] = [];
  for (const [host, list] of byHost) {
    for (let i = 0; i < list.length; i += 500) {
      const batch: FlowBatch = {
        v: 1,
        agentId: `host-${host}`,
        hostname: `host-${host}.bench`,
        runId: 'bench',
        seq: seq++,
        sentAtMs: Date.now(),
        flows: list.slice(i, i + 500).map((f) => f.flow),
      };
      pending.push(js.publish(flowSubject(batch.agentId), JSON.stringify(batch), { msgID: `bench.${batch.seq}` }));
      if (pending.length >= 64) await Promise.all(pending.splice(0));
    }
  }
  await Promise.all(pending);
  await nc.close();
  say(`published ${fmt(seq)} messages to JetStream`);
}

async function consume(servers: Awaited<ReturnType<typeof startServers>>): Promise<void> {

  const dbUrl = await servers.pg.createDatabase();
  const config = loadConfig({ NATS_URL: servers.nats.url, DATABASE_URL: dbUrl, PORT: '0', LOG_LEVEL: 'warn', NTA_RETENTION_DAYS: '0', NTA_CONSUMER: 'bench', NTA_BATCH_FLOWS: process.env.NTA_BATCH_FLOWS });
  const probe = new pg.Pool({ connectionString: dbUrl, max: 1 });
  probe.on('error', () => {});
  (globalThis as { gc?: () => void }).gc?.();
  const s0 = performance.now();
  const collector = await startCollector(config, log);
  // Measured from when the collector is up (migrations, GeoIP load and start-up excluded).
  const t0 = performance.now();
  const startedWith = Number((await probe.query('SELECT count(*) AS n FROM flows')).rows[0].n);
  say(`collector started in ${((t0 - s0) / 1000).toFixed(2)} s (${fmt(startedWith)} flows already stored by then)`);
  let count = 0;
  let lastReport = t0;
  while (count < FLOWS) {
    await new Promise((r) => setTimeout(r, 250));
    count = Number((await probe.query('SELECT count(*) AS n FROM flows')).rows[0].n);
    if (performance.now() - lastReport > 5000) {
      lastReport = performance.now();
      say(`  ${fmt(count)} / ${fmt(FLOWS)} stored`);
    }
  }
  const ingestSeconds = (performance.now() - t0) / 1000;
  const rate = (FLOWS - startedWith) / ingestSeconds;
  const alerts = Number((await probe.query('SELECT count(*) AS n FROM alerts')).rows[0].n);
  await collector.close();
  await probe.end();
  say(`collector end to end (JetStream -> validate -> GeoIP/intel -> score + detectors -> COPY -> ack): ${fmt(rate)} flows/s (${ingestSeconds.toFixed(2)} s; ${alerts} alerts raised)`);
  say(`ratio to raw COPY: ${((rate / copyRate) * 100).toFixed(1)} %   [targets: >= 100,000 flows/s and >= 50 %]`);
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function benchHistory(servers: Awaited<ReturnType<typeof startServers>>): Promise<void> {
  say(`\n== top talkers over ${fmt(HISTORY)} flows, ${DEFAULT_SHAPE.hosts} hosts, 24 h, ${flavor} ==`);
  const dbUrl = await servers.pg.createDatabase();
  const pool = new pg.Pool({ connectionString: dbUrl, max: 2, options: '-c TimeZone=UTC' });
  pool.on('error', () => {});
  const storage = await migrate(pool);
  const partitions = new PartitionManager(storage);
  const endMs = Date.now() - 120_000;
  const spanMs = 24 * 3_600_000;
  // Generated inside PostgreSQL (the same shape as traffic.ts: 50 hosts x 200 clients, a
  // 20,000-server pool with a cubic skew), so the load takes a minute, not ten.
  const t0 = performance.now();
  const chunk = 1_000_000;
  for (let done = 0; done < HISTORY; done += chunk) {
    const n = Math.min(chunk, HISTORY - done);
    const days = new Set<number>();
    for (let d = dayStartMs(endMs - spanMs); d <= endMs; d += 86_400_000) days.add(d);
    const client = await pool.connect();
    try {
      await partitions.ensure(client, 'flows', days);
    } finally {
      client.release();
    }
    await pool.query(
      `INSERT INTO flows (${COLUMNS})
       SELECT md5(i::text || 'nta')::uuid, 'host-' || (i % 50), ts, ts + make_interval(secs => (h2 % 30000) / 1000.0),
              4, CASE WHEN i % 10 < 7 THEN 6 ELSE 17 END, CASE WHEN i % 10 < 7 THEN 'tcp' ELSE 'udp' END,
              ('10.' || (i % 50) || '.' || ((h1 % 200) / 256) || '.' || (h1 % 200) % 256)::inet,
              ('23.' || (srv / 256 % 256) || '.' || (srv % 256) || '.' || (srv * 7 % 256))::inet,
              1024 + h2 % 60000, CASE WHEN i % 10 < 6 THEN 443 WHEN i % 10 < 7 THEN 80 ELSE 53 END, NULL,
              pk / 2 + 1, pk / 2, by3, by - by3, pk + 1, by, 27, 27, 'fin',
              NULL, NULL, NULL, NULL, NULL, NULL, NULL, (h2 % 30000)::float8, 'private', 'US', NULL, 15169, 0.4, 0, NULL
         FROM (
           SELECT i, ts, h1, h2, srv, pk, pk * (60 + h2 % 1200) AS by, (pk * (60 + h2 % 1200)) * 3 / 10 AS by3
             FROM (
               SELECT i, to_timestamp(($2::float8 + (i::float8 / $3) * $4) / 1000.0) AS ts,
                      abs(hashint8(i)) AS h1, abs(hashint8(i + 7777777)) AS h2,
                      floor(20000 * power((abs(hashint8(i + 3333333)) % 1000000) / 1000000.0, 3))::int AS srv,
                      2 + abs(hashint8(i + 5555555)) % 40 AS pk
                 FROM generate_series($1::bigint, $1::bigint + $5 - 1) AS i
             ) x
         ) y`,
      [done, endMs - spanMs, HISTORY, spanMs, n],
    );
    say(`  loaded ${fmt(done + n)} / ${fmt(HISTORY)} (${fmt((done + n) / ((performance.now() - t0) / 1000))} rows/s)`);
  }
  await pool.query(`INSERT INTO rollup_dirty (bucket, agent_id) SELECT DISTINCT date_trunc('hour', first_seen), agent_id FROM flows ON CONFLICT DO NOTHING`);
  say(`loaded in ${((performance.now() - t0) / 1000).toFixed(1)} s; computing rollups`);
  const r0ll = performance.now();
  const refresher = new RollupRefresher(pool, { settleMs: 0, intervalMs: 1000, retentionDays: 0, onError: () => {} });
  const buckets = await refresher.refreshAll(0);
  await pool.query('ANALYZE');
  say(`rollups: ${buckets} buckets in ${((performance.now() - r0ll) / 1000).toFixed(1)} s`);

  const config = loadConfig({ NATS_URL: servers.nats.url, DATABASE_URL: dbUrl, PORT: '0', LOG_LEVEL: 'warn', NTA_RETENTION_DAYS: '0', NTA_CONSUMER: 'bench-history' });
  const collector = await startCollector(config, log);
  const base = await collector.listen('127.0.0.1', 0);
  const iso = (ms: number) => new Date(ms).toISOString();
  const variants = [
    () => `by=src&metric=bytes&from=-24h`,
    () => `by=dst&metric=bytes&from=-24h`,
    () => `by=pair&metric=packets&from=-24h`,
    () => `by=dst&metric=packets&from=-1h`,
    () => `by=src&metric=bytes&from=-6h&host=host-${Math.floor(Math.random() * 50)}`,
    () => {
      const from = endMs - spanMs + Math.random() * (spanMs - 7_200_000);
      return `by=dst&metric=bytes&from=${iso(from)}&to=${iso(from + 3 * 3_600_000 + 1_234_567)}`;
    },
  ];
  const times: number[] = [];
  const addressTimes: number[] = [];
  const perVariant = new Map<number, number[]>();
  const queries = Number(opts.queries);
  for (let i = 0; i < queries; i++) {
    const v = i % variants.length;
    const url = `${base}/api/v1/stats/top-talkers?limit=10&${variants[v]!()}`;
    const q0 = performance.now();
    const res = await fetch(url);
    await res.json();
    if (res.status !== 200) throw new Error(`${url}: ${res.status}`);
    const ms = performance.now() - q0;
    if (i >= variants.length) {
      times.push(ms);
      if (!url.includes('by=pair')) addressTimes.push(ms);
      (perVariant.get(v) ?? perVariant.set(v, []).get(v)!).push(ms);
    }
  }
  times.sort((a, b) => a - b);
  for (const [v, list] of perVariant) say(`  ${variants[v]!().replace(/from=[^&]*T[^&]*&to=[^&]*/, 'from=<random 3h window>')}: median ${list.sort((a, b) => a - b)[Math.floor(list.length / 2)]!.toFixed(0)} ms`);
  // Reference: the same 24 h aggregation straight over raw flows.
  const r0 = performance.now();
  await pool.query(`SELECT host(dst), sum(bytes) FROM flows WHERE first_seen >= now() - interval '24 hours' GROUP BY dst ORDER BY 2 DESC LIMIT 10`);
  const rawMs = performance.now() - r0;
  addressTimes.sort((a, b) => a - b);
  say(`top talkers via API, all variants: p50 ${percentile(times, 50).toFixed(0)} ms, p95 ${percentile(times, 95).toFixed(0)} ms over ${times.length} queries   [target: p95 <= 300 ms]`);
  say(`top talkers via API, by src or dst: p50 ${percentile(addressTimes, 50).toFixed(0)} ms, p95 ${percentile(addressTimes, 95).toFixed(0)} ms over ${addressTimes.length} queries`);
  say(`same 24 h by=dst over raw flows: ${rawMs.toFixed(0)} ms (rollups are ${(rawMs / percentile(times, 50)).toFixed(1)}x faster at the median)`);
  await collector.close();
  await pool.end();
}

// A server sized like a small production one, not like the test suite's (64 MB buffers).
const servers = await startServers(flavor, { shared_buffers: '1GB', work_mem: '64MB', maintenance_work_mem: '256MB', effective_cache_size: '8GB' });
try {
  if (!opts['skip-ingest']) await benchIngest(servers);
  if (!opts['skip-history']) await benchHistory(servers);
} finally {
  await servers.cleanup();
}
