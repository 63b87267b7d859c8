/**
 * Pure batching: collects items, serialises each once as it arrives (so the batch size in
 * bytes is known without re-encoding), and seals a message when it reaches maxItems or
 * about maxBytes of JSON. No I/O, no timers: the publisher decides when to seal on time.
 */
import { FlowBatch, FlowRecord, HostSecond, HostStatsBatch, WIRE_VERSION, flowSubject, hostStatsSubject } from '@nta/shared';
import type { z } from 'zod';

export type BatchKind = 'flows' | 'hoststats';

/** One message ready for JetStream. `items` is how many flows (or host seconds) it carries. */
export interface EncodedBatch {
  kind: BatchKind;
  subject: string;
  msgId: string;
  payload: Uint8Array;
  items: number;
}

export interface BatcherIdentity {
  agentId: string;
  hostname: string;
  /** Names this agent run; `${agentId}.${runId}.${seq}` is the JetStream message id. */
  runId: string;
}

export interface BatcherLimits {
  maxItems: number;
  /** Soft limit: a batch is sealed before the item that would take it past this many JSON bytes. */
  maxBytes: number;
  /** Parse every sealed batch with the shared zod schema (dev and tests). */
  validate: boolean;
}

/** Items that failed validation (they are left out of the batch), with the reason. */
export type InvalidItemsHandler = (kind: BatchKind, count: number, reason: string) => void;

interface Spec<T> {
  kind: BatchKind;
  itemsKey: 'flows' | 'seconds';
  subject: string;
  msgIdPrefix: string;
  batchSchema: z.ZodType;
  itemSchema: z.ZodType<T>;
  envelope: (seq: number) => Record<string, unknown>;
}

export class JsonBatcher<T> {
  readonly #spec: Spec<T>;
  readonly #limits: BatcherLimits;
  readonly #emit: (batch: EncodedBatch) => void;
  readonly #onInvalid: InvalidItemsHandler;
  #items: T[] = [];
  #json: string[] = [];
  #bytes = 0;
  #seq = 0;

  constructor(spec: Spec<T>, limits: BatcherLimits, emit: (batch: EncodedBatch) => void, onInvalid: InvalidItemsHandler) {
    this.#spec = spec;
    this.#limits = limits;
    this.#emit = emit;
    this.#onInvalid = onInvalid;
  }

  get pendingItems(): number {
    return this.#items.length;
  }

  /** The seq the next sealed batch gets. */
  get nextSeq(): number {
    return this.#seq;
  }

  add(item: T): void {
    const json = JSON.stringify(item);
    if (this.#items.length > 0 && this.#bytes + json.length + 1 > this.#limits.maxBytes) this.seal();
    this.#items.push(item);
    this.#json.push(json);
    this.#bytes += json.length + 1;
    if (this.#items.length >= this.#limits.maxItems) this.seal();
  }

  /** Emits what has been collected as one batch (nothing when empty). */
  seal(): void {
    if (this.#items.length === 0) return;
    let items = this.#items;
    let json = this.#json;
    this.#items = [];
    this.#json = [];
    this.#bytes = 0;
    const seq = this.#seq++;
    const envelope = this.#spec.envelope(seq);
    if (this.#limits.validate) {
      const checked = this.#validate(envelope, items, json);
      if (!checked) return;
      ({ items, json } = checked);
    }
    const head = JSON.stringify(envelope);
    const text = `${head.slice(0, -1)},"${this.#spec.itemsKey}":[${json.join(',')}]}`;
    this.#emit({
      kind: this.#spec.kind,
      subject: this.#spec.subject,
      msgId: `${this.#spec.msgIdPrefix}${seq}`,
      payload: Buffer.from(text, 'utf8'),
      items: items.length,
    });
  }

  /** Parses the whole batch; on failure leaves out the items that are themselves invalid. */
  #validate(envelope: Record<string, unknown>, items: T[], json: string[]): { items: T[]; json: string[] } | undefined {
    const whole = this.#spec.batchSchema.safeParse({ ...envelope, [this.#spec.itemsKey]: items });
    if (whole.success) return { items, json };
    const keep: number[] = [];
    let reason = '';
    items.forEach((item, i) => {
      const r = this.#spec.itemSchema.safeParse(item);
      if (r.success) keep.push(i);
      else if (!reason) reason = describe(r.error);
    });
    if (keep.length === items.length) {
      // Every item is fine, so the envelope is wrong: a programming error, drop the lot loudly.
      this.#onInvalid(this.#spec.kind, items.length, `batch envelope invalid: ${describe(whole.error)}`);
      return undefined;
    }
    this.#onInvalid(this.#spec.kind, items.length - keep.length, reason);
    if (keep.length === 0) return undefined;
    return { items: keep.map((i) => items[i]), json: keep.map((i) => json[i]) };
  }
}

function describe(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
    .join('; ');
}

export function flowBatcher(
  id: BatcherIdentity,
  limits: BatcherLimits,
  now: () => number,
  emit: (batch: EncodedBatch) => void,
  onInvalid: InvalidItemsHandler,
): JsonBatcher<FlowRecord> {
  const spec: Spec<FlowRecord> = {
    kind: 'flows',
    itemsKey: 'flows',
    subject: flowSubject(id.agentId),
    msgIdPrefix: `${id.agentId}.${id.runId}.`,
    batchSchema: FlowBatch,
    itemSchema: FlowRecord,
    envelope: (seq) => ({ v: WIRE_VERSION, agentId: id.agentId, hostname: id.hostname, runId: id.runId, seq, sentAtMs: now() }),
  };
  return new JsonBatcher(spec, limits, emit, onInvalid);
}

export function hostStatsBatcher(
  id: BatcherIdentity,
  limits: BatcherLimits,
  emit: (batch: EncodedBatch) => void,
  onInvalid: InvalidItemsHandler,
): JsonBatcher<HostSecond> {
  const spec: Spec<HostSecond> = {
    kind: 'hoststats',
    itemsKey: 'seconds',
    subject: hostStatsSubject(id.agentId),
    msgIdPrefix: `${id.agentId}.${id.runId}.h`,
    batchSchema: HostStatsBatch,
    itemSchema: HostSecond,
    envelope: () => ({ v: WIRE_VERSION, agentId: id.agentId, hostname: id.hostname }),
  };
  return new JsonBatcher(spec, limits, emit, onInvalid);
}
