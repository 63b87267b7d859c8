/**
 * The outbox's ordering rules, deterministically: the publish function is a queue the test
 * settles by hand (the NATS side is covered by tests/integration/agent-publish.test.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import type { EncodedBatch } from './batcher.js';
import { LogLimiter } from './log-limiter.js';
import { Outbox } from './outbox.js';
import { Spool } from './spool.js';

interface Call {
  batch: EncodedBatch;
  ack: (duplicate?: boolean) => void;
  fail: (err?: Error) => void;
}

let dir: string;
let calls: Call[];
let errors: string[];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'nta-outbox-test-'));
  calls = [];
  errors = [];
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function outbox(over: { maxInFlight?: number; maxQueuedBytes?: number; spoolMaxBytes?: number } = {}): { box: Outbox; spool: Spool } {
  const spool = new Spool({ dir, maxBytes: over.spoolMaxBytes });
  const box = new Outbox({
    spool,
    maxInFlight: over.maxInFlight ?? 2,
    maxQueuedBytes: over.maxQueuedBytes ?? 1 << 20,
    limiter: new LogLimiter(pino({ level: 'silent' })),
    onError: (m) => errors.push(m),
    publish: (batch) =>
      new Promise((resolve, reject) => {
        calls.push({ batch, ack: (duplicate = false) => resolve({ duplicate }), fail: (err = new Error('timeout')) => reject(err) });
      }),
  });
  return { box, spool };
}

const batch = (i: number, items = 10): EncodedBatch => ({
  kind: 'flows',
  subject: 'nta.v1.flows.a',
  msgId: `a.r.${i}`,
  payload: Buffer.from(`{"seq":${i}}`),
  items,
});

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));
const sent = (): string[] => calls.map((c) => c.batch.msgId);
const spooled = (spool: Spool): string[] => spool.seqs().map((s) => spool.read(s)?.msgId ?? '?');

describe('outbox', () => {
  test('outbox - not ready: batches wait in the spool, replayed in order when ready', async () => {
    const { box, spool } = outbox();
    for (let i = 0; i < 3; i++) box.enqueue(batch(i));
    expect(calls).toEqual([]);
    expect(spooled(spool)).toEqual(['a.r.0', 'a.r.1', 'a.r.2']);
    box.setReady(true);
    expect(sent()).toEqual(['a.r.0', 'a.r.1']); // maxInFlight 2
    calls[0].ack();
    await tick();
    expect(sent()).toEqual(['a.r.0', 'a.r.1', 'a.r.2']);
    calls[1].ack();
    calls[2].ack();
    await box.flush(1000);
    expect(spool.size).toBe(0);
    expect(box.stats()).toMatchObject({ publishedBatches: 3, publishedFlows: 30, pendingFlows: 0, inFlight: 0 });
  });

  test('outbox - a failed publish moves it and everything after it to the spool, in order; new batches follow', async () => {
    const { box, spool } = outbox();
    box.setReady(true);
    for (let i = 0; i < 4; i++) box.enqueue(batch(i)); // 0,1 in flight; 2,3 queued in memory
    expect(sent()).toEqual(['a.r.0', 'a.r.1']);
    calls[1].fail();
    await tick();
    // 0 is still in flight but unacknowledged, so it is spooled too, ahead of the rest.
    expect(spooled(spool)).toEqual(['a.r.0', 'a.r.1', 'a.r.2', 'a.r.3']);
    box.enqueue(batch(4));
    expect(spooled(spool)).toEqual(['a.r.0', 'a.r.1', 'a.r.2', 'a.r.3', 'a.r.4']);
    expect(errors[0]).toMatch(/publish: timeout/);

    calls[0].ack(); // the late ack removes its spool record
    await tick();
    expect(spooled(spool)).toEqual(['a.r.1', 'a.r.2', 'a.r.3', 'a.r.4']);

    // After a short backoff the spool is replayed, oldest first, two at a time.
    const done = box.flush(5000);
    while (calls.length < 4) await new Promise((r) => setTimeout(r, 5));
    expect(sent().slice(2)).toEqual(['a.r.1', 'a.r.2']);
    for (let n = 2; spool.size > 0; n++) {
      while (calls.length <= n) await new Promise((r) => setTimeout(r, 5));
      calls[n].ack();
      await tick();
    }
    await done;
    expect(sent().slice(2)).toEqual(['a.r.1', 'a.r.2', 'a.r.3', 'a.r.4']);
  }, 10_000);

  test('outbox - replay after a failure starts over from the oldest record and keeps message ids', async () => {
    const { box, spool } = outbox({ maxInFlight: 4 });
    for (let i = 0; i < 3; i++) box.enqueue(batch(i));
    box.setReady(true);
    expect(sent()).toEqual(['a.r.0', 'a.r.1', 'a.r.2']);
    calls[1].ack();
    calls[0].fail();
    calls[2].fail();
    await tick();
    expect(spooled(spool)).toEqual(['a.r.0', 'a.r.2']);
    const done = box.flush(5000);
    for (let i = 0; i < 200 && calls.length < 5; i++) await new Promise((r) => setTimeout(r, 10));
    expect(sent().slice(3)).toEqual(['a.r.0', 'a.r.2']);
    calls[3].ack(true); // stored by the first attempt after all: JetStream says duplicate
    calls[4].ack();
    await done;
    expect(spool.size).toBe(0);
    expect(box.stats()).toMatchObject({ publishedBatches: 3, duplicateAcks: 1, publishFailures: 2 });
  });

  test('outbox - flush waits only for batches enqueued before it, and times out with NTA_ERR_PUBLISH', async () => {
    const { box } = outbox();
    box.setReady(true);
    box.enqueue(batch(0));
    const first = box.flush();
    box.enqueue(batch(1));
    calls[0].ack();
    await expect(first).resolves.toBeUndefined();
    await expect(box.flush(30)).rejects.toMatchObject({ code: 'NTA_ERR_PUBLISH' });
    calls[1].ack();
    await box.flush(1000);
  });

  test('outbox - memory queue over its bound spills to the spool; drain() waits until the spool is replayed', async () => {
    const { box, spool } = outbox({ maxInFlight: 1, maxQueuedBytes: 40 });
    box.setReady(true);
    for (let i = 0; i < 6; i++) box.enqueue(batch(i)); // 0 in flight, the queue outgrows 40 bytes
    expect(spool.size).toBeGreaterThan(0);
    let drained = false;
    const d = box.drain().then(() => (drained = true));
    for (let n = 0; n < 6; n++) {
      await tick();
      expect(drained).toBe(false);
      calls[n].ack();
      await tick();
    }
    await d;
    expect(drained).toBe(true);
    expect(sent()).toEqual(['a.r.0', 'a.r.1', 'a.r.2', 'a.r.3', 'a.r.4', 'a.r.5']);
  });

  test('outbox - close spools what is unacknowledged; a new outbox on the same spool sends it first', async () => {
    const { box } = outbox();
    box.setReady(true);
    for (let i = 0; i < 4; i++) box.enqueue(batch(i));
    calls[0].ack();
    await tick();
    box.close();
    calls[1].fail(new Error('connection closed')); // after close: ignored, already spooled
    box.enqueue(batch(9)); // after close: counted as lost
    expect(box.stats().lostFlows).toBe(10);

    calls = [];
    const next = outbox();
    expect(spooled(next.spool)).toEqual(['a.r.1', 'a.r.2', 'a.r.3']);
    next.box.enqueue(batch(100));
    next.box.setReady(true);
    expect(sent()).toEqual(['a.r.1', 'a.r.2']);
    for (let n = 0; n < 4; n++) {
      calls[n].ack();
      await tick();
    }
    await next.box.flush(1000);
    expect(sent()).toEqual(['a.r.1', 'a.r.2', 'a.r.3', 'a.r.100']);
  });
});
