/**
 * End to end across hosts: three hosts (network namespaces joined by a bridge), an agent on
 * each capturing its eth0 live and publishing to NATS on the bridge address, one collector
 * with PostgreSQL 15. Traffic is made inside the namespaces (TCP with known payloads, UDP
 * with known datagrams, ping) and checked only through the collector's REST API, as a user
 * would: which agents are online, and which flows each host recorded. Then one agent is
 * stopped (it turns stale, the others stay online) and started again (online, and nothing
 * missing or doubled). Needs root; fails with the reason when the machine cannot do it.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AGENT_CLI, startInProcessCollector, waitFor, type InProcessCollector, type Servers } from '../helpers/collector-stack.js';
import {
  createFleet,
  HOST_IFACE,
  PEER_TCP_PORT,
  PEER_UDP_PORT,
  spawnInHost,
  startBridgeNats,
  startTrafficPeer,
  tempDir,
  type Fleet,
  type FleetHost,
  type HostProcess,
  type TrafficPeer,
} from '../helpers/netns-fleet.js';
import type { NatsServerHandle } from '../helpers/nats-server.js';
import { startPostgres, type PostgresHandle } from '../helpers/postgres.js';

const HEARTBEAT_S = 1;
/** Generous: a busy 2-core machine must not make a running agent look stale. */
const STALE_AFTER_INTERVALS = 5;
const IDLE_TIMEOUT_S = 1;
/** Longer than any conversation here, so no flow is cut into pieces. */
const ACTIVE_TIMEOUT_S = 20;
/** Phases are seconds apart; the agent's packet clock may differ from Date.now() by a few ms. */
const CLOCK_SLACK_MS = 250;

/*
 * Wire sizes with MTU 1500 and GSO off (the fleet pins both): Ethernet 14 + IPv4 20, plus
 * TCP 20 + 12 (timestamps) on every segment but the SYN and SYN-ACK, which carry 20 bytes
 * of options (MSS, timestamps, window scale, padding; SACK is off): 8 more.
 */
const ETH_IP = 14 + 20;
const TCP_SEGMENT_OVERHEAD = ETH_IP + 32;
const TCP_HANDSHAKE_EXTRA = 8;
const TCP_MSS = 1500 - 20 - 32;
const UDP_OVERHEAD = ETH_IP + 8;
/** ping's default 56 data bytes + ICMP header 8. */
const PING_FRAME = ETH_IP + 8 + 56;

interface ApiFlow {
  flowId: string;
  agentId: string;
  hostname: string | null;
  firstSeen: string;
  proto: string;
  src: string;
  dst: string;
  sport: number;
  dport: number;
  packetsToDst: number;
  packetsToSrc: number;
  bytesToDst: number;
  bytesToSrc: number;
  endReason: string;
}

interface ApiAgent {
  agentId: string;
  hostname: string;
  status: 'online' | 'stale';
  lastSeen: string;
  heartbeatIntervalMs: number;
  capture: { received: number; dropped: number; ifDropped: number };
  interfaces: { name?: string; addresses?: string[] }[];
}

type Plan =
  | { kind: 'tcp'; from: string; to: string; sendBytes: number; replyBytes: number }
  | { kind: 'udp'; from: string; to: string; sizes: number[] }
  | { kind: 'icmp'; from: string; to: string; count: number };

/** A conversation as it happened: the plan, the ports the client got, when it started. */
type Conversation = Plan & { phase: number; src: FleetHost; dst: FleetHost; sport: number; dport: number; startedAtMs: number };

/** What a user reads off a flow, reduced to what the test knows in advance. */
interface FlowView {
  key: string;
  endReason: string;
  /** TCP: payload bytes per direction (wire bytes minus the headers of the packets counted). */
  payloadToDst?: number;
  payloadToSrc?: number;
  /** UDP and ICMP: exact packets and wire bytes per direction. */
  packetsToDst?: number;
  packetsToSrc?: number;
  bytesToDst?: number;
  bytesToSrc?: number;
}

const flowKey = (proto: string, src: string, sport: number, dst: string, dport: number): string => `${proto} ${src}:${sport} > ${dst}:${dport}`;

