/**
 * Per-second fleet and per-host counters for the live view, from the agents' host
 * statistics (packet time) and the flows stored. Keyed by second; a window of recent
 * seconds is kept and a changed second is sent again, so late reports refine a point
 * instead of being lost.
 */
import type { HostSecond } from '@nta/shared';

export interface Counters {
  packets: number;
  bytes: number;
  flows: number;
  protocols: { tcp: PB; udp: PB; icmp: PB; other: PB };
}
interface PB {
  packets: number;
  bytes: number;
}

export interface SecondSnapshot {
  t: number;
  fleet: Counters & { topTalkers: { addr: string; packets: number; bytes: number }[] };
  hosts: Record<string, Counters>;
}

const MAX_SECONDS = 300;

function emptyCounters(): Counters {
  const pb = (): PB => ({ packets: 0, bytes: 0 });
  return { packets: 0, bytes: 0, flows: 0, protocols: { tcp: pb(), udp: pb(), icmp: pb(), other: pb() } };
}

interface SecondState {
  fleet: Counters;
  hosts: Map<string, Counters>;
  talkers: Map<string, PB>;
}

export class SecondStats {
  private readonly seconds = new Map<number, SecondState>();
  private readonly changed = new Set<number>();

  private state(t: number): SecondState {
    let s = this.seconds.get(t);
    if (!s) {
      s = { fleet: emptyCounters(), hosts: new Map(), talkers: new Map() };
      this.seconds.set(t, s);
      if (this.seconds.size > MAX_SECONDS) {
        // Maps iterate in insertion order: the first key is the second that appeared earliest.
        const first = this.seconds.keys().next().value!;
        this.seconds.delete(first);
        this.changed.delete(first);
      }
    }
    this.changed.add(t);
    return s;
  }

  private host(s: SecondState, agentId: string): Counters {
    let c = s.hosts.get(agentId);
    if (!c) s.hosts.set(agentId, (c = emptyCounters()));
    return c;
  }

  addHostSecond(agentId: string, hs: HostSecond): void {
    const t = Math.floor(hs.tsMs / 1000) * 1000;
    const s = this.state(t);
    for (const c of [s.fleet, this.host(s, agentId)]) {
      c.packets += hs.packets;
      c.bytes += hs.bytes;
      for (const p of ['tcp', 'udp', 'icmp', 'other'] as const) {
        c.protocols[p].packets += hs.protocols[p].packets;
        c.protocols[p].bytes += hs.protocols[p].bytes;
      }
    }
    for (const tt of hs.topTalkers) {
      const cur = s.talkers.get(tt.addr) ?? { packets: 0, bytes: 0 };
      cur.packets += tt.packets;
      cur.bytes += tt.bytes;
      s.talkers.set(tt.addr, cur);
    }
  }

  addFlows(agentId: string, firstSeenMs: readonly number[]): void {
    for (const ms of firstSeenMs) {
      const s = this.state(Math.floor(ms / 1000) * 1000);
      s.fleet.flows++;
      this.host(s, agentId).flows++;
    }
  }

  /** The seconds that changed since the last call, oldest first. */
  takeChanged(): SecondSnapshot[] {
    const out = [...this.changed].sort((a, b) => a - b).flatMap((t) => this.snapshot(t));
    this.changed.clear();
    return out;
  }

  /** Every second still held, oldest first: what a client that just connected has missed. */
  retained(): SecondSnapshot[] {
    return [...this.seconds.keys()].sort((a, b) => a - b).flatMap((t) => this.snapshot(t));
  }

  private snapshot(t: number): SecondSnapshot[] {
    const s = this.seconds.get(t);
    if (!s) return [];
    const topTalkers = [...s.talkers]
      .map(([addr, pb]) => ({ addr, ...pb }))
      .sort((a, b) => b.bytes - a.bytes)
      .slice(0, 10);
    return [{ t, fleet: { ...structuredClone(s.fleet), topTalkers }, hosts: Object.fromEntries([...s.hosts].map(([k, v]) => [k, structuredClone(v)])) }];
  }
}
