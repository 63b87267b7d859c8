/**
 * State every view shares: the one live connection, and the set of known-bad addresses
 * that puts a red mark beside an address wherever it is shown.
 */
import { createContext, useContext, useEffect, useMemo, useSyncExternalStore, type ReactNode } from 'react';
import { api } from './api.js';
import { LiveConnection, type LiveSnapshot } from './live.js';
import { collectBadAddresses } from './transforms.js';
import type { Alert, Flow } from './api-types.js';

export class BadAddressStore {
  private readonly reasons = new Map<string, string>();
  private readonly listeners = new Set<() => void>();
  private version = 0;

  add(alerts: readonly Alert[], flows: readonly Flow[]): void {
    const before = this.reasons.size;
    collectBadAddresses(alerts, flows, this.reasons);
    if (this.reasons.size !== before) {
      this.version++;
      for (const l of this.listeners) l();
    }
  }
  reason(addr: string): string | undefined {
    return this.reasons.get(addr);
  }
  get size(): number {
    return this.reasons.size;
  }
  entries(): [string, string][] {
    return [...this.reasons.entries()];
  }
  subscribe = (l: () => void): (() => void) => {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  };
  getVersion = (): number => this.version;
}

interface ConsoleState {
  live: LiveConnection;
  bad: BadAddressStore;
}

const Ctx = createContext<ConsoleState | null>(null);

export function ConsoleProvider({ children }: { children: ReactNode }) {
  const state = useMemo<ConsoleState>(() => ({ live: new LiveConnection(), bad: new BadAddressStore() }), []);
  useEffect(() => {
    state.live.start();
    return () => state.live.stop();
  }, [state]);
  useEffect(() => {
    // Known-bad addresses of the last week; refreshed, and fed by live alerts in between.
    let stopped = false;
    const load = async () => {
      try {
        const [intel, malicious] = await Promise.all([
          api.alerts({ kind: 'threat_intel', from: '-7d', limit: 5000 }),
          api.alerts({ level: 'malicious', from: '-7d', limit: 5000 }),
        ]);
        if (!stopped) state.bad.add([...intel.alerts, ...malicious.alerts], []);
      } catch {
        // The views show the collector's state themselves; marks simply wait for the next round.
      }
    };
    void load();
    const id = setInterval(load, 60_000);
    const unsubscribe = state.live.subscribe(() => {
      const s = state.live.getSnapshot();
      state.bad.add(s.alerts, []);
    });
    return () => {
      stopped = true;
      clearInterval(id);
      unsubscribe();
    };
  }, [state]);
  return <Ctx.Provider value={state}>{children}</Ctx.Provider>;
}

function useConsole(): ConsoleState {
  const s = useContext(Ctx);
  if (!s) throw new Error('ConsoleProvider missing');
  return s;
}

export function useLive(): LiveSnapshot {
  const { live } = useConsole();
  return useSyncExternalStore(live.subscribe, live.getSnapshot, live.getSnapshot);
}

export function useLiveConnection(): LiveConnection {
  return useConsole().live;
}

export function useBadAddresses(): BadAddressStore {
  const { bad } = useConsole();
  useSyncExternalStore(bad.subscribe, bad.getVersion, bad.getVersion);
  return bad;
}
