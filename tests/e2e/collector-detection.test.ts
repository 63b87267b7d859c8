/**
 * End to end, against a real nats-server and a real PostgreSQL 15 and TimescaleDB: what the
 * collector concludes about traffic. Labelled synthetic traffic (an office network with known
 * attackers) is published as its agents would publish it; the alerts and flow levels the API
 * serves must name every attacker and no ordinary host. Threat feeds and a reputation service
 * (a fake AbuseIPDB on loopback) must mark listed addresses, without holding up ingest.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { Streams, flowSubject, type FlowBatch, type FlowRecord } from '@nta/shared';
import { ensureStreams } from '@nta/shared/nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FLAVORS, startInProcessCollector, startServers, waitFor, type InProcessCollector, type Servers } from '../helpers/collector-stack.js';
import { buildFlow, mixedTraffic, seededRandom, TEST_NETWORK, type FlowSpec, type LabelledFlow, type TrafficLabel } from '../../packages/collector/src/scoring/test-traffic.js';
import { startFakeAbuseIpdb } from '../../packages/collector/src/intel/fixtures/fake-reputation-apis.js';

interface ApiAlert {
  id: number;
  kind: string;
  level: string;
  agentId: string;
  subject: string;
  target: string | null;
  detector: string;
  summary: string;
  evidence: Record<string, unknown>;
  flowIds: string[];
}
interface ApiFlow {
  flowId: string;
  agentId: string;
  src: string;
  dst: string;
  level: string;
  threat: string | null;
}
interface Health {
  ok: boolean;
  checks: {
    model: { ok: boolean; detail: { modelVersion: number | null; reservoirRows: number } };
    threatFeeds: { ok: boolean; detail: { name: string; entries: number; invalidLines: number; loadedAtMs: number | null; lastError?: string }[] };
    reputation: {
      ok: boolean;
      detail: {
        queued: number;
        requests: number;
        rateLimited: number;
        errors: Record<string, number>;
        services: { abuseipdb?: { pausedUntilMs: number | null; requests: number } };
      };
    };
  };
}

/** Flows per FlowBatch at most, as the agent sends them. */
const MAX_BATCH_FLOWS = 500;
/** How often an agent flushes what it has: every agent's flows of one slice go out together. */
const AGENT_FLUSH_MS = 5_000;

/**
 * Publishes labelled traffic as the agents it names would: in emission order, each agent's
 * flows of one flush interval in one FlowBatch (split at 500), on the agent's own subject.
 */
async function publishAsAgents(js: JetStreamClient, labelled: readonly LabelledFlow[], runId: string, seqs = new Map<string, number>()): Promise<number> {
  const pending = new Map<string, { hostname: string; flows: FlowRecord[] }>();
  const inFlight: Promise<unknown>[] = [];
  let messages = 0;
  const flush = async (agentId: string): Promise<void> => {
    const p = pending.get(agentId);
    if (!p || p.flows.length === 0) return;
    pending.delete(agentId);
    const seq = seqs.get(agentId) ?? 0;
    seqs.set(agentId, seq + 1);
    const batch: FlowBatch = { v: 1, agentId, hostname: p.hostname, runId, seq, sentAtMs: Date.now(), flows: p.flows };
    // One connection keeps the order; a window of unacknowledged publishes keeps it quick.
    inFlight.push(js.publish(flowSubject(agentId), JSON.stringify(batch), { msgID: `${agentId}.${runId}.${seq}` }));
    messages++;
    if (inFlight.length >= 64) await Promise.all(inFlight.splice(0));
  };
  let sliceEndMs = (labelled[0]?.flow.lastSeenMs ?? 0) + AGENT_FLUSH_MS;
  for (const l of labelled) {
    if (l.flow.lastSeenMs >= sliceEndMs) {
      for (const agentId of [...pending.keys()]) await flush(agentId);
      while (l.flow.lastSeenMs >= sliceEndMs) sliceEndMs += AGENT_FLUSH_MS;
    }
    let p = pending.get(l.agentId);
    if (!p) pending.set(l.agentId, (p = { hostname: l.hostname, flows: [] }));
    p.flows.push(l.flow);
    if (p.flows.length >= MAX_BATCH_FLOWS) await flush(l.agentId);
  }
  for (const agentId of [...pending.keys()]) await flush(agentId);
  await Promise.all(inFlight);
  return messages;
}

