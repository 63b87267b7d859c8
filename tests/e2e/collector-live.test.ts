/**
 * End to end, against a real nats-server and a real PostgreSQL 15 and TimescaleDB: the
 * collector's live WebSocket stream, the alerts API and the agents API, as a console and a
 * fleet of agents see them. The test publishes as agents do (flow batches, host statistics,
 * heartbeats on their JetStream subjects) and reads what a console would read.
 */
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JetStreamClient } from '@nats-io/jetstream';
import { flowSubject, heartbeatSubject, hostStatsSubject, type FlowBatch, type FlowRecord, type Heartbeat, type HostSecond, type HostStatsBatch } from '@nta/shared';
import { ensureStreams } from '@nta/shared/nats';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FLAVORS, startInProcessCollector, startServers, waitFor, type InProcessCollector, type Servers } from '../helpers/collector-stack.js';
import { LiveClient, liveUrl, type LiveAlert, type LiveCounters, type LiveSecond } from '../helpers/live-client.js';
import { buildFlow, seededRandom, synFlood, TEST_NETWORK, verticalScan, type FlowSpec } from '../../packages/collector/src/scoring/test-traffic.js';

const MiB = 1024 * 1024;
/** The collector's LiveHub settings (service.ts): a client with more unsent bytes is skipped. */
const HUB_MAX_BUFFERED_BYTES = 1 * MiB;
const HUB_MAX_FLOWS_PER_TICK = 500;

interface ApiAlert extends LiveAlert {
  acknowledgedBy: string | null;
  evidence: Record<string, unknown>;
}
interface ApiAgent {
  agentId: string;
  hostname: string;
  status: 'online' | 'stale';
  heartbeatIntervalMs: number;
  rates: { packetsPerS: number; bytesPerS: number; flowsPerS: number };
  capture: { received: number; dropped: number; ifDropped: number };
}

const rng = seededRandom(20261130);

function flow(spec: Partial<FlowSpec> & Pick<FlowSpec, 'dport' | 'proto'>): FlowRecord {
  const udp = spec.proto === 'udp';
  return buildFlow(
    {
      src: '10.20.0.5',
      dst: '93.184.216.34',
      sport: 40_000 + rng.int(20_000),
      startMs: Date.now() - 5_000,
      durationMs: 40,
      packetsToDst: udp ? 1 : 6,
      packetsToSrc: udp ? 1 : 5,
      bytesToDst: udp ? 90 : 900,
      bytesToSrc: udp ? 140 : 4_000,
      tcp: udp ? undefined : 'complete',
      ...spec,
    },
    rng,
  );
}

const dnsFlow = (): FlowRecord => flow({ proto: 'udp', dport: 53, dst: '10.20.0.2', l7: { dnsQuery: `host-${rng.int(1e6)}.example.org`, dnsQueryType: 1, dnsRcode: 0 } });
const ntpFlow = (): FlowRecord => flow({ proto: 'udp', dport: 123, dst: '162.159.200.1' });
const webFlow = (): FlowRecord => flow({ proto: 'tcp', dport: 443 });
/** A flow whose live JSON is large (long L7 names), to fill a socket buffer with few flows. */
const LONG_NAME = `${Array.from({ length: 4 }, (_, i) => `${String(i).repeat(60)}`).join('.')}.example`;
const fatFlow = (): FlowRecord => flow({ proto: 'tcp', dport: 443, l7: { tlsSni: LONG_NAME, httpHost: LONG_NAME, dnsQuery: LONG_NAME, httpMethod: 'POST' } });

function heartbeat(agentId: string, intervalMs: number, patch: Partial<Heartbeat> = {}): Heartbeat {
  const now = Date.now();
  return {
    v: 1,
    agentId,
    hostname: `${agentId}.corp.example`,
    version: '0.1.0',
    runId: 'live-test',
    startedAtMs: now - 60_000,
    sentAtMs: now,
    intervalMs,
    mode: 'live',
    interfaces: [{ name: 'eth0', linkType: 'EN10MB', addresses: ['10.20.0.9'] }],
    rates: { packetsPerS: 1250.5, bytesPerS: 987_654, flowsPerS: 42 },
    totals: { packets: 75_000, bytes: 59_000_000, flows: 2_520 },
    capture: { received: 75_000, dropped: 17, ifDropped: 3 },
    flowTable: { active: 310, evicted: 0 },
    spool: { pendingBatches: 0, pendingBytes: 0, droppedBatches: 0 },
    skipped: {},
    ...patch,
  };
}

