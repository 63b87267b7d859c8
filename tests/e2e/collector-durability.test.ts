/**
 * No flow lost, none stored twice, whatever happens to the collector or the database:
 * the collector killed (SIGKILL) in the middle of a load and started again; the database
 * stopped for 30 s while agents keep publishing; hostile messages mixed in, which must
 * land in the dead-letter stream with a reason and never in the tables.
 */
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JetStreamClient } from '@nats-io/jetstream';
import { Streams, flowSubject, heartbeatSubject } from '@nta/shared';
import { ensureStreams } from '@nta/shared/nats';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FLAVORS, collectorEnv, spawnCollector, startInProcessCollector, startServers, waitFor, type Servers } from '../helpers/collector-stack.js';
import { publishBatches, syntheticBatch } from '../helpers/flow-batches.js';

/** Rows and distinct flow ids of one agent (the servers, and so the streams, are shared by the tests of a flavour). */
async function counts(databaseUrl: string, agentId: string): Promise<{ rows: number; distinct: number }> {
  const client = new pg.Client({ connectionString: databaseUrl });
  client.on('error', () => {});
  await client.connect();
  try {
    const r = await client.query<{ rows: string; distinct: string }>('SELECT count(*) AS rows, count(DISTINCT flow_id) AS distinct FROM flows WHERE agent_id = $1', [agentId]);
    return { rows: Number(r.rows[0]!.rows), distinct: Number(r.rows[0]!.distinct) };
  } finally {
    await client.end();
  }
}