async function publishBatch(js: JetStreamClient, agentId: string, runId: string, seq: number, flows: FlowRecord[]): Promise<void> {
  const batch: FlowBatch = { v: 1, agentId, hostname: `${agentId}.corp.example`, runId, seq, sentAtMs: Date.now(), flows };
  await js.publish(flowSubject(agentId), JSON.stringify(batch), { msgID: `${agentId}.${runId}.${seq}` });
}

/** Every flow the filter matches in the range, page by page. */
async function allFlows(c: InProcessCollector, q: string, range: string): Promise<ApiFlow[]> {
  const out: ApiFlow[] = [];
  let cursor: string | null = null;
  do {
    const res: { status: number; body: { flows: ApiFlow[]; nextCursor: string | null } } = await c.get(
      `/api/v1/flows?${range}&limit=10000&q=${encodeURIComponent(q)}${cursor ? `&cursor=${cursor}` : ''}`,
    );
    expect(res.status, q).toBe(200);
    out.push(...res.body.flows);
    cursor = res.body.nextCursor;
  } while (cursor);
  return out;
}

async function alertsOf(c: InProcessCollector, range: string, params = ''): Promise<ApiAlert[]> {
  const res = await c.get<{ alerts: ApiAlert[] }>(`/api/v1/alerts?${range}&limit=5000${params}`);
  expect(res.status).toBe(200);
  return res.body.alerts;
}

async function storedCount(c: InProcessCollector): Promise<number> {
  const rows = await c.query<{ n: string }>('SELECT count(*) AS n FROM flows');
  return Number(rows[0]!.n);
}

const rangeAround = (fromMs: number, toMs: number): string =>
  `from=${new Date(fromMs - 3_600_000).toISOString()}&to=${new Date(toMs + 3_600_000).toISOString()}`;