function hostSecond(tsMs: number, base: number, talkers: [string, number][]): HostSecond {
  return {
    tsMs,
    packets: base * 10,
    bytes: base * 10_000,
    protocols: {
      tcp: { packets: base * 6, bytes: base * 7_000 },
      udp: { packets: base * 3, bytes: base * 2_500 },
      icmp: { packets: base, bytes: base * 500 },
      other: { packets: 0, bytes: 0 },
    },
    topTalkers: talkers.map(([addr, bytes]) => ({ addr, packets: Math.ceil(bytes / 1000), bytes })),
  };
}

/** What a second's counters must be: the sum of what the hosts reported for it. */
function sumCounters(parts: readonly HostSecond[]): Omit<LiveCounters, 'flows'> {
  const out = { packets: 0, bytes: 0, protocols: { tcp: { packets: 0, bytes: 0 }, udp: { packets: 0, bytes: 0 }, icmp: { packets: 0, bytes: 0 }, other: { packets: 0, bytes: 0 } } };
  for (const p of parts) {
    out.packets += p.packets;
    out.bytes += p.bytes;
    for (const k of ['tcp', 'udp', 'icmp', 'other'] as const) {
      out.protocols[k].packets += p.protocols[k].packets;
      out.protocols[k].bytes += p.protocols[k].bytes;
    }
  }
  return out;
}

