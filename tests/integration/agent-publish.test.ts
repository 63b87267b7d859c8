/**
 * The agent's JetStream publisher against a real nats-server: flows arrive intact, an
 * outage (server stopped and restarted on the same port and store) loses and duplicates
 * nothing, and a publisher closed while NATS is down leaves its batches in the spool for
 * the next one.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
// The root package.json does not list the workspace packages (or their NATS client), so
// tests reach them by path; the agent's own node_modules holds the same client it uses.
import { FlowBatch, Heartbeat, HostStatsBatch, Streams, flowSubject, heartbeatSubject, hostStatsSubject } from '../../packages/shared/src/index.js';
import type { FlowRecord, HostSecond } from '../../packages/shared/src/index.js';
import { NatsPublisher, ensureStreams } from '../../packages/agent/src/publish/index.js';
import type { NatsPublisherOptions } from '../../packages/agent/src/publish/index.js';
import { connect } from '../../packages/agent/node_modules/@nats-io/transport-node/lib/mod.js';
import type { NatsConnection } from '../../packages/agent/node_modules/@nats-io/transport-node/lib/mod.js';
import { jetstream, jetstreamManager } from '../../packages/agent/node_modules/@nats-io/jetstream/lib/mod.js';
import type { JsMsg } from '../../packages/agent/node_modules/@nats-io/jetstream/lib/mod.js';
import { pino } from '../../packages/agent/node_modules/pino/pino.js';
import { startNatsServer } from '../helpers/nats-server.js';
import type { NatsServerHandle } from '../helpers/nats-server.js';

// LOG_LEVEL=warn shows the publisher's side of the outages below.
const log = pino({ level: process.env.LOG_LEVEL ?? 'silent' });

let server: NatsServerHandle;
let workDir: string;

beforeAll(async () => {
  server = await startNatsServer();
  workDir = mkdtempSync(join(tmpdir(), 'nta-agent-publish-'));
});

afterAll(async () => {
  await server?.cleanup();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

// ---- test data ----

let flowCounter = 0;

/** A valid FlowRecord; every few flows carry the optional fields too. */
function makeFlow(): FlowRecord {
  const i = flowCounter++;
  const t0 = 1_760_000_000_000 + i * 7;
  const tcp = i % 3 !== 2;
  const flow: FlowRecord = {
    flowId: randomUUID(),
    firstSeenMs: t0,
    lastSeenMs: t0 + (i % 5000),
    family: i % 4 === 0 ? 6 : 4,
    ipProto: tcp ? 6 : 17,
    proto: tcp ? 'tcp' : 'udp',
    src: i % 4 === 0 ? `2001:db8::${(i % 65535).toString(16)}` : `10.0.${(i >> 8) & 255}.${i & 255}`,
    dst: i % 4 === 0 ? '2001:db8::1' : '192.0.2.10',
    sport: 1024 + (i % 60000),
    dport: tcp ? 443 : 53,
    packetsToDst: 3 + (i % 10),
    packetsToSrc: 2 + (i % 7),
    bytesToDst: 300 + i,
    bytesToSrc: 1200 + 2 * i,
    packets: 5 + (i % 10) + (i % 7),
    bytes: 1500 + 3 * i,
    tcpFlagsToDst: tcp ? 0x1b : 0,
    tcpFlagsToSrc: tcp ? 0x12 : 0,
    endReason: tcp ? 'fin' : 'idle',
    features: {
      durationMs: i % 5000,
      pktSizeMin: 60,
      pktSizeMax: 1514,
      pktSizeMean: 512.25,
      pktSizeStd: 101.5,
      iatMeanMs: 12.5,
      iatStdMs: 3.25,
      iatMinMs: 0.125,
      iatMaxMs: 40,
      synCount: tcp ? 1 : 0,
      synAckCount: tcp ? 1 : 0,
      finCount: tcp ? 2 : 0,
      rstCount: 0,
      byteRatio: (300 + i) / (1500 + 3 * i),
      payloadBytes: 900 + i,
    },
  };
  if (i % 5 === 0) flow.vlan = i % 4095;
  if (!tcp) flow.l7 = { dnsQuery: `host-${i}.example.org`, dnsQueryType: 1, dnsRcode: 0 };
  else if (i % 7 === 0) flow.l7 = { tlsSni: `svc-${i}.example.com`, tlsAlpn: ['h2', 'http/1.1'] };
  return flow;
}