function expectedView(c: Conversation): FlowView {
  const key = flowKey(c.kind, c.src.address, c.sport, c.dst.address, c.dport);
  switch (c.kind) {
    case 'tcp':
      return { key, endReason: 'fin', payloadToDst: c.sendBytes, payloadToSrc: c.replyBytes };
    case 'udp': {
      const bytes = c.sizes.reduce((sum, size) => sum + UDP_OVERHEAD + size, 0);
      return { key, endReason: 'idle', packetsToDst: c.sizes.length, packetsToSrc: c.sizes.length, bytesToDst: bytes, bytesToSrc: bytes };
    }
    case 'icmp':
      return { key, endReason: 'idle', packetsToDst: c.count, packetsToSrc: c.count, bytesToDst: c.count * PING_FRAME, bytesToSrc: c.count * PING_FRAME };
  }
}

function observedView(f: ApiFlow): FlowView {
  const key = flowKey(f.proto, f.src, f.sport, f.dst, f.dport);
  if (f.proto === 'tcp') {
    return {
      key,
      endReason: f.endReason,
      payloadToDst: f.bytesToDst - TCP_SEGMENT_OVERHEAD * f.packetsToDst - TCP_HANDSHAKE_EXTRA,
      payloadToSrc: f.bytesToSrc - TCP_SEGMENT_OVERHEAD * f.packetsToSrc - TCP_HANDSHAKE_EXTRA,
    };
  }
  return { key, endReason: f.endReason, packetsToDst: f.packetsToDst, packetsToSrc: f.packetsToSrc, bytesToDst: f.bytesToDst, bytesToSrc: f.bytesToSrc };
}

const byKey = (a: FlowView, b: FlowView): number => a.key.localeCompare(b.key);

/* The scenario. Phase 1: every agent up. Phase 2: b's agent stopped (b itself still talks). Phase 3: b's agent back. */
const PHASE_1: Plan[] = [
  { kind: 'tcp', from: 'a', to: 'b', sendBytes: 1_000, replyBytes: 20_000 },
  { kind: 'tcp', from: 'a', to: 'b', sendBytes: 50_000, replyBytes: 300 },
  { kind: 'tcp', from: 'a', to: 'b', sendBytes: 64, replyBytes: 64 },
  { kind: 'tcp', from: 'b', to: 'c', sendBytes: 10_000, replyBytes: 10_000 },
  { kind: 'tcp', from: 'b', to: 'c', sendBytes: 200_000, replyBytes: 100 },
  { kind: 'tcp', from: 'c', to: 'a', sendBytes: 3_000, replyBytes: 70_000 },
  { kind: 'udp', from: 'a', to: 'c', sizes: [10, 500, 1_200, 64] },
  { kind: 'udp', from: 'b', to: 'a', sizes: [1_472, 1, 300] },
  { kind: 'icmp', from: 'a', to: 'b', count: 3 },
  { kind: 'icmp', from: 'c', to: 'a', count: 2 },
];
const PHASE_2: Plan[] = [
  { kind: 'tcp', from: 'a', to: 'b', sendBytes: 5_000, replyBytes: 5_000 },
  { kind: 'tcp', from: 'c', to: 'a', sendBytes: 1_000, replyBytes: 1_000 },
  { kind: 'udp', from: 'b', to: 'c', sizes: [100, 200] },
  { kind: 'icmp', from: 'a', to: 'c', count: 2 },
];
const PHASE_3: Plan[] = [
  { kind: 'tcp', from: 'b', to: 'a', sendBytes: 8_000, replyBytes: 2_000 },
  { kind: 'tcp', from: 'c', to: 'b', sendBytes: 1_500, replyBytes: 15_000 },
  { kind: 'udp', from: 'c', to: 'b', sizes: [700, 50] },
  { kind: 'icmp', from: 'b', to: 'a', count: 2 },
];