describe.each(FLAVORS)('collector live stream, alerts and agents on %s', (flavor) => {
  let servers: Servers;
  let c: InProcessCollector;
  let nc: NatsConnection;
  let js: JetStreamClient;
  const seqs = new Map<string, number>();
  /** The SYN flood alert of the alerts test, for the ones after it. */
  let floodAlertId: number | undefined;
  const clients: LiveClient[] = [];

  /** Publishes one FlowBatch as agent `agentId` would (its own subject, de-duplication id). */
  async function publishFlows(agentId: string, flows: readonly FlowRecord[]): Promise<void> {
    const seq = seqs.get(agentId) ?? 0;
    seqs.set(agentId, seq + 1);
    const batch: FlowBatch = { v: 1, agentId, hostname: `${agentId}.corp.example`, runId: 'live-test', seq, sentAtMs: Date.now(), flows: [...flows] };
    await js.publish(flowSubject(agentId), JSON.stringify(batch), { msgID: `${agentId}.live-test.${seq}` });
  }

  async function open(q?: string, extra?: string): Promise<LiveClient> {
    const client = await LiveClient.open(liveUrl(c.baseUrl, q, extra));
    clients.push(client);
    return client;
  }

  async function post<T>(path: string, body?: unknown): Promise<{ status: number; body: T }> {
    const res = await fetch(`${c.baseUrl}${path}`, {
      method: 'POST',
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as T };
  }

  async function metric(name: string): Promise<number> {
    const text = await fetch(`${c.baseUrl}/metrics`).then((r) => r.text());
    const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
    return m ? Number(m[1]) : 0;
  }

  beforeAll(async () => {
    servers = await startServers(flavor);
    c = await startInProcessCollector(servers, { NTA_CONSUMER: 'live-test' }, { rollupIntervalMs: 200, rollupSettleMs: 0, ackWaitMs: 5_000, liveMaxFlowsPerTick: HUB_MAX_FLOWS_PER_TICK });
    nc = await connect({ servers: servers.nats.url });
    await ensureStreams(await jetstreamManager(nc));
    js = jetstream(nc);
  });

  afterEach(async () => {
    await Promise.allSettled(clients.splice(0).map((cl) => cl.close()));
  });

  afterAll(async () => {
    await nc?.close();
    await c?.close();
    await servers?.cleanup();
  });

  it('live - says hello and, with ?q=dport:53, sends only the matching flows', async () => {
    const dns = await open('dport:53');
    const all = await open();
    expect((await dns.next('hello')).q).toBe('dport:53');
    expect((await all.next('hello')).q).toBe('');

    const mix = [...Array.from({ length: 15 }, dnsFlow), ...Array.from({ length: 25 }, webFlow), ...Array.from({ length: 10 }, ntpFlow)];
    await publishFlows('live-dns', mix);
    // The unfiltered client is the barrier: flows reach every client in the same tick.
    await all.untilState(() => all.flows().length >= mix.length, 'every flow on the unfiltered client');
    expect(new Set(all.flows().map((f) => f.flowId))).toEqual(new Set(mix.map((f) => f.flowId)));
    const got = dns.flows();
    expect(got.every((f) => f.dport === 53)).toBe(true);
    expect(new Set(got.map((f) => f.flowId))).toEqual(new Set(mix.filter((f) => f.dport === 53).map((f) => f.flowId)));
    expect(got.every((f) => f.agentId === 'live-dns' && f.proto === 'udp')).toBe(true);
    expect(dns.all('flows').every((m) => m.dropped === 0)).toBe(true);
  });

  it('live - a subscribe message switches the filter, and flows:false stops flows', async () => {
    const client = await open('dport:53');
    const chartsOnly = await open();
    const barrier = await open();
    await Promise.all([client.next('hello'), chartsOnly.next('hello'), barrier.next('hello')]);
    client.sendJson({ type: 'subscribe', q: 'proto:udp' });
    chartsOnly.sendJson({ type: 'subscribe', q: '', flows: false });
    const subscribedAt = client.messages.indexOf(await client.next('subscribed'));
    expect(client.messages[subscribedAt]).toEqual({ type: 'subscribed', q: 'proto:udp' });
    const chartsAt = chartsOnly.messages.indexOf(await chartsOnly.next('subscribed'));

    const mix = [...Array.from({ length: 10 }, dnsFlow), ...Array.from({ length: 20 }, webFlow), ...Array.from({ length: 10 }, ntpFlow)];
    await publishFlows('live-sub', mix);
    await barrier.untilState(() => barrier.flows().filter((f) => f.agentId === 'live-sub').length >= mix.length, 'every flow on the barrier client');
    const udp = mix.filter((f) => f.proto === 'udp').map((f) => f.flowId);
    await client.untilState(() => client.flows(subscribedAt).length >= udp.length, 'the UDP flows');
    const after = client.flows(subscribedAt);
    expect(after.every((f) => f.proto === 'udp')).toBe(true);
    expect(new Set(after.map((f) => f.flowId))).toEqual(new Set(udp));
    expect(chartsOnly.all('flows', chartsAt)).toEqual([]);
  });

  it('live - an invalid filter gets an error naming q and its position; the socket stays usable', async () => {
    // On connect: the error, then the socket is closed as a policy violation.
    const refused = await open('proto:udp and prt:53');
    const err = await refused.next('error');
    expect(err).toMatchObject({ type: 'error', field: 'q', position: 'proto:udp and prt:53'.indexOf('prt') });
    expect((await refused.closed).code).toBe(1008);

    const client = await open();
    await client.next('hello');
    const bad = 'dport:53 and (';
    client.sendJson({ type: 'subscribe', q: bad });
    const e = await client.next('error');
    expect(e.field).toBe('q');
    expect(e.position).toBe(bad.length);
    expect(e.message).toMatch(/\(/);
    const outOfRange = 'dport:99999';
    client.sendJson({ type: 'subscribe', q: outOfRange });
    const e2 = await client.next('error', (m) => m !== e);
    expect(e2).toMatchObject({ field: 'q', position: outOfRange.indexOf('99999') });
    expect(client.isOpen).toBe(true);

    client.sendJson({ type: 'subscribe', q: 'dport:123' });
    const at = client.messages.indexOf(await client.next('subscribed', (m) => m.q === 'dport:123'));
    const ntp = Array.from({ length: 5 }, ntpFlow);
    await publishFlows('live-bad-q', [...ntp, ...Array.from({ length: 5 }, webFlow)]);
    await client.untilState(() => client.flows(at).length >= ntp.length, 'the NTP flows after the errors');
    expect(new Set(client.flows(at).map((f) => f.flowId))).toEqual(new Set(ntp.map((f) => f.flowId)));
  });

  it('live - binary, oversized, non-JSON and unknown client messages get an error, not a crash', async () => {
    const client = await open();
    const bystander = await open();
    await Promise.all([client.next('hello'), bystander.next('hello')]);
    const hostile: (() => void)[] = [
      () => client.send(Buffer.from([0x7b, 0x00, 0xff, 0xfe]), { binary: true }),
      () => client.send(JSON.stringify({ type: 'subscribe', q: 'x'.repeat(20_000) })),
      () => client.send('not json at all {'),
      () => client.send('\u0000\u0001'),
      () => client.sendJson({ type: 'unsubscribe' }),
      () => client.sendJson(null),
      () => client.sendJson([1, 2, 3]),
      () => client.send('{"type":"subscribe","q":{"__proto__":{"polluted":1}}}'),
    ];
    let from = client.messages.length;
    for (const send of hostile) {
      send();
      const reply = await client.until((m) => m.type === 'error' || m.type === 'subscribed', from, 10_000, 'a reply');
      from = reply + 1;
    }
    const replies = client.messages.filter((m) => m.type === 'error' || m.type === 'subscribed');
    // The last one is a subscribe whose q is not text: treated as no filter, not an error.
    expect(replies.map((m) => m.type)).toEqual([...Array(hostile.length - 1).fill('error'), 'subscribed']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(client.isOpen).toBe(true);

    // Beyond the WebSocket frame limit (64 KiB) the connection is closed with 1009, and only that one.
    client.send('x'.repeat(100 * 1024));
    expect((await client.closed).code).toBe(1009);
    const health = await c.get<{ ok: boolean }>('/healthz');
    expect(health.body.ok).toBe(true);
    const web = Array.from({ length: 3 }, webFlow);
    await publishFlows('live-hostile', web);
    await bystander.untilState(() => web.every((w) => bystander.flows().some((f) => f.flowId === w.flowId)), 'flows on the other client');
  });

  it('live - stats carry per-second fleet and per-host counters equal to the host statistics published', async () => {
    const client = await open('', 'flows=0');
    await client.next('hello');
    // Seconds ten minutes back: no flow of the other tests falls into them.
    const t0 = Math.floor((Date.now() - 600_000) / 1000) * 1000;
    const a: HostSecond[] = [
      hostSecond(t0 + 120, 7, [['10.20.0.5', 50_000], ['93.184.216.34', 30_000]]),
      hostSecond(t0 + 1_500, 11, [['10.20.0.5', 41_000]]),
      hostSecond(t0 + 2_999, 3, [['10.20.0.7', 9_000]]),
    ];
    const b: HostSecond[] = [hostSecond(t0 + 40, 5, [['10.20.0.5', 20_000], ['1.1.1.1', 12_000]]), hostSecond(t0 + 1_001, 13, [['8.8.8.8', 77_000]])];
    const batches: HostStatsBatch[] = [
      { v: 1, agentId: 'stats-a', hostname: 'stats-a.corp.example', seconds: a },
      { v: 1, agentId: 'stats-b', hostname: 'stats-b.corp.example', seconds: b },
    ];
    for (const batch of batches) await js.publish(hostStatsSubject(batch.agentId), JSON.stringify(batch));

    const secondOf = (s: HostSecond): number => Math.floor(s.tsMs / 1000) * 1000;
    const reported = new Map<number, Set<string>>();
    for (const batch of batches) for (const s of batch.seconds) reported.set(secondOf(s), (reported.get(secondOf(s)) ?? new Set()).add(batch.agentId));
    const expectedSeconds = [...reported.keys()].sort((x, y) => x - y);
    expect(expectedSeconds).toEqual([t0, t0 + 1000, t0 + 2000]);
    // A second is sent again when a later report refines it: the latest version counts.
    const latest = new Map<number, LiveSecond>();
    const track = (): boolean => {
      for (const m of client.all('stats')) for (const s of m.seconds) latest.set(s.t, s);
      return expectedSeconds.every((t) => [...reported.get(t)!].every((agent) => latest.get(t)?.hosts[agent] !== undefined));
    };
    await client.untilState(track, 'stats for every second from both hosts');

    for (const t of expectedSeconds) {
      const inSecond = (list: HostSecond[]) => list.filter((s) => secondOf(s) === t);
      const snapshot = latest.get(t)!;
      const hosts: Record<string, LiveCounters> = {};
      for (const [agent, list] of [['stats-a', a], ['stats-b', b]] as const) {
        if (inSecond(list).length > 0) hosts[agent] = { ...sumCounters(inSecond(list)), flows: 0 };
      }
      expect(snapshot.hosts).toEqual(hosts);
      const talkers = new Map<string, { packets: number; bytes: number }>();
      for (const s of inSecond([...a, ...b])) {
        for (const tt of s.topTalkers) {
          const cur = talkers.get(tt.addr) ?? { packets: 0, bytes: 0 };
          talkers.set(tt.addr, { packets: cur.packets + tt.packets, bytes: cur.bytes + tt.bytes });
        }
      }
      const topTalkers = [...talkers].map(([addr, v]) => ({ addr, ...v })).sort((x, y) => y.bytes - x.bytes);
      expect(snapshot.fleet).toEqual({ ...sumCounters(inSecond([...a, ...b])), flows: 0, topTalkers });
    }
    expect(client.all('flows')).toEqual([]);
  });

  it('agents - after a heartbeat the agent is listed live and online with its rates and capture drops, then turns stale', async () => {
    const client = await open();
    await client.next('hello');
    const steady = heartbeat('hb-steady', 60_000);
    // Stale after NTA_STALE_AFTER_INTERVALS (3) missed intervals of 2 s.
    const fading = heartbeat('hb-fading', 2_000, { rates: { packetsPerS: 10, bytesPerS: 8_000, flowsPerS: 1 }, capture: { received: 900, dropped: 250, ifDropped: 0 } });
    for (const hb of [steady, fading]) await js.publish(heartbeatSubject(hb.agentId), JSON.stringify(hb));

    const announced = await client.next('agents', (m) => ['hb-steady', 'hb-fading'].every((id) => m.agents.some((x) => x.agentId === id)));
    expect(announced.agents.find((x) => x.agentId === 'hb-steady')).toMatchObject({ hostname: 'hb-steady.corp.example', status: 'online' });

    const listed = await c.get<{ agents: ApiAgent[] }>('/api/v1/agents');
    expect(listed.status).toBe(200);
    const byId = new Map(listed.body.agents.map((x) => [x.agentId, x]));
    for (const hb of [steady, fading]) {
      expect(byId.get(hb.agentId)).toMatchObject({
        hostname: hb.hostname,
        status: 'online',
        heartbeatIntervalMs: hb.intervalMs,
        rates: hb.rates,
        capture: hb.capture,
      });
    }

    const stale = await waitFor('hb-fading to turn stale', async () => {
      const r = await c.get<{ agents: ApiAgent[] }>('/api/v1/agents');
      const agent = r.body.agents.find((x) => x.agentId === 'hb-fading');
      return agent?.status === 'stale' ? r.body.agents : undefined;
    }, 30_000);
    const fadingNow = stale.find((x) => x.agentId === 'hb-fading')!;
    // A stale agent's rates are history, not current; its capture drops stay visible.
    expect(fadingNow.rates).toEqual({ packetsPerS: 0, bytesPerS: 0, flowsPerS: 0 });
    expect(fadingNow.capture).toEqual(fading.capture);
    expect(stale.find((x) => x.agentId === 'hb-steady')?.status).toBe('online');
  });

  it('alerts - new alerts are announced live, filtered by level and acknowledgement, acknowledged and cleared', async () => {
    const client = await open();
    await client.next('hello');
    const A = TEST_NETWORK.attack;
    const start = Date.now() - 300_000;
    const attack = [...verticalScan(rng, start), ...synFlood(rng, start + 60_000, { spoofed: false, count: 800, spanMs: 5_000, source: A.singleFloodSource })];
    for (let i = 0; i < attack.length; i += 500) await publishFlows('live-ids', attack.slice(i, i + 500));

    const seen = new Map<string, LiveAlert>();
    await client.untilState(() => {
      for (const m of client.all('alerts')) for (const al of m.alerts) if (al.agentId === 'live-ids') seen.set(al.kind, al);
      return seen.has('port_scan') && seen.has('syn_flood');
    }, 'port scan and SYN flood alerts on the live stream');
    expect(seen.get('port_scan')).toMatchObject({ subject: A.verticalScanner, target: A.verticalVictim, level: 'suspicious', acknowledgedAt: null });
    expect(seen.get('syn_flood')).toMatchObject({ subject: A.singleFloodSource, target: A.floodVictim, level: 'malicious' });
    const scanId = seen.get('port_scan')!.id;
    const floodId = seen.get('syn_flood')!.id;
    floodAlertId = floodId;

    const list = async (params: string): Promise<ApiAlert[]> => {
      const r = await c.get<{ alerts: ApiAlert[] }>(`/api/v1/alerts?host=live-ids&${params}`);
      expect(r.status, params).toBe(200);
      return r.body.alerts;
    };
    const ids = (alerts: ApiAlert[]) => alerts.map((x) => x.id);
    const malicious = await list('level=malicious');
    expect(malicious.every((x) => x.level === 'malicious')).toBe(true);
    expect(ids(malicious)).toContain(floodId);
    expect(ids(malicious)).not.toContain(scanId);
    const atLeastSuspicious = await list(`level=${encodeURIComponent('>=suspicious')}`);
    expect(atLeastSuspicious.every((x) => x.level === 'suspicious' || x.level === 'malicious')).toBe(true);
    expect(ids(atLeastSuspicious)).toEqual(expect.arrayContaining([scanId, floodId]));
    const suspicious = await list('level=suspicious');
    expect(ids(suspicious)).toContain(scanId);
    expect(ids(suspicious)).not.toContain(floodId);
    expect(ids(await list('acknowledged=false'))).toEqual(expect.arrayContaining([scanId, floodId]));

    // Acknowledge: 200 with the time and who; the filters and the live stream follow.
    const liveFrom = client.messages.length;
    const before = Date.now();
    const acked = await post<ApiAlert>(`/api/v1/alerts/${scanId}/ack`, { by: 'analyst-1' });
    expect(acked.status).toBe(200);
    expect(acked.body).toMatchObject({ id: scanId, kind: 'port_scan', acknowledgedBy: 'analyst-1' });
    expect(Date.parse(acked.body.acknowledgedAt!)).toBeGreaterThanOrEqual(before - 1_000);
    expect(ids(await list('acknowledged=true'))).toEqual([scanId]);
    expect(ids(await list('acknowledged=false'))).not.toContain(scanId);
    // The per-level counts follow the same filters as the list (the console's "open alerts").
    const counts = async (params: string) => (await c.get<{ counts: Record<string, number> }>(`/api/v1/alerts?host=live-ids&limit=1&${params}`)).body.counts;
    expect(await counts('acknowledged=true')).toMatchObject({ suspicious: 1, malicious: 0 });
    const openCounts = await counts('acknowledged=false');
    const all = await counts('');
    expect(openCounts.suspicious).toBe(all.suspicious! - 1);
    expect(openCounts.malicious).toBe(all.malicious);
    expect((await counts('kind=syn_flood')).suspicious).toBe(0);
    const update = await client.next('alerts', (m) => m.alerts.some((x) => x.id === scanId), liveFrom);
    expect(update.alerts.find((x) => x.id === scanId)?.acknowledgedAt).toBe(acked.body.acknowledgedAt);

    // A second ack keeps the first time.
    const again = await post<ApiAlert>(`/api/v1/alerts/${scanId}/ack`, {});
    expect(again.status).toBe(200);
    expect(again.body.acknowledgedAt).toBe(acked.body.acknowledgedAt);

    const cleared = await post<ApiAlert>(`/api/v1/alerts/${scanId}/ack`, { acknowledged: false });
    expect(cleared.status).toBe(200);
    expect(cleared.body).toMatchObject({ id: scanId, acknowledgedAt: null, acknowledgedBy: null });
    expect(ids(await list('acknowledged=false'))).toContain(scanId);
    expect(await list('acknowledged=true')).toEqual([]);
  });

  it('alerts - a POST without a body acknowledges (curl -X POST …/ack)', async () => {
    expect(floodAlertId, 'the alerts test raised a SYN flood alert').toBeDefined();
    // No body and no content type, as `curl -X POST` sends it; the route defaults to acknowledging.
    const res = await fetch(`${c.baseUrl}/api/v1/alerts/${floodAlertId}/ack`, { method: 'POST' });
    const body = (await res.json()) as ApiAlert;
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(body.acknowledgedAt).not.toBeNull();
  });

  it('alerts - an unknown id is a 404 and a bad id or body a 400 naming the field', async () => {
    const unknown = await post<{ field?: string; message: string }>('/api/v1/alerts/987654321/ack', {});
    expect(unknown.status).toBe(404);
    expect(unknown.body.message).toMatch(/987654321/);
    for (const bad of ['abc', '0', '-4', '1.5', '99999999999999999999', "1'%20OR%201=1"]) {
      const r = await post<{ field?: string; message: string }>(`/api/v1/alerts/${bad}/ack`, {});
      expect(r.status, bad).toBe(400);
      expect(r.body.field, bad).toBe('id');
    }
    const body = await post<{ field?: string }>('/api/v1/alerts/1/ack', { acknowledged: 'yes' });
    expect(body.status).toBe(400);
    expect(body.body.field).toBe('acknowledged');
    const level = await c.get<{ field?: string }>('/api/v1/alerts?level=critical');
    expect(level.status).toBe(400);
    expect(level.body.field).toBe('level');
  });

  it('live - a client that stops reading gets coalesced flows later; buffers stay bounded and other clients keep up', async () => {
    const agent = 'live-slow';
    const slow = await open(`host:${agent}`);
    const fast = await open(`host:${agent}`);
    await Promise.all([slow.next('hello'), fast.next('hello')]);
    slow.pause();
    const wsServer = (c.collector.app as unknown as { websocketServer: { clients: Set<{ bufferedAmount: number }> } }).websocketServer;
    const mostBuffered = (): number => Math.max(0, ...[...wsServer.clients].map((s) => s.bufferedAmount));
    const coalescedBefore = await metric('nta_live_coalesced_updates_total');

    // Rounds smaller than the hub's per-tick cap, each delivered to the fast client before the
    // next: a client that keeps up never loses a flow. The slow one fills its socket buffers,
    // after which the hub must hold its updates instead of queuing bytes.
    const ROUND = 450;
    const SATURATED_ROUNDS = 6;
    const published: string[] = [];
    let peakBuffered = 0;
    let saturatedRounds = 0;
    let bytesWhileSaturated = 0;
    let maxFlowJson = 0;
    const sampler = setInterval(() => (peakBuffered = Math.max(peakBuffered, mostBuffered())), 10);
    for (let round = 0; saturatedRounds < SATURATED_ROUNDS; round++) {
      if (round >= 80) throw new Error(`the paused client's buffers never filled (peak ${peakBuffered} bytes)`);
      const saturated = mostBuffered() > HUB_MAX_BUFFERED_BYTES;
      const flows = Array.from({ length: ROUND }, fatFlow);
      await publishFlows(agent, flows);
      published.push(...flows.map((f) => f.flowId));
      await fast.untilState(() => fast.flows().length >= published.length, `${published.length} flows on the fast client`);
      peakBuffered = Math.max(peakBuffered, mostBuffered());
      const sizes = fast.flows().slice(-ROUND).map((f) => JSON.stringify(f).length);
      maxFlowJson = Math.max(maxFlowJson, ...sizes);
      if (saturated) {
        saturatedRounds++;
        bytesWhileSaturated += sizes.reduce((s, n) => s + n, 0);
      }
    }
    clearInterval(sampler);

    // The other client got everything, nothing coalesced.
    expect(fast.flows().map((f) => f.flowId)).toEqual(published);
    expect(fast.all('flows').every((m) => m.dropped === 0)).toBe(true);
    // At most the skip threshold plus one tick's worth of flows is ever buffered for the slow one,
    // although far more was published for it while it was not reading.
    const bound = HUB_MAX_BUFFERED_BYTES + HUB_MAX_FLOWS_PER_TICK * (maxFlowJson + 1) + 64 * 1024;
    expect(bytesWhileSaturated).toBeGreaterThan(bound);
    expect(peakBuffered).toBeLessThanOrEqual(bound);

    slow.resume();
    const coalesced = await slow.next('flows', (m) => m.dropped > 0);
    expect(coalesced.flows.length).toBeLessThanOrEqual(HUB_MAX_FLOWS_PER_TICK);
    // Every flow is either delivered or counted as dropped, once; the newest are the ones kept.
    const accounted = (): number => slow.all('flows').reduce((s, m) => s + m.flows.length + m.dropped, 0);
    await slow.untilState(() => accounted() >= published.length, 'every flow delivered or counted');
    expect(accounted()).toBe(published.length);
    expect(slow.flows().map((f) => f.flowId)).toContain(published.at(-1));
    const dropped = slow.all('flows').reduce((s, m) => s + m.dropped, 0);
    expect(dropped).toBeGreaterThanOrEqual(SATURATED_ROUNDS * ROUND - 2 * HUB_MAX_FLOWS_PER_TICK);
    expect((await metric('nta_live_coalesced_updates_total')) - coalescedBefore).toBeGreaterThanOrEqual(dropped);
    console.log(`live slow client (${flavor}): peak ${(peakBuffered / MiB).toFixed(2)} MiB buffered (bound ${(bound / MiB).toFixed(2)}), ${(bytesWhileSaturated / MiB).toFixed(1)} MiB published while saturated, ${dropped} flows coalesced`);
  });
});