function makeFlows(n: number): FlowRecord[] {
  return Array.from({ length: n }, makeFlow);
}

function hostSecond(tsMs: number): HostSecond {
  const c = { packets: 10, bytes: 1000 };
  return { tsMs, packets: 40, bytes: 4000, protocols: { tcp: c, udp: c, icmp: c, other: c }, topTalkers: [{ addr: '10.0.0.1', packets: 40, bytes: 4000 }] };
}

// ---- helpers ----

let agentCounter = 0;
const newAgentId = (): string => `agent-${process.pid}-${++agentCounter}`;

function publisher(agentId: string, over: Partial<NatsPublisherOptions> = {}): NatsPublisher {
  return new NatsPublisher({
    servers: server.url,
    agentId,
    hostname: `${agentId}.test`,
    log,
    spoolDir: join(workDir, agentId),
    validate: true,
    reconnectTimeWaitMs: 200,
    ...over,
  });
}

async function client(): Promise<NatsConnection> {
  return connect({ servers: server.url, name: 'agent-publish-test' });
}

/** Reads every message of one subject from a stream with an ordered consumer. */
async function readSubject(nc: NatsConnection, stream: string, subject: string): Promise<JsMsg[]> {
  const jsm = await jetstreamManager(nc);
  const info = await jsm.streams.info(stream, { subjects_filter: subject });
  const total = info.state.subjects?.[subject] ?? 0;
  const out: JsMsg[] = [];
  if (total === 0) return out;
  const consumer = await jetstream(nc).consumers.get(stream, { filter_subjects: subject });
  while (out.length < total) {
    const batch = await consumer.fetch({ max_messages: Math.min(500, total - out.length), expires: 5000 });
    for await (const m of batch) out.push(m);
  }
  return out;
}

async function readFlowBatches(nc: NatsConnection, agentId: string): Promise<{ msgIds: string[]; batches: FlowBatch[] }> {
  const msgs = await readSubject(nc, Streams.flows.name, flowSubject(agentId));
  return {
    msgIds: msgs.map((m) => m.headers?.get('Nats-Msg-Id') ?? ''),
    batches: msgs.map((m) => FlowBatch.parse(m.json())),
  };
}

/** Asserts that the stream holds every sent flow exactly once. */
function expectExactlyOnce(batches: FlowBatch[], sent: FlowRecord[]): void {
  const ids = batches.flatMap((b) => b.flows.map((f) => f.flowId));
  const distinct = new Set(ids);
  expect(distinct.size).toBe(sent.length);
  expect(ids.length).toBe(sent.length);
  expect(sent.filter((f) => !distinct.has(f.flowId)).map((f) => f.flowId)).toEqual([]);
}