describe('multi-host: three agents in network namespaces feeding one collector', () => {
  let fleet: Fleet | undefined;
  let nats: NatsServerHandle | undefined;
  let pgServer: PostgresHandle | undefined;
  let c: InProcessCollector;
  const peers = new Map<string, TrafficPeer>();
  const agents = new Map<string, HostProcess>();
  const spoolDirs = new Map<string, string>();
  const conversations: Conversation[] = [];
  /** Which phases each agent was running for (b misses phase 2). */
  const upInPhases: Record<string, number[]> = { a: [1, 2, 3], b: [1, 3], c: [1, 2, 3] };
  let runStartMs = 0;

  const host = (key: string): FleetHost => fleet!.hosts.find((h) => h.key === key)!;

  function startAgent(h: FleetHost): HostProcess {
    const spoolDir = spoolDirs.get(h.key) ?? tempDir(`spool-${h.key}`);
    spoolDirs.set(h.key, spoolDir);
    const argv = [process.execPath, AGENT_CLI, 'capture', '--interface', HOST_IFACE,
      // What an operator does: the agent does not capture its own traffic to the collector's host.
      '--filter', `not host ${fleet!.bridgeAddress}`,
      '--nats', nats!.url, '--agent-id', h.agentId, '--spool-dir', spoolDir,
      '--heartbeat-interval', String(HEARTBEAT_S), '--idle-timeout', String(IDLE_TIMEOUT_S), '--active-timeout', String(ACTIVE_TIMEOUT_S)];
    const proc = spawnInHost(h, argv, { env: { LOG_LEVEL: 'warn' } });
    agents.set(h.key, proc);
    return proc;
  }

  async function listAgents(): Promise<ApiAgent[]> {
    const r = await c.get<{ agents: ApiAgent[] }>('/api/v1/agents');
    expect(r.status).toBe(200);
    return r.body.agents;
  }

  /** Waits until each given agent is online with a heartbeat sent after `sinceMs`. */
  async function waitOnline(keys: string[], sinceMs: number): Promise<ApiAgent[]> {
    return waitFor(`agents ${keys.join(', ')} online`, async () => {
      for (const k of keys) {
        const proc = agents.get(k);
        if (proc && proc.child.exitCode !== null) throw new Error(`agent ${k} exited (${proc.child.exitCode}): ${proc.output()}`);
      }
      const list = await listAgents();
      const ok = keys.every((k) => list.some((x) => x.agentId === host(k).agentId && x.status === 'online' && Date.parse(x.lastSeen) >= sinceMs));
      return ok ? list : undefined;
    }, 30_000);
  }

  async function flowsOf(hostParam: string, q?: string): Promise<ApiFlow[]> {
    const query = new URLSearchParams({ host: hostParam, from: String(runStartMs - 60_000), limit: '10000' });
    if (q) query.set('q', q);
    const r = await c.get<{ flows: ApiFlow[]; nextCursor: string | null }>(`/api/v1/flows?${query}`);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.nextCursor).toBeNull();
    return r.body.flows;
  }

  async function run(phase: number, plans: readonly Plan[]): Promise<void> {
    for (const plan of plans) {
      const src = host(plan.from);
      const dst = host(plan.to);
      const peer = peers.get(plan.from)!;
      const startedAtMs = Date.now();
      if (plan.kind === 'tcp') {
        const r = await peer.tcp(dst, plan.sendBytes, plan.replyBytes);
        expect(r.received).toBe(plan.replyBytes);
        conversations.push({ ...plan, phase, src, dst, sport: r.sport, dport: PEER_TCP_PORT, startedAtMs });
      } else if (plan.kind === 'udp') {
        const r = await peer.udp(dst, plan.sizes);
        expect(r.echoed).toBe(plan.sizes.length);
        conversations.push({ ...plan, phase, src, dst, sport: r.sport, dport: PEER_UDP_PORT, startedAtMs });
      } else {
        await peer.ping(dst, plan.count);
        // ICMP flows are keyed by type: echo request (8) one way, its reply (0) back.
        conversations.push({ ...plan, phase, src, dst, sport: 8, dport: 0, startedAtMs });
      }
    }
  }

  /** The conversations `key`'s agent must have recorded: its host took part and the agent was running. */
  const expectedFor = (key: string): Conversation[] =>
    conversations.filter((cv) => (cv.src.key === key || cv.dst.key === key) && upInPhases[key]!.includes(cv.phase));

  /** Waits (bounded) until every agent has stored as many flows as expected; the comparison that follows shows any difference. */
  async function settle(): Promise<void> {
    await waitFor('flows of every host stored', async () => {
      for (const h of fleet!.hosts) if ((await flowsOf(h.agentId)).length < expectedFor(h.key).length) return undefined;
      return true;
    }, 30_000).catch(() => {
      // The comparison that follows names what is missing; the agents' own words may say why.
      for (const [k, a] of agents) if (a.output()) console.warn(`agent on host ${k}:\n${a.output()}`);
    });
  }

  /** Every agent saw every packet: otherwise the flow comparison would fail for want of packets. */
  async function expectNoCaptureDrops(): Promise<void> {
    for (const a of await listAgents()) expect(a.capture, `${a.agentId} capture counters`).toMatchObject({ dropped: 0, ifDropped: 0 });
  }

  /** Each host's stored flows are exactly its expected conversations, once each, with exact counts. */
  async function expectExactFlows(key: string): Promise<ApiFlow[]> {
    const h = host(key);
    const flows = await flowsOf(h.agentId);
    const expected = expectedFor(key);
    expect(new Set(expected.map((cv) => expectedView(cv).key)).size, 'test plan: one flow key per conversation').toBe(expected.length);
    expect(flows.map(observedView).sort(byKey), `flows of ${h.agentId}`).toEqual(expected.map(expectedView).sort(byKey));
    expect(new Set(flows.map((f) => f.flowId)).size).toBe(flows.length);
    for (const f of flows) {
      expect(f).toMatchObject({ agentId: h.agentId, hostname: h.hostname });
      const cv = expected.find((x) => expectedView(x).key === observedView(f).key)!;
      // A flow belongs to the conversation run then, not to an earlier one with the same
      // addresses (the agent's clock is wall time at open plus a monotonic delta: allow a little).
      expect(Date.parse(f.firstSeen)).toBeGreaterThanOrEqual(cv.startedAtMs - CLOCK_SLACK_MS);
      if (cv.kind === 'tcp') {
        expect(f.packetsToDst).toBeGreaterThanOrEqual(1 + Math.ceil(cv.sendBytes / TCP_MSS));
        expect(f.packetsToSrc).toBeGreaterThanOrEqual(1 + Math.ceil(cv.replyBytes / TCP_MSS));
      }
    }
    return flows;
  }

  beforeAll(async () => {
    if (!existsSync(AGENT_CLI)) throw new Error(`${AGENT_CLI} missing: build first (pnpm run build)`);
    if (spawnSync('ping', ['-V']).status !== 0) throw new Error('multi-host test needs `ping` (Debian package iputils-ping)');
    runStartMs = Date.now();
    fleet = createFleet(['a', 'b', 'c']); // throws the reason when not root or without network namespaces
    const [natsServer, pgStarted] = await Promise.all([startBridgeNats(fleet.bridgeAddress), startPostgres({ flavor: 'postgres' })]);
    nats = natsServer;
    pgServer = pgStarted;
    const servers: Servers = { nats: natsServer, pg: pgStarted, cleanup: async () => {} };
    c = await startInProcessCollector(servers, { NTA_STALE_AFTER_INTERVALS: String(STALE_AFTER_INTERVALS) });
    for (const h of fleet.hosts) peers.set(h.key, await startTrafficPeer(h));
    // Each host talks to the bridge once before capture starts: the bridge learns every MAC,
    // so unicast between two hosts is never flooded to the third.
    await Promise.all([...peers.values()].map((p) => p.ping({ address: fleet!.bridgeAddress }, 1)));
    const startedAt = Date.now();
    for (const h of fleet.hosts) startAgent(h);
    await waitOnline(['a', 'b', 'c'], startedAt);
  });

  afterAll(async () => {
    await Promise.allSettled([...agents.values()].map((a) => a.stop('SIGTERM', 5_000)));
    await Promise.allSettled([...peers.values()].map((p) => p.close()));
    await c?.close().catch(() => undefined);
    await Promise.allSettled([nats?.cleanup(), pgServer?.cleanup()]);
    fleet?.teardown();
  });

  it('agents - the three hosts are listed online with their ids, hostnames and capture interface', async () => {
    const list = await listAgents();
    expect(list.map((x) => ({ agentId: x.agentId, hostname: x.hostname, status: x.status, heartbeatIntervalMs: x.heartbeatIntervalMs }))).toEqual(
      fleet!.hosts.map((h) => ({ agentId: h.agentId, hostname: h.hostname, status: 'online', heartbeatIntervalMs: HEARTBEAT_S * 1000 })),
    );
    for (const h of fleet!.hosts) {
      expect(list.find((x) => x.agentId === h.agentId)?.interfaces).toEqual([expect.objectContaining({ name: HOST_IFACE, addresses: [h.address] })]);
    }
  });

  it('flows - each host stores exactly the conversations it took part in, flow by flow', async () => {
    await run(1, PHASE_1);
    await settle();
    await expectNoCaptureDrops();
    const stored = new Map<string, ApiFlow[]>();
    for (const h of fleet!.hosts) stored.set(h.key, await expectExactFlows(h.key));

    // A conversation between a and b: both agents saw the same packets and bytes, c saw none of it.
    const ab = conversations.filter((cv) => cv.phase === 1 && [cv.src.key, cv.dst.key].sort().join('') === 'ab');
    const counters = (f: ApiFlow | undefined) => f && { packets: [f.packetsToDst, f.packetsToSrc], bytes: [f.bytesToDst, f.bytesToSrc] };
    for (const cv of ab) {
      const key = expectedView(cv).key;
      const [atA, atB, atC] = ['a', 'b', 'c'].map((k) => stored.get(k)!.find((f) => observedView(f).key === key));
      expect(atA, key).toBeDefined();
      expect(counters(atB), key).toEqual(counters(atA));
      expect(atC, key).toBeUndefined();
    }

    // The filter language and the hostname select the same flows on live data.
    for (const h of fleet!.hosts) {
      for (const proto of ['tcp', 'udp', 'icmp'] as const) {
        const keys = (await flowsOf(h.agentId, `proto:${proto}`)).map((f) => observedView(f).key).sort();
        expect(keys, `${h.agentId} proto:${proto}`).toEqual(expectedFor(h.key).filter((cv) => cv.kind === proto).map((cv) => expectedView(cv).key).sort());
      }
      const byHostname = await flowsOf(h.hostname);
      expect(byHostname.map((f) => f.flowId).sort()).toEqual(stored.get(h.key)!.map((f) => f.flowId).sort());
    }
    const aToB = await flowsOf(host('a').agentId, `src:${host('a').address} and dst:${host('b').address}`);
    expect(aToB.map((f) => observedView(f).key).sort()).toEqual(
      conversations.filter((cv) => cv.src.key === 'a' && cv.dst.key === 'b').map((cv) => expectedView(cv).key).sort(),
    );
  });

  it('agents - a stopped agent turns stale within its heartbeat window, the others stay online', async () => {
    const stoppedAt = Date.now();
    expect(await agents.get('b')!.stop('SIGTERM')).toBe(0);
    const windowMs = HEARTBEAT_S * 1000 * STALE_AFTER_INTERVALS;
    const list = await waitFor('host-b stale', async () => {
      const l = await listAgents();
      return l.find((x) => x.agentId === 'host-b')?.status === 'stale' ? l : undefined;
    }, windowMs + 10_000);
    const b = list.find((x) => x.agentId === 'host-b')!;
    // Its last heartbeat was the one it sent on the way out.
    expect(Date.parse(b.lastSeen)).toBeGreaterThanOrEqual(stoppedAt);
    expect(list.map((x) => [x.agentId, x.status])).toEqual([['host-a', 'online'], ['host-b', 'stale'], ['host-c', 'online']]);

    // Host b is still up; only its agent is not. What it does now is seen by its peers' agents alone.
    await run(2, PHASE_2);
    await settle();
    for (const h of fleet!.hosts) await expectExactFlows(h.key);
    expect((await listAgents()).map((x) => [x.agentId, x.status])).toEqual([['host-a', 'online'], ['host-b', 'stale'], ['host-c', 'online']]);
  });

  it('agents - a restarted agent is online again; every conversation made while it ran is stored once', async () => {
    const restartedAt = Date.now();
    startAgent(host('b'));
    const list = await waitOnline(['b'], restartedAt);
    expect(list.map((x) => [x.agentId, x.status])).toEqual([['host-a', 'online'], ['host-b', 'online'], ['host-c', 'online']]);

    await run(3, PHASE_3);
    await settle();
    await expectNoCaptureDrops();
    // All three phases: b has phases 1 and 3 (nothing from while it was stopped, nothing twice), a and c all three.
    for (const h of fleet!.hosts) await expectExactFlows(h.key);
    const bFlows = await flowsOf('host-b');
    expect(bFlows.filter((f) => Date.parse(f.firstSeen) >= restartedAt).length).toBe(expectedFor('b').filter((cv) => cv.phase === 3).length);
  });
});