describe.each(FLAVORS)('collector detection on %s', (flavor) => {
  let servers: Servers;
  let nc: NatsConnection;
  let js: JetStreamClient;
  let jsm: JetStreamManager;
  let dir: string;
  const rng = seededRandom(4242);

  /** A workstation's flow to `dst` (ws-NN is 10.0.0.(100+NN) in the test network). */
  const wsFlow = (ws: number, dst: string, spec: Partial<FlowSpec> = {}): FlowRecord =>
    buildFlow(
      {
        src: `10.0.0.${100 + ws}`,
        dst,
        sport: 40_000 + rng.int(20_000),
        dport: 443,
        proto: 'tcp',
        tcp: 'complete',
        startMs: Date.now() - 60_000,
        durationMs: 800,
        packetsToDst: 12,
        packetsToSrc: 14,
        bytesToDst: 2_400,
        bytesToSrc: 16_000,
        ...spec,
      },
      rng,
    );

  /** A new durable consumer starts at the beginning of the stream: earlier tests' flows are not this test's business. */
  const purgeFlows = async (): Promise<void> => {
    await jsm.streams.purge(Streams.flows.name);
  };

  beforeAll(async () => {
    servers = await startServers(flavor);
    nc = await connect({ servers: servers.nats.url });
    jsm = await jetstreamManager(nc);
    await ensureStreams(jsm);
    js = jetstream(nc);
    dir = mkdtempSync(join(tmpdir(), 'nta-detect-'));
  });

  afterAll(async () => {
    await nc?.close();
    await servers?.cleanup();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('detection - labelled traffic: every attacker is alerted with the right kind, subject and target, and no ordinary host', async () => {
    const c = await startInProcessCollector(servers, { NTA_CONSUMER: 'detect' });
    try {
      const startMs = Math.floor((Date.now() - 3_600_000) / 60_000) * 60_000;
      const labelled = mixedTraffic({ seed: 7, startMs });
      // The first minute is ordinary traffic: enough for the model to train on before the
      // attacks, so what follows is scored by it (and its anomaly alerts are judged too).
      const seqs = new Map<string, number>();
      const firstMinute = labelled.filter((l) => l.flow.lastSeenMs < startMs + 55_000);
      expect(firstMinute.every((l) => l.label === 'ordinary')).toBe(true);
      let messages = await publishAsAgents(js, firstMinute, 'detect', seqs);
      const model = await waitFor('the anomaly model trained', async () => {
        const h = await c.get<Health>('/healthz');
        return h.body.checks.model.detail.modelVersion ?? undefined;
      });
      expect(model).toBeGreaterThan(0);
      messages += await publishAsAgents(js, labelled.slice(firstMinute.length), 'detect', seqs);
      expect(messages).toBeGreaterThan(new Set(labelled.map((l) => l.agentId)).size);
      await waitFor('every labelled flow stored', async () => (await storedCount(c)) >= labelled.length || undefined, 90_000);
      expect(await storedCount(c)).toBe(labelled.length);
      const range = rangeAround(startMs, labelled.at(-1)!.flow.lastSeenMs);

      const labelOf = new Map(labelled.map((l) => [l.flow.flowId, l.label]));
      const agentOf = new Map(labelled.map((l) => [l.flow.flowId, l.agentId]));
      const alerts = await alertsOf(c, range);
      const A = TEST_NETWORK.attack;
      // Attackers, what they are alerted as, and the flows that make the attack.
      const expected: [string, TrafficLabel[]][] = [
        [`port_scan ${A.verticalScanner} ${A.verticalVictim}`, ['port_scan_vertical']],
        [`port_scan ${A.horizontalScanner} -`, ['port_scan_horizontal']],
        [`syn_flood ${A.floodVictim} ${A.floodVictim}`, ['syn_flood_spoofed']],
        [`syn_flood ${A.singleFloodSource} ${A.floodVictim}`, ['syn_flood_single']],
        [`dns_tunnel ${A.tunnelClient} ${A.tunnelDomain}`, ['dns_tunnel_base32']],
        [`dns_tunnel ${A.hexTunnelClient} ${A.hexTunnelDomain}`, ['dns_tunnel_hex']],
        [`upload_volume ${A.exfilClient} ${A.exfilDestination}`, ['exfiltration']],
      ];
      const key = (a: ApiAlert): string => `${a.kind} ${a.subject} ${a.target ?? '-'}`;
      const detectorAlerts = alerts.filter((a) => a.kind !== 'anomaly');
      expect([...new Set(detectorAlerts.map(key))].sort()).toEqual(expected.map(([k]) => k).sort());
      for (const [k, labels] of expected) {
        for (const a of detectorAlerts.filter((x) => key(x) === k)) {
          // Each alert is about the attack's own flows, raised on an agent that reported one of them.
          expect(a.flowIds.length, k).toBeGreaterThan(0);
          expect(a.flowIds.map((id) => labelOf.get(id)).every((l) => l !== undefined && labels.includes(l)), k).toBe(true);
          expect(a.flowIds.map((id) => agentOf.get(id)), k).toContain(a.agentId);
          expect(a.summary.length, k).toBeGreaterThan(10);
          expect(a.level, k).toMatch(/^(suspicious|malicious)$/);
        }
      }
      // The model may find a rare ordinary flow anomalous; only a tiny share (scoring's own bound: 0.1 %).
      const anomalies = alerts.filter((a) => a.kind === 'anomaly');
      expect(anomalies.length).toBeLessThanOrEqual(Math.ceil(labelled.length * 0.001));

      // Flow levels: the attackers' flows are raised; ordinary flows rarely are (the model alone).
      const raised = await allFlows(c, 'level:>=suspicious', range);
      expect(raised.every((f) => f.level === 'suspicious' || f.level === 'malicious')).toBe(true);
      const raisedByLabel = new Map<TrafficLabel, number>();
      for (const f of raised) raisedByLabel.set(labelOf.get(f.flowId)!, (raisedByLabel.get(labelOf.get(f.flowId)!) ?? 0) + 1);
      const totalByLabel = new Map<TrafficLabel, number>();
      for (const l of labelled) totalByLabel.set(l.label, (totalByLabel.get(l.label) ?? 0) + 1);
      for (const [, labels] of expected) for (const label of labels) expect(raisedByLabel.get(label) ?? 0, label).toBeGreaterThan(0);
      const attackFlows = labelled.length - totalByLabel.get('ordinary')!;
      const attackRaised = raised.length - (raisedByLabel.get('ordinary') ?? 0);
      expect(attackRaised / attackFlows).toBeGreaterThan(0.5);
      const ordinaryShare = (raisedByLabel.get('ordinary') ?? 0) / totalByLabel.get('ordinary')!;
      expect(ordinaryShare).toBeLessThan(0.02);
      const ordinaryMalicious = raised.filter((f) => f.level === 'malicious' && labelOf.get(f.flowId) === 'ordinary').length;
      expect(ordinaryMalicious).toBeLessThanOrEqual(Math.ceil(totalByLabel.get('ordinary')! * 0.001));
      console.log(
        `detection (${flavor}): ${labelled.length} flows in ${messages} batches; ${detectorAlerts.length} detector alerts, ${anomalies.length} anomaly; ` +
          `attack flows raised ${((attackRaised / attackFlows) * 100).toFixed(1)} %, ordinary ${(ordinaryShare * 100).toFixed(2)} % (${ordinaryMalicious} malicious)`,
      );
    } finally {
      await c.close();
    }
  });

  it('detection - a blocklisted address is stored malicious with its feed and raises a threat_intel alert', async () => {
    await purgeFlows();
    const feedFile = join(dir, 'testfeed.netset');
    writeFileSync(
      feedFile,
      ['# testfeed: FireHOL-style netset', '#', '185.220.101.0/24', '45.95.147.236', '10.0.0.0/8', 'not-an-address', ''].join('\n'),
    );
    const c = await startInProcessCollector(servers, { NTA_CONSUMER: 'feeds', THREAT_FEEDS: `testfeed=${feedFile}` });
    try {
      const toListed = Array.from({ length: 3 }, () => wsFlow(1, '185.220.101.34'));
      const fromListed = wsFlow(1, '45.95.147.236', { dport: 22 });
      const inbound = { ...fromListed, src: fromListed.dst, dst: fromListed.src };
      const clean = Array.from({ length: 10 }, () => wsFlow(1, TEST_NETWORK.mirror));
      // 10.0.0.0/8 is on the list too (bogons), but internal traffic must not be tagged.
      const internal = Array.from({ length: 3 }, () => wsFlow(1, TEST_NETWORK.sshServers[0], { dport: 22 }));
      const all = [...toListed, inbound, ...clean, ...internal];
      await publishBatch(js, 'ws-01', 'feeds', 0, all);
      await waitFor('the flows stored', async () => (await storedCount(c)) >= all.length || undefined);
      const range = rangeAround(Date.now() - 120_000, Date.now());

      const listed = await allFlows(c, 'threat:testfeed', range);
      expect(new Set(listed.map((f) => f.flowId))).toEqual(new Set([...toListed, inbound].map((f) => f.flowId)));
      expect(listed.every((f) => f.level === 'malicious' && f.threat === 'testfeed')).toBe(true);
      const others = await allFlows(c, 'not threat:testfeed', range);
      expect(others).toHaveLength(clean.length + internal.length);
      expect(others.every((f) => f.threat === null)).toBe(true);

      const intel = await alertsOf(c, range, '&kind=threat_intel');
      expect(intel.map((a) => a.subject).sort()).toEqual(['185.220.101.34', '45.95.147.236']);
      const out = intel.find((a) => a.subject === '185.220.101.34')!;
      expect(out).toMatchObject({ level: 'malicious', agentId: 'ws-01', target: '10.0.0.101' });
      expect(out.evidence).toMatchObject({ feeds: ['testfeed'], flows: 3 });
      expect([...out.flowIds].sort()).toEqual(toListed.map((f) => f.flowId).sort());
      expect(out.summary).toMatch(/testfeed/);
      expect(intel.find((a) => a.subject === '45.95.147.236')).toMatchObject({ target: '10.0.0.101', evidence: { feeds: ['testfeed'] } });

      const health = await c.get<Health>('/healthz');
      expect(health.body.ok).toBe(true);
      const feed = health.body.checks.threatFeeds.detail.find((f) => f.name === 'testfeed');
      expect(feed).toMatchObject({ entries: 3, invalidLines: 1 });
      expect(feed?.loadedAtMs).toEqual(expect.any(Number));
      expect(feed?.lastError).toBeUndefined();
    } finally {
      await c.close();
    }
  });

  it('detection - an address AbuseIPDB reports with confidence 100 gets a threat_intel alert once the verdict arrives; a 429 or a hang holds nothing up', async () => {
    await purgeFlows();
    const fake = await startFakeAbuseIpdb();
    const BAD = '45.143.203.7';
    const CLEAN = TEST_NETWORK.mirror;
    const HANGS = '89.248.165.12';
    const LIMITED = '91.240.118.5';
    const QUEUED = ['141.98.10.60', '193.42.33.14'];
    fake.behaviours.set(BAD, 'bad');
    fake.behaviours.set(HANGS, 'slow');
    fake.behaviours.set(LIMITED, 'rate-limited');
    fake.slowMs = 600_000;
    fake.retryAfterS = 3_600;
    const c = await startInProcessCollector(servers, { NTA_CONSUMER: 'reputation', ABUSEIPDB_API_KEY: 'test-key-123', ABUSEIPDB_BASE_URL: fake.baseUrl });
    try {
      const range = rangeAround(Date.now() - 120_000, Date.now());
      const flowsTo = async (ip: string) => (await allFlows(c, `ip:${ip}`, range)).sort((a, b) => a.flowId.localeCompare(b.flowId));

      // 1. The first flow to the bad address is stored at once, before any verdict exists.
      const first = [wsFlow(3, BAD), wsFlow(3, CLEAN), wsFlow(3, TEST_NETWORK.resolver, { proto: 'udp', dport: 53, tcp: undefined })];
      await publishBatch(js, 'ws-03', 'reputation', 0, first);
      await waitFor('the first flows stored', async () => (await storedCount(c)) >= first.length || undefined);
      expect((await flowsTo(BAD)).map((f) => [f.flowId, f.threat])).toEqual([[first[0]!.flowId, null]]);

      // 2. The verdict arrives later and raises the alert on the host that talked to it.
      const alert = await waitFor('a threat_intel alert from AbuseIPDB', async () =>
        (await alertsOf(c, range, '&kind=threat_intel')).find((a) => a.subject === BAD),
      );
      expect(alert).toMatchObject({ level: 'malicious', agentId: 'ws-03', target: '10.0.0.103', detector: 'abuseipdb/1' });
      expect(alert.evidence).toMatchObject({ source: 'abuseipdb', score: 100 });
      expect(alert.flowIds).toContain(first[0]!.flowId);
      expect(alert.summary).toMatch(/confidence 100/);
      expect((await alertsOf(c, range)).filter((a) => a.subject === CLEAN || a.target === CLEAN)).toEqual([]);
      // Only the public addresses were asked about, with the key.
      expect(new Set(fake.requests.map((r) => r.ip))).toEqual(new Set([BAD, CLEAN]));
      expect(fake.requests.every((r) => r.headers.key === 'test-key-123')).toBe(true);

      // 3. Later flows to it are marked from the cached verdict, without asking again.
      const second = wsFlow(3, BAD);
      await publishBatch(js, 'ws-03', 'reputation', 1, [second]);
      await waitFor('the second flow stored', async () => (await flowsTo(BAD)).length === 2 || undefined);
      expect((await flowsTo(BAD)).find((f) => f.flowId === second.flowId)).toMatchObject({ threat: 'abuseipdb', level: 'malicious' });
      expect(fake.requests.filter((r) => r.ip === BAD)).toHaveLength(1);

      // 4. The service hangs on one address, then answers 429 with an hour's Retry-After:
      // flows go on being stored, unmarked, while lookups wait.
      const third = [wsFlow(3, HANGS), wsFlow(3, LIMITED)];
      await publishBatch(js, 'ws-03', 'reputation', 2, third);
      await waitFor('flows to unanswered addresses stored', async () => (await storedCount(c)) >= first.length + 1 + third.length || undefined);
      expect((await flowsTo(HANGS)).map((f) => f.threat)).toEqual([null]);
      await waitFor('the lookup that hangs to start', async () => fake.requests.some((r) => r.ip === HANGS));
      const limited = await waitFor('the 429 (after the hanging lookup times out)', async () => {
        const h = await c.get<Health>('/healthz');
        return h.body.checks.reputation.detail.rateLimited >= 1 ? h.body : undefined;
      });
      expect(limited.checks.reputation.detail.errors.timeout).toBeGreaterThanOrEqual(1);
      expect(limited.checks.reputation.detail.services.abuseipdb?.pausedUntilMs).toBeGreaterThan(Date.now() + 30 * 60_000);

      const fourth = [...QUEUED.map((ip) => wsFlow(3, ip)), wsFlow(3, BAD)];
      const ingestStartMs = Date.now();
      await publishBatch(js, 'ws-03', 'reputation', 3, fourth);
      await waitFor('flows stored while the service is paused', async () => (await storedCount(c)) >= first.length + 1 + third.length + fourth.length || undefined);
      const ingestMs = Date.now() - ingestStartMs;
      for (const ip of QUEUED) expect((await flowsTo(ip)).map((f) => f.threat), ip).toEqual([null]);
      expect((await flowsTo(BAD)).find((f) => f.flowId === fourth.at(-1)!.flowId)).toMatchObject({ threat: 'abuseipdb', level: 'malicious' });
      expect(fake.requests.filter((r) => QUEUED.includes(r.ip))).toEqual([]);
      const paused = await c.get<Health>('/healthz');
      expect(paused.status).toBe(200);
      expect(paused.body.checks.reputation.detail.queued).toBeGreaterThanOrEqual(QUEUED.length);
      console.log(`reputation (${flavor}): flows stored ${ingestMs} ms after publishing while AbuseIPDB was paused by a 429; ${fake.requests.length} requests in all`);
    } finally {
      await c.close();
      await fake.close();
    }
  });
});