async function waitFor(what: string, cond: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

// ---- tests ----

describe('agent publish', () => {
  test('agent-publish - ensureStreams is idempotent under concurrent callers and applies changed limits', async () => {
    const own = await startNatsServer();
    const nc = await connect({ servers: own.url });
    try {
      const jsm = await jetstreamManager(nc);
      const results = await Promise.all(Array.from({ length: 6 }, async () => ensureStreams(await jetstreamManager(nc))));
      for (const name of [Streams.flows.name, Streams.telemetry.name, Streams.deadLetters.name]) {
        // JetStream accepts an add identical to an existing stream, so racing callers may all say 'created'.
        expect(results.some((r) => r[name] === 'created')).toBe(true);
        expect(results.every((r) => r[name] !== 'updated')).toBe(true);
      }
      const flows = await jsm.streams.info(Streams.flows.name);
      expect(flows.config).toMatchObject({ storage: 'file', duplicate_window: 120_000_000_000, subjects: [...Streams.flows.subjects] });
      const telemetry = await jsm.streams.info(Streams.telemetry.name);
      expect(telemetry.config.max_age).toBe(24 * 3600 * 1e9);
      expect(await ensureStreams(jsm)).toEqual({ [Streams.flows.name]: 'unchanged', [Streams.telemetry.name]: 'unchanged', [Streams.deadLetters.name]: 'unchanged' });
      const changed = await ensureStreams(jsm, { telemetryMaxAgeMs: 3600_000 });
      expect(changed[Streams.telemetry.name]).toBe('updated');
      expect((await jsm.streams.info(Streams.telemetry.name)).config.max_age).toBe(3600 * 1e9);
    } finally {
      await nc.close();
      await own.cleanup();
    }
  });

  test('agent-publish - published flows arrive intact, with host stats and heartbeats', async () => {
    const agentId = newAgentId();
    const pub = publisher(agentId, { runId: 'run-intact' });
    await waitFor('publisher ready', () => pub.stats().ready);
    const sent = makeFlows(1234);
    for (let i = 0; i < sent.length; i += 100) pub.addFlows(sent.slice(i, i + 100));
    pub.addHostSeconds([hostSecond(1_760_000_000_000), hostSecond(1_760_000_001_000)]);
    const hb: Heartbeat = Heartbeat.parse({
      v: 1, agentId, hostname: `${agentId}.test`, version: '0.1.0', runId: pub.runId, startedAtMs: Date.now(), sentAtMs: Date.now(),
      intervalMs: 5000, mode: 'file', interfaces: [], rates: { packetsPerS: 0, bytesPerS: 0, flowsPerS: 0 },
      totals: { packets: 0, bytes: 0, flows: 0 }, capture: { received: 0, dropped: 0, ifDropped: 0 },
      flowTable: { active: 0, evicted: 0 }, spool: { pendingBatches: 0, pendingBytes: 0, droppedBatches: 0 }, skipped: {},
    });
    pub.sendHeartbeat(hb);
    await pub.flush(10_000);

    const st = pub.stats();
    expect(st).toMatchObject({ publishedFlows: 1234, publishedHostSeconds: 2, invalidFlows: 0, droppedFlows: 0, pendingFlows: 0, heartbeatsSent: 1 });
    expect(st.spool.pendingBatches).toBe(0);

    const nc = await client();
    try {
      const { msgIds, batches } = await readFlowBatches(nc, agentId);
      expect(batches.flatMap((b) => b.flows)).toEqual(sent); // field for field, in order
      for (const [i, b] of batches.entries()) {
        expect(b).toMatchObject({ v: 1, agentId, hostname: `${agentId}.test`, runId: 'run-intact', seq: i });
        expect(msgIds[i]).toBe(`${agentId}.run-intact.${b.seq}`);
        expect(Buffer.byteLength(JSON.stringify(b))).toBeLessThan(64 * 1024);
      }
      expect(batches.length).toBeGreaterThan(1);

      const hs = await readSubject(nc, Streams.telemetry.name, hostStatsSubject(agentId));
      expect(hs.map((m) => HostStatsBatch.parse(m.json()).seconds)).toEqual([[hostSecond(1_760_000_000_000), hostSecond(1_760_000_001_000)]]);
      const hbs = await readSubject(nc, Streams.telemetry.name, heartbeatSubject(agentId));
      expect(hbs.map((m) => Heartbeat.parse(m.json()))).toEqual([hb]);
    } finally {
      await nc.close();
      await pub.close();
    }
  });

  test('agent-publish - credentials: user/pass are passed to the server; a wrong password keeps flows in the spool', async () => {
    const own = await startNatsServer({ args: ['--user', 'nta-agent', '--pass', 's3cret'] });
    const agentId = newAgentId();
    const wrong = publisher(agentId, { servers: own.url, user: 'nta-agent', pass: 'wrong', spoolDir: join(workDir, `${agentId}-auth`) });
    const right = publisher(agentId, { servers: own.url, user: 'nta-agent', pass: 's3cret' });
    try {
      wrong.addFlows(makeFlows(10));
      right.addFlows(makeFlows(10));
      await right.flush(10_000);
      expect(right.stats().publishedFlows).toBe(10);
      await waitFor('auth error', () => /auth/i.test(wrong.stats().lastError ?? ''));
      await expect(wrong.flush(200)).rejects.toMatchObject({ code: 'NTA_ERR_PUBLISH' });
      expect(wrong.stats()).toMatchObject({ connected: false, publishedFlows: 0, droppedFlows: 0 });
      expect(wrong.stats().spool.pendingBatches).toBe(1);
    } finally {
      await wrong.close(100);
      await right.close();
      await own.cleanup();
    }
  });

  test('agent-publish - invalid flows are counted and left out, never sent', async () => {
    const agentId = newAgentId();
    const pub = publisher(agentId);
    const good = makeFlows(3);
    const bad = { ...makeFlow(), flowId: 'not-a-uuid' };
    pub.addFlows([good[0], bad, good[1], good[2]]);
    await pub.flush(10_000);
    expect(pub.stats()).toMatchObject({ publishedFlows: 3, invalidFlows: 1 });
    expect(pub.stats().lastError).toMatch(/flowId/);
    const nc = await client();
    try {
      const { batches } = await readFlowBatches(nc, agentId);
      expect(batches.flatMap((b) => b.flows)).toEqual(good);
    } finally {
      await nc.close();
      await pub.close();
    }
  });

  test('agent-publish - nats-server restart mid-stream: every flow arrives exactly once, via the spool', async () => {
    const agentId = newAgentId();
    const pub = publisher(agentId, { flushIntervalMs: 100, publishTimeoutMs: 1000 });
    await waitFor('publisher ready', () => pub.stats().ready);
    const sent: FlowRecord[] = [];
    let maxSpooled = 0;
    let producing = true;
    const producer = (async () => {
      // 20,000 flows over about 4 s, 100 every 20 ms.
      for (let tick = 0; tick < 200; tick++) {
        const flows = makeFlows(100);
        sent.push(...flows);
        pub.addFlows(flows);
        maxSpooled = Math.max(maxSpooled, pub.stats().spool.pendingBatches);
        await sleep(20);
      }
      producing = false;
    })();
    const sampler = (async () => {
      while (producing || pub.stats().spool.pendingBatches > 0) {
        maxSpooled = Math.max(maxSpooled, pub.stats().spool.pendingBatches);
        await sleep(10);
      }
    })();

    await sleep(1000);
    await server.stop();
    await sleep(2500);
    expect(pub.stats().connected).toBe(false);
    await server.restart();
    await producer;
    await pub.flush(30_000);
    await sampler;

    const st = pub.stats();
    console.log(
      `restart: spooled up to ${maxSpooled} batches, ${st.publishFailures} failed publishes, ` +
        `${st.duplicateAcks} duplicate acks, ${st.publishedBatches} batches acked`,
    );
    expect(sent.length).toBe(20_000);
    expect(maxSpooled).toBeGreaterThan(0);
    expect(st).toMatchObject({ droppedFlows: 0, invalidFlows: 0, pendingFlows: 0, connected: true });
    expect(st.spool).toMatchObject({ pendingBatches: 0, droppedBatches: 0, corruptBatches: 0 });
    expect(st.publishedFlows).toBeGreaterThanOrEqual(20_000); // duplicates acked as such count again

    const nc = await client();
    try {
      const { msgIds, batches } = await readFlowBatches(nc, agentId);
      expect(new Set(msgIds).size).toBe(msgIds.length); // JetStream stored each batch once
      expectExactlyOnce(batches, sent);
    } finally {
      await nc.close();
      await pub.close();
    }
  });

  test('agent-publish - a frozen server (acks time out, then it stores the originals): replays are de-duplicated', async () => {
    const agentId = newAgentId();
    const pub = publisher(agentId, { flushIntervalMs: 100, publishTimeoutMs: 400 });
    await waitFor('publisher ready', () => pub.stats().ready);
    const pid = server.pid as number;
    const sent: FlowRecord[] = [];
    const produce = async (ticks: number): Promise<void> => {
      for (let t = 0; t < ticks; t++) {
        const flows = makeFlows(100);
        sent.push(...flows);
        pub.addFlows(flows);
        await sleep(20);
      }
    };
    await produce(20);
    process.kill(pid, 'SIGSTOP');
    try {
      await produce(60); // publishes time out and go to the spool; the server still gets the originals later
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    await produce(20);
    await pub.flush(30_000);

    const st = pub.stats();
    console.log(`frozen: ${st.publishFailures} failed publishes, ${st.duplicateAcks} duplicate acks, ${st.publishedBatches} batches acked`);
    expect(st.publishFailures).toBeGreaterThan(0);
    expect(st).toMatchObject({ droppedFlows: 0, pendingFlows: 0 });
    expect(st.spool.pendingBatches).toBe(0);
    const nc = await client();
    try {
      const { msgIds, batches } = await readFlowBatches(nc, agentId);
      expect(new Set(msgIds).size).toBe(msgIds.length);
      expectExactlyOnce(batches, sent);
    } finally {
      await nc.close();
      await pub.close();
    }
  });

  test('agent-publish - closed while NATS is down: batches stay in the spool, the next publisher sends them', async () => {
    const agentId = newAgentId();
    const spoolDir = join(workDir, `${agentId}-shared-spool`);
    const first = publisher(agentId, { spoolDir, runId: 'run-a', publishTimeoutMs: 1000 });
    const before = makeFlows(500);
    first.addFlows(before);
    await first.flush(10_000);

    await server.stop();
    await waitFor('disconnect seen', () => !first.stats().connected);
    const during = makeFlows(3000);
    first.addFlows(during);
    await first.drain(); // room in the spool: a file import would go on while NATS is down
    await first.close(1000);
    const left = first.stats();
    expect(left.spool.pendingBatches).toBeGreaterThan(0);
    expect(left.droppedFlows).toBe(0);
    expect(readdirSync(spoolDir).filter((f) => f.endsWith('.rec')).length).toBe(left.spool.pendingBatches);

    await server.restart();
    const second = publisher(agentId, { spoolDir, runId: 'run-b' });
    expect(second.stats().spool.pendingBatches).toBe(left.spool.pendingBatches);
    const after = makeFlows(200);
    second.addFlows(after);
    await second.flush(20_000);
    expect(second.stats().spool.pendingBatches).toBe(0);
    expect(readdirSync(spoolDir)).toEqual([]);
    await second.close();

    const nc = await client();
    try {
      const { batches } = await readFlowBatches(nc, agentId);
      expectExactlyOnce(batches, [...before, ...during, ...after]);
      // The spooled batches kept their first run's ids; the new ones are the second run's.
      expect(new Set(batches.map((b) => b.runId))).toEqual(new Set(['run-a', 'run-b']));
    } finally {
      await nc.close();
    }
  });

  test('agent-publish - throughput to JetStream with acks (measurement)', async () => {
    const agentId = newAgentId();
    const pub = publisher(agentId, { validate: false });
    await waitFor('publisher ready', () => pub.stats().ready);
    const flows = makeFlows(100_000);
    const t0 = performance.now();
    let addMs = 0;
    for (let i = 0; i < flows.length; i += 1000) {
      const a = performance.now();
      pub.addFlows(flows.slice(i, i + 1000));
      addMs += performance.now() - a;
      // Backpressure as a file import does: this measures the acked path, not the spool.
      await pub.drain();
    }
    await pub.flush(60_000);
    const seconds = (performance.now() - t0) / 1000;
    const st = pub.stats();
    console.log(
      `publish throughput: ${Math.round(flows.length / seconds)} flows/s acked ` +
        `(${st.publishedBatches} batches, ${Math.round(flows.length / st.publishedBatches)} flows each, ` +
        `addFlows ${Math.round(addMs)} ms of ${Math.round(seconds * 1000)} ms, spool used: ${st.spool.pendingBatches + st.publishFailures > 0})`,
    );
    expect(st.publishedFlows).toBe(flows.length);
    await pub.close();
  });
});
