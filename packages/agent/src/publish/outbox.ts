/**
 * The ordered path of sealed batches to JetStream: a bounded memory queue, at most
 * `maxInFlight` unacknowledged publishes, and the on-disk spool. It knows nothing of NATS
 * beyond a `publish` function that resolves with the ack.
 *
 * Invariant: while the spool holds anything, every unacknowledged batch is in it. So when a
 * publish fails or times out, the connection drops (`setReady(false)`), or the memory queue
 * outgrows its bound, every unacknowledged batch goes to the spool in order, and new batches
 * follow it there; the spool is replayed in order (pipelined, from the oldest record again
 * after each failure, with a backoff) until it is empty, then batches go straight out again.
 * A late ack for a spooled batch removes it from the spool. Replays carry the original
 * message id, so JetStream drops one whose first attempt was stored after all.
 */
import { ErrorCode, NtaError } from '@nta/shared';
import type { BatchKind, EncodedBatch } from './batcher.js';
import type { LogLimiter } from './log-limiter.js';
import type { Spool } from './spool.js';

export interface OutboxOptions {
  spool: Spool;
  maxInFlight: number;
  /** Sealed batches waiting in memory beyond this spill to the spool. */
  maxQueuedBytes: number;
  publish: (batch: EncodedBatch) => Promise<{ duplicate: boolean }>;
  limiter: LogLimiter;
  /** Told about each failure, for a "last error" in stats. */
  onError: (message: string) => void;
}

export interface OutboxStats {
  publishedBatches: number;
  publishedFlows: number;
  publishedHostSeconds: number;
  /** Acks that said "duplicate": an earlier attempt had been stored. */
  duplicateAcks: number;
  publishFailures: number;
  /** Flows lost because the spool could not be written, or sealed after close (spool-full drops are counted by the spool). */
  lostFlows: number;
  /** Flows in memory: queued, or in flight and not (yet) in the spool. */
  pendingFlows: number;
  inFlight: number;
}

interface OutMsg extends EncodedBatch {
  /** Order of sealing; flush() waits on it. */
  ticket: number;
  /** 0 while only in memory; -1 when the spool refused it. */
  spoolSeq: number;
}

interface Waiter {
  ticket: number;
  resolve: () => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout | undefined;
}

const MAX_BACKOFF_MS = 5000;

export class Outbox {
  readonly #o: OutboxOptions;
  readonly #spool: Spool;
  #ready = false;
  #closed = false;
  #nextTicket = 1;
  #queued: OutMsg[] = [];
  #queuedBytes = 0;
  #inflight = new Map<number, OutMsg>(); // by ticket
  #replaying = new Set<number>(); // spool seqs in flight
  #spoolTickets = new Map<number, number>(); // spool seq -> ticket, in seq order
  #cursor = 0; // last spool seq sent in this replay pass
  #resumeAt = 0;
  #failStreak = 0;
  #resumeTimer: NodeJS.Timeout | undefined;
  #waiters: Waiter[] = [];
  #drainWaiters: (() => void)[] = [];
  #s = { publishedBatches: 0, publishedFlows: 0, publishedHostSeconds: 0, duplicateAcks: 0, publishFailures: 0, lostFlows: 0 };