describe.each(FLAVORS)('collector durability on %s', (flavor) => {
  let servers: Servers;
  let nc: NatsConnection;
  let js: JetStreamClient;

  beforeAll(async () => {
    servers = await startServers(flavor);
    nc = await connect({ servers: servers.nats.url });
    await ensureStreams(await jetstreamManager(nc));
    js = jetstream(nc);
  });

  afterAll(async () => {
    await nc?.close();
    await servers?.cleanup();
  });

  it('stores every flow exactly once when the collector is killed mid-load and restarted', async () => {
    const databaseUrl = await servers.pg.createDatabase();
    const env = collectorEnv(servers.nats.url, databaseUrl, { NTA_CONSUMER: 'kill-test', NTA_ACK_WAIT_S: '3' });
    const agent = `kill-${flavor}`;
    const published = await publishBatches(js, agent, 0, 160, 500, Date.now() - 3_600_000);
    let child = spawnCollector(env);
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    await waitFor('the first flows stored', async () => (await counts(databaseUrl, agent).catch(() => ({ rows: 0 }))).rows >= 10_000, 60_000);
    child.kill('SIGKILL');
    await once(child, 'close');
    const atKill = await counts(databaseUrl, agent);
    expect(atKill.rows, 'killed before the load was through').toBeLessThan(published);
    expect(atKill.rows).toBe(atKill.distinct);

    // More arrives while it is down.
    const more = await publishBatches(js, agent, 160, 200, 500, Date.now() - 3_600_000);
    child = spawnCollector(env);
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    try {
      await waitFor('every flow stored', async () => (await counts(databaseUrl, agent)).rows >= published + more, 90_000);
      // Redeliveries of what was in flight at the kill (ack wait 3 s) must not add rows.
      await sleep(5_000);
      const final = await counts(databaseUrl, agent);
      expect(final, stderr.slice(-2000)).toEqual({ rows: published + more, distinct: published + more });
    } finally {
      child.kill('SIGTERM');
      await once(child, 'close');
    }
  });

  /** A new durable consumer starts at the beginning of the stream: earlier tests' flows are not this test's business. */
  const purgeFlows = async (): Promise<void> => {
    await (await jetstreamManager(nc)).streams.purge(Streams.flows.name);
  };

  it('loses nothing while the database is down for 30 s under load', async () => {
    await purgeFlows();
    const c = await startInProcessCollector(servers, { NTA_CONSUMER: 'outage-test' }, { rollupIntervalMs: 500, rollupSettleMs: 0, ackWaitMs: 5_000 });
    const agent = `outage-${flavor}`;
    let published = 0;
    let seq = 0;
    let publishing = true;
    const base = Date.now() - 7_200_000;
    const publisher = (async () => {
      while (publishing) {
        published += await publishBatches(js, agent, seq, seq + 2, 250, base);
        seq += 2;
        await sleep(100);
      }
    })();
    try {
      await waitFor('ingest running', async () => (await counts(c.databaseUrl, agent)).rows > 2_000);
      await servers.pg.stop();
      await sleep(30_000);
      const health = await c.get<{ ok: boolean; checks: { database: { ok: boolean } } }>('/healthz');
      expect(health.status).toBe(503);
      expect(health.body.checks.database.ok).toBe(false);
      await servers.pg.start();
      await sleep(3_000);
      publishing = false;
      await publisher;
      await waitFor('every flow stored after the outage', async () => (await counts(c.databaseUrl, agent)).rows >= published, 90_000);
      await sleep(2_000);
      expect(await counts(c.databaseUrl, agent)).toEqual({ rows: published, distinct: published });
      const health2 = await waitFor('healthy again', async () => {
        const h = await c.get<{ ok: boolean }>('/healthz');
        return h.body.ok ? h : undefined;
      });
      expect(health2.status).toBe(200);
    } finally {
      publishing = false;
      await publisher.catch(() => {});
      await c.close();
    }
  }, 300_000);

  it('sends invalid and hostile messages to the dead-letter subject with reasons, and stores none of them', async () => {
    await purgeFlows();
    const c = await startInProcessCollector(servers, { NTA_CONSUMER: 'hostile-test' });
    try {
      const agent = `hostile-${flavor}`;
      const good = syntheticBatch(agent, 0, 3, Date.now() - 600_000);
      const te = new TextEncoder();
      const badFlow = (patch: Record<string, unknown>) => JSON.stringify({ ...good, seq: 99, flows: [{ ...good.flows[0], flowId: '00000000-0000-4000-8000-00000000abcd', ...patch }] });
      const hostile: [string, Uint8Array | string, RegExp][] = [
        [flowSubject(agent), 'not json at all', /not JSON/],
        [flowSubject(agent), new Uint8Array([0xff, 0xfe, 0x00, 0x81]), /UTF-8/],
        [flowSubject(agent), '', /empty/],
        [flowSubject(agent), '{"v":1}', /schema/],
        [flowSubject(agent), JSON.stringify({ ...good, v: 2 }), /schema: v/],
        [flowSubject('someone-else'), JSON.stringify(good), /does not match subject/],
        [flowSubject(agent), badFlow({ src: "1.2.3.4'; DROP TABLE flows;--" }), /schema: flows\.0\.src/],
        [flowSubject(agent), badFlow({ packets: -5 }), /schema: flows\.0\.packets/],
        [flowSubject(agent), badFlow({ bytes: 'HUGE' }).replace('"HUGE"', '1e400'), /schema/],
        [flowSubject(agent), badFlow({ lastSeenMs: 1, firstSeenMs: 1000 }), /lastSeenMs before firstSeenMs/],
        [flowSubject(agent), badFlow({ lastSeenMs: 1e20 }), /beyond year 9999/],
        [flowSubject(agent), badFlow({ proto: 'x'.repeat(100_000) }), /schema: flows\.0\.proto/],
        [flowSubject(agent), JSON.stringify({ ...good, __proto__: { polluted: true }, flows: 'many' }), /schema/],
        [flowSubject(agent), JSON.stringify({ ...good, flows: Array(10_001).fill({}) }), /schema: flows/],
        [flowSubject(agent), '['.repeat(100_000), /not JSON/],
        [heartbeatSubject(agent), '{"v":1,"agentId":"x"}', /schema/],
      ];
      for (const [subject, body] of hostile) await js.publish(subject, typeof body === 'string' ? te.encode(body) : body);
      await js.publish(flowSubject(agent), JSON.stringify(good), { msgID: `${agent}.good` });

      const jsm = await jetstreamManager(nc);
      const info = await waitFor('dead letters', async () => {
        const i = await jsm.streams.info(Streams.deadLetters.name, { subjects_filter: '>' });
        return i.state.messages >= hostile.length ? i : undefined;
      });
      expect(info.state.messages).toBe(hostile.length);
      const reasons: string[] = [];
      const consumer = await js.consumers.get(Streams.deadLetters.name);
      const batch = await consumer.fetch({ max_messages: hostile.length, expires: 5000 });
      for await (const m of batch) {
        reasons.push(`${m.headers?.get('Nta-Original-Subject')} ${m.headers?.get('Nta-Reason')}`);
        if (reasons.length === hostile.length) break;
      }
      for (const [subject, , pattern] of hostile) {
        expect(reasons.some((r) => r.startsWith(subject) && pattern.test(r)), `${subject} ${pattern}: ${reasons.join('\n')}`).toBe(true);
      }
      await waitFor('the good batch stored', async () => (await counts(c.databaseUrl, agent)).rows === 3 || undefined);
      const rows = await c.query<{ flow_id: string }>('SELECT flow_id FROM flows ORDER BY flow_id');
      expect(rows.map((r) => r.flow_id).sort()).toEqual(good.flows.map((f) => f.flowId).sort());
      const metrics = await fetch(`${c.baseUrl}/metrics`).then((r) => r.text());
      expect(metrics).toMatch(/nta_dead_letters_total\{kind="flows"\} 15/);
      expect(metrics).toMatch(/nta_dead_letters_total\{kind="heartbeat"\} 1/);
      expect((await c.get<{ ok: boolean }>('/healthz')).body.ok).toBe(true);

      // NUL characters (which PostgreSQL text refuses) are replaced, and the batch stored.
      const nulAgent = `nul-${flavor}`;
      const withNul = syntheticBatch(nulAgent, 0, 2, Date.now() - 600_000);
      withNul.hostname = 'evil\u0000host';
      withNul.flows[0]!.l7 = { dnsQuery: 'a\u0000b.example' };
      await js.publish(flowSubject(nulAgent), JSON.stringify(withNul));
      await waitFor('the batch with NULs stored', async () => (await counts(c.databaseUrl, nulAgent)).rows === 2 || undefined);
      const dns = await c.query<{ dns_query: string }>('SELECT dns_query FROM flows WHERE agent_id = $1 AND dns_query IS NOT NULL', [nulAgent]);
      expect(dns.map((r) => r.dns_query)).toEqual(['a\uFFFDb.example']);
    } finally {
      await c.close();
    }
  });

  it.runIf(flavor === 'postgres')('re-creates a day partition that another collector dropped, losing nothing', async () => {
    await purgeFlows();
    const c = await startInProcessCollector(servers, { NTA_CONSUMER: 'partition-test' });
    try {
      const agent = `partition-${flavor}`;
      const dayAgo = Date.now() - 86_400_000;
      await js.publish(flowSubject(agent), JSON.stringify(syntheticBatch(agent, 0, 2, dayAgo)));
      await waitFor('first flows stored', async () => (await counts(c.databaseUrl, agent)).rows === 2 || undefined);
      // As another collector's retention would: the partition goes while this one remembers it.
      const day = new Date(dayAgo).toISOString().slice(0, 10).replaceAll('-', '');
      await c.query(`DROP TABLE flows_p${day}`);
      await js.publish(flowSubject(agent), JSON.stringify(syntheticBatch(agent, 1, 2, dayAgo)));
      await waitFor('flows stored again', async () => (await counts(c.databaseUrl, agent)).rows === 2 || undefined);
      expect(await counts(c.databaseUrl, agent)).toEqual({ rows: 2, distinct: 2 });
    } finally {
      await c.close();
    }
  });

  it('leaves out flows older than the retention horizon, counted, and stores the rest of their batch', async () => {
    await purgeFlows();
    const c = await startInProcessCollector(servers, { NTA_CONSUMER: 'retention-test', NTA_RETENTION_DAYS: '1' });
    try {
      const agent = `retention-${flavor}`;
      const old = syntheticBatch(agent, 0, 3, Date.now() - 10 * 86_400_000);
      const recent = syntheticBatch(agent, 1, 2, Date.now() - 60_000);
      const mixed = { ...recent, flows: [...old.flows, ...recent.flows] };
      await js.publish(flowSubject(agent), JSON.stringify(mixed));
      await waitFor('the recent flows stored', async () => (await counts(c.databaseUrl, agent)).rows === 2 || undefined);
      const metrics = await fetch(`${c.baseUrl}/metrics`).then((r) => r.text());
      expect(metrics).toContain(`nta_ingest_expired_flows_total{agent="${agent}"} 3`);
      expect(await counts(c.databaseUrl, agent)).toEqual({ rows: 2, distinct: 2 });
    } finally {
      await c.close();
    }
  });
});
