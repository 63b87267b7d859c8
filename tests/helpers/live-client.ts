/**
 * A WebSocket client for the collector's live stream (/api/v1/live), for tests that act as a
 * console. It records every server message (parsed) and lets a test wait for the one it
 * expects, or pause reading altogether to play a slow client.
 *
 * Node 20 has no global WebSocket and `ws` is not a root dependency, so the `ws` that
 * @fastify/websocket itself depends on is loaded, resolved from the collector package.
 */
import { createRequire } from 'node:module';

/** The part of the `ws` client this helper uses (the package ships no types here). */
interface WsSocket {
  readonly readyState: number;
  send(data: string | Buffer, options?: { binary?: boolean }): void;
  close(code?: number, reason?: string): void;
  terminate(): void;
  pause(): void;
  resume(): void;
  on(event: 'open', listener: () => void): this;
  on(event: 'message', listener: (data: Buffer, isBinary: boolean) => void): this;
  on(event: 'close', listener: (code: number, reason: Buffer) => void): this;
  on(event: 'error', listener: (err: Error) => void): this;
}
type WsConstructor = new (url: string, options?: { maxPayload?: number; perMessageDeflate?: boolean }) => WsSocket;

const requireFromCollector = createRequire(new URL('../../packages/collector/package.json', import.meta.url));
const requireFromPlugin = createRequire(requireFromCollector.resolve('@fastify/websocket'));
const WebSocket = requireFromPlugin('ws') as WsConstructor;

const OPEN = 1;

/** A flow as the live stream sends it (the REST flow shape; only what tests read is typed). */
export interface LiveFlow {
  flowId: string;
  agentId: string;
  proto: string;
  dport: number;
  level: string;
  [field: string]: unknown;
}

export interface LiveCounters {
  packets: number;
  bytes: number;
  flows: number;
  protocols: Record<'tcp' | 'udp' | 'icmp' | 'other', { packets: number; bytes: number }>;
}

export interface LiveSecond {
  t: number;
  fleet: LiveCounters & { topTalkers: { addr: string; packets: number; bytes: number }[] };
  hosts: Record<string, LiveCounters>;
}

export interface LiveAlert {
  id: number;
  kind: string;
  level: string;
  agentId: string;
  subject: string;
  target: string | null;
  acknowledgedAt: string | null;
  [field: string]: unknown;
}

export interface LiveAgent {
  agentId: string;
  hostname: string;
  status: string;
  [field: string]: unknown;
}

export type LiveMessage =
  | { type: 'hello'; serverTimeMs: number; q: string }
  | { type: 'subscribed'; q: string }
  | { type: 'error'; message: string; field?: string; position?: number }
  | { type: 'stats'; seconds: LiveSecond[] }
  | { type: 'flows'; flows: LiveFlow[]; dropped: number }
  | { type: 'alerts'; alerts: LiveAlert[] }
  | { type: 'agents'; agents: LiveAgent[] };

export type LiveMessageOf<T extends LiveMessage['type']> = Extract<LiveMessage, { type: T }>;

interface Waiter {
  test(m: LiveMessage, index: number): boolean;
  resolve(index: number): void;
  reject(err: Error): void;
}

export interface Closed {
  code: number;
  reason: string;
}

export class LiveClient {
  /** Every message received so far, in order. */
  readonly messages: LiveMessage[] = [];
  /** Resolves when the connection has closed, with the close code. */
  readonly closed: Promise<Closed>;
  /** Text frames that were not JSON (the server should never send one). */
  unparseable = 0;
  private readonly waiters = new Set<Waiter>();
  private closedWith: Closed | undefined;

  private constructor(private readonly socket: WsSocket) {
    socket.on('message', (data, isBinary) => this.receive(data, isBinary));
    this.closed = new Promise<Closed>((resolve) => {
      socket.on('close', (code, reason) => {
        this.closedWith = { code, reason: reason.toString('utf8') };
        for (const w of this.waiters) w.reject(new Error(`live socket closed (${code} ${this.closedWith.reason}) while waiting`));
        this.waiters.clear();
        resolve(this.closedWith);
      });
    });
    // Errors end in 'close'; without a listener they would be thrown.
    socket.on('error', () => {});
  }

