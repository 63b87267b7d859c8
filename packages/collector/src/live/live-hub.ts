/**
 * Fans out live updates to WebSocket clients once a second: changed per-second stats,
 * the flows matching each client's filter, new alerts, and the agent list when it changed.
 *
 * Nothing is queued without bound. Each client has one pending update that newer data
 * merges into (stats by second, the latest flows up to a cap with a count of the rest,
 * the latest alerts); a client whose socket still holds unsent bytes is skipped for
 * that tick and receives the merged update later.
 */
import type { QueryNode } from '@nta/shared';
import type { FlowRow } from '../db/flows-query.js';
import type { AlertRow } from '../db/alerts-repo.js';
import type { StoredFlow } from '../types.js';
import { toApiFlow } from './api-flow.js';
import { SecondStats, type SecondSnapshot } from './second-stats.js';

export interface LiveSocket {
  readonly bufferedAmount: number;
  send(data: string): void;
}

export interface LiveClientFilter {
  query: string;
  predicate: ((f: StoredFlow) => boolean) | null;
  ast: QueryNode | null;
  /** Send flows at all (a client showing only charts can say no). */
  flows: boolean;
}

interface Pending {
  seconds: Map<number, SecondSnapshot>;
  flows: FlowRow[];
  flowsDropped: number;
  alerts: AlertRow[];
  agents: unknown[] | undefined;
}

interface Client {
  socket: LiveSocket;
  filter: LiveClientFilter;
  pending: Pending;
}

export interface LiveHubOptions {
  /** Flows per client per tick at most; older ones are counted as dropped. */
  maxFlowsPerTick: number;
  maxAlertsPending: number;
  /** Skip a tick for a client whose socket buffer holds more than this. */
  maxBufferedBytes: number;
  onCoalesced(n: number): void;
}

const MAX_PENDING_SECONDS = 300;

const emptyPending = (): Pending => ({ seconds: new Map(), flows: [], flowsDropped: 0, alerts: [], agents: undefined });

export class LiveHub {
  private readonly clients = new Set<Client>();
  private readonly stats = new SecondStats();
  private agents: unknown[] | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly opts: LiveHubOptions) {}

  get size(): number {
    return this.clients.size;
  }

  start(intervalMs = 1000): void {
    this.timer = setInterval(() => this.tick(), intervalMs).unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  add(socket: LiveSocket, filter: LiveClientFilter): Client {
    const client: Client = { socket, filter, pending: emptyPending() };
    this.clients.add(client);
    if (this.agents) client.pending.agents = this.agents;
    // A new client's charts start with the last minutes, not with an empty window.
    for (const s of this.stats.retained()) client.pending.seconds.set(s.t, s);
    return client;
  }

  remove(client: Client): void {
    this.clients.delete(client);
  }

  setFilter(client: Client, filter: LiveClientFilter): void {
    client.filter = filter;
    client.pending.flows = [];
    client.pending.flowsDropped = 0;
  }

  publishHostSecond: SecondStats['addHostSecond'] = (agentId, hs) => this.stats.addHostSecond(agentId, hs);

  publishFlows(flows: readonly StoredFlow[]): void {
    const byAgent = new Map<string, number[]>();
    for (const f of flows) {
      let list = byAgent.get(f.agentId);
      if (!list) byAgent.set(f.agentId, (list = []));
      list.push(f.firstSeenMs);
    }
    for (const [agent, times] of byAgent) this.stats.addFlows(agent, times);
    const cap = this.opts.maxFlowsPerTick;
    for (const c of this.clients) {
      if (!c.filter.flows) continue;
      const p = c.pending;
      // Newest first, converting only what will be sent: the rest is only counted.
      const picked: FlowRow[] = [];
      let skipped = 0;
      for (let i = flows.length - 1; i >= 0; i--) {
        const f = flows[i]!;
        if (c.filter.predicate && !c.filter.predicate(f)) continue;
        if (picked.length < cap) picked.push(toApiFlow(f));
        else skipped++;
      }
      picked.reverse();
      p.flows.push(...picked);
      const excess = p.flows.length - cap;
      if (excess > 0) p.flows.splice(0, excess);
      const dropped = skipped + Math.max(0, excess);
      if (dropped > 0) {
        p.flowsDropped += dropped;
        this.opts.onCoalesced(dropped);
      }
    }
  }

  publishAlerts(alerts: readonly AlertRow[]): void {
    for (const c of this.clients) {
      c.pending.alerts.push(...alerts);
      const excess = c.pending.alerts.length - this.opts.maxAlertsPending;
      if (excess > 0) c.pending.alerts.splice(0, excess);
    }
  }

  publishAgents(agents: unknown[]): void {
    this.agents = agents;
    for (const c of this.clients) c.pending.agents = agents;
  }

  /** One round of sends; exposed for tests. */
  tick(): void {
    const seconds = this.stats.takeChanged();
    for (const c of this.clients) {
      const p = c.pending;
      for (const s of seconds) p.seconds.set(s.t, s);
      // Keep the latest five minutes of stats (a live chart's window) for a client that cannot keep up.
      if (p.seconds.size > MAX_PENDING_SECONDS) {
        const keys = [...p.seconds.keys()].sort((a, b) => a - b);
        for (const k of keys.slice(0, keys.length - MAX_PENDING_SECONDS)) p.seconds.delete(k);
        this.opts.onCoalesced(keys.length - MAX_PENDING_SECONDS);
      }
      if (c.socket.bufferedAmount > this.opts.maxBufferedBytes) continue;
      this.flush(c);
    }
  }

  private flush(c: Client): void {
    const p = c.pending;
    try {
      if (p.seconds.size > 0) c.socket.send(JSON.stringify({ type: 'stats', seconds: [...p.seconds.values()].sort((a, b) => a.t - b.t) }));
      if (p.flows.length > 0 || p.flowsDropped > 0) c.socket.send(JSON.stringify({ type: 'flows', flows: p.flows, dropped: p.flowsDropped }));
      if (p.alerts.length > 0) c.socket.send(JSON.stringify({ type: 'alerts', alerts: p.alerts }));
      if (p.agents) c.socket.send(JSON.stringify({ type: 'agents', agents: p.agents }));
    } catch {
      // A socket that fails to send is closing; its close handler removes the client.
    }
    c.pending = emptyPending();
  }
}