  constructor(opts: OutboxOptions) {
    this.#o = opts;
    this.#spool = opts.spool;
    // Records a previous run left come first.
    for (const seq of this.#spool.seqs()) this.#spoolTickets.set(seq, this.#nextTicket++);
  }

  get ready(): boolean {
    return this.#ready;
  }

  /** True: publish (replaying the spool first). False: spool everything unacknowledged and wait. */
  setReady(ready: boolean): void {
    if (this.#closed) return;
    this.#ready = ready;
    if (ready) {
      this.#resumeAt = 0;
      this.#pump();
    } else {
      this.#spill();
      this.#checkDrain();
    }
  }

  enqueue(b: EncodedBatch): void {
    if (this.#closed) {
      if (b.kind === 'flows') this.#s.lostFlows += b.items;
      return;
    }
    const msg: OutMsg = { ...b, ticket: this.#nextTicket++, spoolSeq: 0 };
    if (this.#spool.size > 0 || !this.#ready) {
      this.#spill();
      this.#toSpool(msg);
    } else {
      this.#queued.push(msg);
      this.#queuedBytes += msg.payload.length;
      if (this.#queuedBytes > this.#o.maxQueuedBytes) this.#spill();
    }
    this.#pump();
  }

  /** Resolves when every batch enqueued so far is acknowledged (or dropped and counted). */
  flush(timeoutMs?: number): Promise<void> {
    const ticket = this.#nextTicket - 1;
    if (this.#settledUpTo(ticket)) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const w: Waiter = { ticket, resolve, reject, timer: undefined };
      if (timeoutMs !== undefined) {
        w.timer = setTimeout(() => {
          this.#waiters = this.#waiters.filter((x) => x !== w);
          reject(new NtaError(ErrorCode.PUBLISH, `flush timed out after ${timeoutMs} ms`));
        }, timeoutMs);
      }
      this.#waiters.push(w);
    });
  }

  /**
   * Resolves at once while there is room, otherwise when there is again. Room: the memory
   * queue is under half its bound; or, while the spool is replayed, the spool is empty again
   * (so batches go straight out, not through the disk); or, while NATS is unreachable, the
   * spool is under half its bound (so nothing is dropped).
   */
  drain(): Promise<void> {
    if (this.#hasRoom()) return Promise.resolve();
    return new Promise<void>((resolve) => this.#drainWaiters.push(resolve));
  }

  /** Stops publishing, moves everything unacknowledged to the spool, ends waiters. */
  close(): void {
    if (this.#closed) return;
    this.#spill();
    this.#closed = true;
    this.#ready = false;
    if (this.#resumeTimer) clearTimeout(this.#resumeTimer);
    for (const w of this.#waiters.splice(0)) {
      if (w.timer) clearTimeout(w.timer);
      w.reject(new NtaError(ErrorCode.PUBLISH, 'publisher closed'));
    }
    for (const resolve of this.#drainWaiters.splice(0)) resolve();
  }

  stats(): OutboxStats {
    let pendingFlows = 0;
    for (const m of this.#queued) if (m.kind === 'flows') pendingFlows += m.items;
    for (const m of this.#inflight.values()) if (m.kind === 'flows' && m.spoolSeq === 0) pendingFlows += m.items;
    return { ...this.#s, pendingFlows, inFlight: this.#inflight.size };
  }

  // ---- moving batches ----

  /** Moves every unacknowledged batch held only in memory to the spool, oldest first. */
  #spill(): void {
    const inflight = [...this.#inflight.values()].filter((m) => m.spoolSeq === 0).sort((a, b) => a.ticket - b.ticket);
    for (const m of inflight) {
      this.#toSpool(m);
      if (m.spoolSeq > 0) this.#replaying.add(m.spoolSeq); // still in flight: the replay skips it until it settles
    }
    const queued = this.#queued;
    this.#queued = [];
    this.#queuedBytes = 0;
    for (const m of queued) this.#toSpool(m);
  }

  #toSpool(m: OutMsg): void {
    try {
      const seq = this.#spool.append(m);
      m.spoolSeq = seq > 0 ? seq : -1; // -1: larger than the spool, dropped and counted there
      if (seq > 0) this.#spoolTickets.set(seq, m.ticket);
    } catch (err) {
      m.spoolSeq = -1;
      if (m.kind === 'flows') this.#s.lostFlows += m.items;
      this.#o.onError(`spool: ${(err as Error).message}`);
      this.#o.limiter.log('error', 'spool-write', { err, items: m.items }, 'cannot write to the spool: batch lost');
    }
    this.#settle();
  }

  #pump(): void {
    if (!this.#ready || this.#closed) return;
    if (this.#spool.size === 0) {
      while (this.#inflight.size < this.#o.maxInFlight && this.#queued.length > 0) {
        const m = this.#queued.shift() as OutMsg;
        this.#queuedBytes -= m.payload.length;
        this.#send(m);
      }
      this.#checkDrain();
      return;
    }
    const wait = this.#resumeAt - Date.now();
    if (wait > 0) {
      this.#resumeTimer ??= setTimeout(() => {
        this.#resumeTimer = undefined;
        this.#pump();
      }, wait).unref();
      return;
    }
    while (this.#inflight.size < this.#o.maxInFlight) {
      const seq = this.#spool.nextAfter(this.#cursor);
      if (seq === undefined) break;
      this.#cursor = seq;
      if (this.#replaying.has(seq)) continue;
      const e = this.#spool.read(seq);
      if (!e) {
        this.#settle(); // damaged: removed and counted by the spool
        continue;
      }
      const ticket = this.#spoolTickets.get(seq) ?? this.#nextTicket++;
      const kind: BatchKind = e.subject.includes('.hoststats.') ? 'hoststats' : 'flows';
      this.#replaying.add(seq);
      this.#send({ kind, subject: e.subject, msgId: e.msgId, payload: e.payload, items: e.items, ticket, spoolSeq: seq });
    }
  }

  #send(m: OutMsg): void {
    this.#inflight.set(m.ticket, m);
    let p: Promise<{ duplicate: boolean }>;
    try {
      p = this.#o.publish(m);
    } catch (err) {
      p = Promise.reject(err);
    }
    p.then(
      (ack) => this.#onAck(m, ack.duplicate),
      (err: unknown) => this.#onFail(m, err),
    );
  }

  #onAck(m: OutMsg, duplicate: boolean): void {
    this.#inflight.delete(m.ticket);
    if (m.spoolSeq > 0) {
      this.#replaying.delete(m.spoolSeq);
      this.#spool.remove(m.spoolSeq);
      this.#spoolTickets.delete(m.spoolSeq);
    }
    this.#failStreak = 0;
    this.#s.publishedBatches++;
    if (m.kind === 'flows') this.#s.publishedFlows += m.items;
    else this.#s.publishedHostSeconds += m.items;
    if (duplicate) this.#s.duplicateAcks++;
    this.#settle();
    this.#pump();
  }

  #onFail(m: OutMsg, err: unknown): void {
    if (this.#closed) {
      this.#inflight.delete(m.ticket); // close() spooled it already
      return;
    }
    this.#s.publishFailures++;
    this.#o.onError(`publish: ${(err as Error)?.message ?? String(err)}`);
    this.#o.limiter.log('warn', 'publish', { err, subject: m.subject, msgId: m.msgId }, 'JetStream publish failed; spooling and retrying');
    if (m.spoolSeq === 0) this.#spill(); // m is still in #inflight, so it goes first
    this.#inflight.delete(m.ticket);
    if (m.spoolSeq > 0) this.#replaying.delete(m.spoolSeq);
    // Replay again from the oldest record after a backoff that grows once per failed pass
    // (not per message: a whole window of publishes fails together).
    this.#cursor = 0;
    const now = Date.now();
    if (now >= this.#resumeAt) {
      this.#failStreak++;
      this.#resumeAt = now + Math.min(MAX_BACKOFF_MS, 50 * 2 ** Math.min(this.#failStreak, 7));
    }
    this.#pump();
  }

  // ---- waiters ----

  #settledUpTo(ticket: number): boolean {
    const min = this.#minOutstanding();
    return min === undefined || min > ticket;
  }

  /** The oldest unacknowledged ticket. */
  #minOutstanding(): number | undefined {
    let min: number | undefined;
    if (this.#queued.length > 0) min = this.#queued[0].ticket;
    for (const m of this.#inflight.values()) if (m.spoolSeq <= 0 && (min === undefined || m.ticket < min)) min = m.ticket;
    // Map order is seq order; entries the spool has dropped are pruned on the way.
    for (const [seq, t] of this.#spoolTickets) {
      if (this.#spool.has(seq)) {
        if (min === undefined || t < min) min = t;
        break;
      }
      this.#spoolTickets.delete(seq);
    }
    return min;
  }

  /** After anything left the outbox: wake flush() and drain() waiters that can go. */
  #settle(): void {
    this.#checkDrain();
    if (this.#waiters.length === 0) {
      if (this.#spoolTickets.size > this.#spool.size) this.#minOutstanding(); // prune dropped entries
      return;
    }
    const min = this.#minOutstanding();
    const keep: Waiter[] = [];
    for (const w of this.#waiters) {
      if (min === undefined || min > w.ticket) {
        if (w.timer) clearTimeout(w.timer);
        w.resolve();
      } else keep.push(w);
    }
    this.#waiters = keep;
  }

  #hasRoom(): boolean {
    if (this.#closed) return true;
    if (this.#spool.size === 0) return this.#queuedBytes < this.#o.maxQueuedBytes / 2;
    return !this.#ready && this.#spool.pendingBytes < this.#spool.maxBytes / 2;
  }

  #checkDrain(): void {
    if (this.#drainWaiters.length === 0 || !this.#hasRoom()) return;
    for (const resolve of this.#drainWaiters.splice(0)) resolve();
  }
}