  /** Connects and resolves once the socket is open (the server's hello may still be on its way). */
  static open(url: string): Promise<LiveClient> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url, { maxPayload: 64 * 1024 * 1024 });
      const client = new LiveClient(socket);
      socket.on('open', () => resolve(client));
      socket.on('error', reject);
    });
  }

  get isOpen(): boolean {
    return this.socket.readyState === OPEN;
  }

  send(data: string | Buffer, options?: { binary?: boolean }): void {
    this.socket.send(data, options);
  }

  sendJson(value: unknown): void {
    this.socket.send(JSON.stringify(value));
  }

  /** Stops reading from the connection: the server's data piles up in the socket buffers. */
  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  /** Messages of one type, from `fromIndex` on. */
  all<T extends LiveMessage['type']>(type: T, fromIndex = 0): LiveMessageOf<T>[] {
    return this.messages.slice(fromIndex).filter((m): m is LiveMessageOf<T> => m.type === type);
  }

  /** Every flow received in `flows` messages from `fromIndex` on. */
  flows(fromIndex = 0): LiveFlow[] {
    return this.all('flows', fromIndex).flatMap((m) => m.flows);
  }

  /**
   * The first message of `type` at or after `fromIndex` that satisfies `test`, waiting for it
   * if it has not arrived; rejects after `timeoutMs` or when the socket closes first.
   */
  async next<T extends LiveMessage['type']>(
    type: T,
    test: (m: LiveMessageOf<T>) => boolean = () => true,
    fromIndex = 0,
    timeoutMs = 30_000,
  ): Promise<LiveMessageOf<T>> {
    const index = await this.until((m) => m.type === type && test(m as LiveMessageOf<T>), fromIndex, timeoutMs, `a "${type}" message`);
    return this.messages[index] as LiveMessageOf<T>;
  }

  /** Waits until `done()` holds, re-checking after every message. */
  async until(test: (m: LiveMessage, index: number) => boolean, fromIndex: number, timeoutMs: number, what: string): Promise<number> {
    for (let i = fromIndex; i < this.messages.length; i++) if (test(this.messages[i]!, i)) return i;
    if (this.closedWith) throw new Error(`live socket closed (${this.closedWith.code}) before ${what} arrived`);
    return new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what} (${this.messages.length} messages received)`));
      }, timeoutMs);
      const waiter: Waiter = {
        test,
        resolve: (index) => {
          clearTimeout(timer);
          resolve(index);
        },
        reject: (err) => {
          clearTimeout(timer);
          reject(err);
        },
      };
      this.waiters.add(waiter);
    });
  }

  /** Waits until some condition over everything received holds (checked after each message). */
  async untilState(done: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
    if (done()) return;
    await this.until(() => done(), this.messages.length, timeoutMs, what);
  }

  /** Closes politely and waits for the close handshake (or cuts the connection if it stalls). */
  async close(): Promise<Closed> {
    if (this.closedWith) return this.closedWith;
    this.socket.close(1000, 'test done');
    const timer = setTimeout(() => this.socket.terminate(), 2_000);
    const closed = await this.closed;
    clearTimeout(timer);
    return closed;
  }

  private receive(data: Buffer, isBinary: boolean): void {
    let message: LiveMessage;
    try {
      if (isBinary) throw new Error('binary');
      message = JSON.parse(data.toString('utf8')) as LiveMessage;
    } catch {
      this.unparseable++;
      return;
    }
    const index = this.messages.push(message) - 1;
    for (const w of this.waiters) {
      if (w.test(message, index)) {
        this.waiters.delete(w);
        w.resolve(index);
      }
    }
  }
}

/** The live stream URL of a collector at `baseUrl` (http://…), with an optional filter. */
export function liveUrl(baseUrl: string, q?: string, extra = ''): string {
  const query = [q === undefined ? '' : `q=${encodeURIComponent(q)}`, extra].filter(Boolean).join('&');
  return `${baseUrl.replace(/^http/, 'ws')}/api/v1/live${query ? `?${query}` : ''}`;
}
