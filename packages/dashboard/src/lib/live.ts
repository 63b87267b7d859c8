/**
 * The live connection (WebSocket /api/v1/live): reconnects with backoff, keeps the last
 * five minutes of per-second statistics, the newest flows matching the subscribed filter,
 * new alerts and the agent list, and tells React at most a few times a second.
 */
import { reconnectDelayMs } from './backoff.js';
import { NewestFirst } from './ring.js';
import type { Agent, Alert, Flow, LiveMessage, LiveSecond } from './api-types.js';

export type LiveStatus = 'connecting' | 'open' | 'reconnecting' | 'offline';

export interface LiveSnapshot {
  status: LiveStatus;
  attempt: number;
  /** When the next reconnect is due (epoch ms), while reconnecting. */
  retryAtMs: number | null;
  lastError: string | null;
  /** Filter error from the server for the subscribed query. */
  filterError: { message: string; position?: number } | null;
  seconds: readonly LiveSecond[];
  flows: readonly Flow[];
  flowsReceived: number;
  flowsDropped: number;
  alerts: readonly Alert[];
  agents: readonly Agent[] | null;
  lastMessageMs: number | null;
}

const KEEP_SECONDS = 300;
export const LIVE_FLOW_CAPACITY = 10_000;
const NOTIFY_EVERY_MS = 250;
const STABLE_AFTER_MS = 5_000;

export class LiveConnection {
  private ws: WebSocket | null = null;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private notifyTimer: ReturnType<typeof setTimeout> | undefined;
  private stableTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly listeners = new Set<() => void>();
  private readonly secondsByT = new Map<number, LiveSecond>();
  private readonly flowRing = new NewestFirst<Flow>(LIVE_FLOW_CAPACITY);
  private readonly alertRing = new NewestFirst<Alert>(200);
  private q = '';
  private wantFlows = false;
  private stopped = false;
  private snap: LiveSnapshot = {
    status: 'connecting',
    attempt: 0,
    retryAtMs: null,
    lastError: null,
    filterError: null,
    seconds: [],
    flows: [],
    flowsReceived: 0,
    flowsDropped: 0,
    alerts: [],
    agents: null,
    lastMessageMs: null,
  };

  constructor(private readonly url: () => string = defaultUrl) {}

  start(): void {
    this.stopped = false;
    this.open();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    clearTimeout(this.stableTimer);
    this.ws?.close(1000, 'console closed');
    this.ws = null;
  }

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  getSnapshot = (): LiveSnapshot => this.snap;

  /** Changes the flow filter; flows already held are cleared because they matched the old one. */
  setFilter(q: string, wantFlows: boolean): void {
    if (q === this.q && wantFlows === this.wantFlows) return;
    this.q = q;
    this.wantFlows = wantFlows;
    this.flowRing.clear();
    this.update({ flows: [], flowsReceived: 0, flowsDropped: 0, filterError: null }, true);
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify({ type: 'subscribe', q, flows: wantFlows }));
  }

  private open(): void {
    let ws: WebSocket;
    try {
      ws = new WebSocket(this.url());
    } catch (err) {
      this.scheduleRetry((err as Error).message);
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      ws.send(JSON.stringify({ type: 'subscribe', q: this.q, flows: this.wantFlows }));
      this.update({ status: 'open', retryAtMs: null, lastError: null }, true);
      // The backoff starts over only once a connection has held: a server that accepts and at
      // once drops connections is retried ever more slowly, not twice a second.
      clearTimeout(this.stableTimer);
      this.stableTimer = setTimeout(() => {
        if (this.ws === ws) this.update({ attempt: 0 }, true);
      }, STABLE_AFTER_MS);
    };
    ws.onmessage = (ev) => this.onMessage(ev.data);
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      this.ws = null;
      if (!this.stopped) this.scheduleRetry(ev.reason || (ev.code === 1006 ? 'connection lost' : `closed (${ev.code})`));
    };
    ws.onerror = () => {
      // onclose follows and schedules the retry.
    };
  }

  private scheduleRetry(reason: string): void {
    const attempt = this.snap.attempt + 1;
    const delay = reconnectDelayMs(attempt - 1);
    this.update({ status: navigator.onLine === false ? 'offline' : 'reconnecting', attempt, retryAtMs: Date.now() + delay, lastError: reason }, true);
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      if (this.stopped) return;
      this.update({ status: 'connecting' }, true);
      this.open();
    }, delay);
  }

  /** Reconnect now (the user clicked "retry"). */
  retryNow(): void {
    if (this.ws) return;
    clearTimeout(this.retryTimer);
    this.update({ status: 'connecting' }, true);
    this.open();
  }

  private onMessage(data: unknown): void {
    if (typeof data !== 'string') return;
    let msg: LiveMessage;
    try {
      msg = JSON.parse(data) as LiveMessage;
    } catch {
      return;
    }
    const patch: Partial<LiveSnapshot> = { lastMessageMs: Date.now() };
    switch (msg.type) {
      case 'stats': {
        for (const s of msg.seconds) this.secondsByT.set(s.t, s);
        if (this.secondsByT.size > KEEP_SECONDS) {
          const keys = [...this.secondsByT.keys()].sort((a, b) => a - b);
          for (const k of keys.slice(0, keys.length - KEEP_SECONDS)) this.secondsByT.delete(k);
        }
        patch.seconds = [...this.secondsByT.values()].sort((a, b) => a.t - b.t);
        break;
      }
      case 'flows':
        this.flowRing.pushAll(msg.flows);
        patch.flows = this.flowRing.list;
        patch.flowsReceived = this.snap.flowsReceived + msg.flows.length;
        patch.flowsDropped = this.snap.flowsDropped + (msg.dropped ?? 0);
        break;
      case 'alerts':
        this.alertRing.pushAll(msg.alerts);
        patch.alerts = this.alertRing.list;
        break;
      case 'agents':
        patch.agents = msg.agents;
        break;
      case 'error':
        if (msg.field === 'q') patch.filterError = { message: msg.message, position: msg.position };
        else patch.lastError = msg.message;
        break;
      case 'subscribed':
        patch.filterError = null;
        break;
      default:
        break;
    }
    this.update(patch, false);
  }

  private update(patch: Partial<LiveSnapshot>, now: boolean): void {
    this.snap = { ...this.snap, ...patch };
    if (now) {
      clearTimeout(this.notifyTimer);
      this.notifyTimer = undefined;
      this.notify();
    } else if (!this.notifyTimer) {
      // Messages arrive in bursts once a second: one render per burst.
      this.notifyTimer = setTimeout(() => {
        this.notifyTimer = undefined;
        this.notify();
      }, NOTIFY_EVERY_MS);
    }
  }

  private notify(): void {
    for (const l of this.listeners) l();
  }
}

function defaultUrl(): string {
  const proto = window.location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${proto}//${window.location.host}/api/v1/live?flows=0`;
}
