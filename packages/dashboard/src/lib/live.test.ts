// @vitest-environment jsdom
/**
 * The live connection against a real WebSocket server on loopback (the `ws` package the
 * collector uses), through jsdom's WebSocket: messages fold into the snapshot, a dropped
 * connection is retried with backoff and its state shown, the filter is re-sent on reconnect.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket as ServerSocket } from 'ws';
import { reconnectDelayMs } from './backoff.js';
import { LiveConnection, type LiveSnapshot } from './live.js';

let server: WebSocketServer | undefined;
let conn: LiveConnection | undefined;
afterEach(async () => {
  conn?.stop();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
});

function until(c: LiveConnection, ok: (s: LiveSnapshot) => boolean, what: string, timeoutMs = 8000): Promise<LiveSnapshot> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`timed out waiting for ${what}; status ${c.getSnapshot().status}`));
    }, timeoutMs);
    const check = () => {
      const s = c.getSnapshot();
      if (ok(s)) {
        clearTimeout(timer);
        off();
        resolve(s);
      }
    };
    const off = c.subscribe(check);
    check();
  });
}

/** For conditions on the server's side, which do not notify the connection's listeners. */
async function poll(ok: () => boolean, what: string, timeoutMs = 8000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('LiveConnection', () => {
  it('backs off exponentially with jitter, capped at 15 s', () => {
    expect(reconnectDelayMs(0, () => 0.5)).toBe(500);
    expect(reconnectDelayMs(3, () => 0.5)).toBe(4000);
    expect(reconnectDelayMs(20, () => 0.5)).toBe(15_000);
    expect(reconnectDelayMs(1, () => 0)).toBe(750);
    expect(reconnectDelayMs(1, () => 0.999)).toBeLessThanOrEqual(1250);
  });

  it('folds stats, flows and alerts into the snapshot, reconnects after a drop and re-sends its filter', async () => {
    server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise((r) => server!.once('listening', r));
    const port = (server.address() as { port: number }).port;
    const received: unknown[] = [];
    const sockets: ServerSocket[] = [];
    server.on('connection', (ws) => {
      sockets.push(ws);
      ws.on('message', (m) => received.push(JSON.parse(String(m))));
      ws.send(JSON.stringify({ type: 'hello', serverTimeMs: Date.now(), q: '' }));
    });

    conn = new LiveConnection(() => `ws://127.0.0.1:${port}/api/v1/live`);
    conn.setFilter('proto:tcp', true);
    conn.start();
    await until(conn, (s) => s.status === 'open', 'open');
    await poll(() => received.length > 0, 'the subscribe message');
    expect(received[0]).toEqual({ type: 'subscribe', q: 'proto:tcp', flows: true });

    const pc = { tcp: { packets: 1, bytes: 60 }, udp: { packets: 0, bytes: 0 }, icmp: { packets: 0, bytes: 0 }, other: { packets: 0, bytes: 0 } };
    const sec = (t: number) => ({ t, fleet: { packets: 1, bytes: 60, flows: 1, protocols: pc, topTalkers: [] }, hosts: {} });
    sockets[0]!.send(JSON.stringify({ type: 'stats', seconds: [sec(2000), sec(1000)] }));
    sockets[0]!.send(JSON.stringify({ type: 'stats', seconds: [sec(2000), sec(3000)] }));
    sockets[0]!.send(JSON.stringify({ type: 'flows', flows: [{ flowId: 'a' }, { flowId: 'b' }], dropped: 5 }));
    sockets[0]!.send('not json at all');
    const s = await until(conn, (x) => x.seconds.length === 3 && x.flows.length === 2, 'stats and flows');
    expect(s.seconds.map((x) => x.t)).toEqual([1000, 2000, 3000]);
    // Newest first.
    expect(s.flows.map((f) => f.flowId)).toEqual(['b', 'a']);
    expect(s.flowsDropped).toBe(5);

    // The server goes away: the console says it is reconnecting and when.
    sockets[0]!.terminate();
    const down = await until(conn, (x) => x.status === 'reconnecting', 'reconnecting');
    expect(down.attempt).toBe(1);
    expect(down.retryAtMs).not.toBeNull();
    expect(down.retryAtMs! - Date.now()).toBeLessThanOrEqual(625);
    const back = await until(conn, (x) => x.status === 'open' && sockets.length === 2, 'reopened');
    // The backoff starts over only once the new connection has held for a while.
    expect(back.attempt).toBe(1);
    await until(conn, (x) => x.attempt === 0, 'backoff reset after a stable connection', 8_000);
    await poll(() => received.length >= 2, 'the filter sent again');
    expect(received[1]).toEqual({ type: 'subscribe', q: 'proto:tcp', flows: true });

    // A new filter clears flows that matched the old one and is sent at once.
    conn.setFilter('proto:udp', true);
    expect(conn.getSnapshot().flows).toEqual([]);
    await poll(() => received.length >= 3, 'the new filter');
    expect(received[2]).toEqual({ type: 'subscribe', q: 'proto:udp', flows: true });
    sockets[1]!.send(JSON.stringify({ type: 'error', message: 'not JSON' }));
    sockets[1]!.send(JSON.stringify({ type: 'error', field: 'q', message: 'unknown field', position: 3 }));
    const err = await until(conn, (x) => x.filterError !== null, 'filter error');
    expect(err.filterError).toEqual({ message: 'unknown field', position: 3 });
    // An error about something else is not blamed on the filter.
    expect(err.lastError).toBe('not JSON');
  });

  it('keeps retrying with growing delays while nothing listens', async () => {
    server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise((r) => server!.once('listening', r));
    const port = (server.address() as { port: number }).port;
    await new Promise<void>((r) => server!.close(() => r()));
    server = undefined;
    conn = new LiveConnection(() => `ws://127.0.0.1:${port}/`);
    conn.start();
    const second = await until(conn, (x) => x.status === 'reconnecting' && x.attempt === 2, 'second retry', 10_000);
    expect(second.lastError).toBeTruthy();
    expect(second.retryAtMs! - Date.now()).toBeGreaterThan(500);
  });
});
