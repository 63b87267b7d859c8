/**
 * Turns a JetStream message into a validated wire object, or a reason it was refused.
 * Pure: nothing here throws, whatever the bytes.
 */
import { FlowBatch, Heartbeat, HostStatsBatch } from '@nta/shared';
import type { z } from 'zod';
import { isFastValidFlowBatch } from './fast-flow-batch.js';

export type Decoded<T> = { ok: true; value: T } | { ok: false; reason: string };

const MAX_REASON_CHARS = 1_000;
/** One strict decoder for all messages: invalid UTF-8 is refused, not replaced. */
const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** Dec 31 9999: beyond it neither JavaScript dates nor PostgreSQL timestamps (nor partition names) work. */
export const MAX_TIME_MS = 253_402_300_799_999;

/** PostgreSQL text and jsonb refuse NUL; a hostile agent's NULs become U+FFFD instead of a failing write. */
function withoutNul<T>(v: T): T {
  if (typeof v === 'string') return (v.includes('\0') ? v.replaceAll('\0', '\uFFFD') : v) as T;
  if (Array.isArray(v)) return v.map(withoutNul) as T;
  if (v !== null && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) (v as Record<string, unknown>)[k] = withoutNul(x);
  }
  return v;
}

function parseJson(data: Uint8Array): Decoded<unknown> {
  if (data.length === 0) return { ok: false, reason: 'empty message' };
  let text: string;
  try {
    text = UTF8.decode(data);
  } catch {
    return { ok: false, reason: 'not UTF-8 text' };
  }
  try {
    const value: unknown = JSON.parse(text);
    // The JSON escape is the only way a NUL gets in; checking the text keeps the common case free.
    return { ok: true, value: text.includes('\\u0000') ? withoutNul(value) : value };
  } catch (err) {
    return { ok: false, reason: `not JSON: ${(err as Error).message}`.slice(0, MAX_REASON_CHARS) };
  }
}

function describeIssues(error: z.ZodError): string {
  const parts = error.issues.slice(0, 5).map((i) => `${i.path.length > 0 ? i.path.join('.') : '(root)'}: ${i.message}`);
  if (error.issues.length > 5) parts.push(`and ${error.issues.length - 5} more`);
  return `schema: ${parts.join('; ')}`.slice(0, MAX_REASON_CHARS);
}

/** The last token of `nta.v1.<kind>.<agentId>`: a message must not speak for another agent. */
function subjectAgent(subject: string): string {
  return subject.slice(subject.lastIndexOf('.') + 1);
}

function decodeWith<S extends z.ZodType<{ agentId: string }>>(
  schema: S,
  subject: string,
  data: Uint8Array,
  fastCheck?: (v: unknown) => v is z.infer<S>,
): Decoded<z.infer<S>> {
  const json = parseJson(data);
  if (!json.ok) return json;
  let value: z.infer<S>;
  if (fastCheck?.(json.value)) {
    value = json.value;
  } else {
    const r = schema.safeParse(json.value);
    if (!r.success) return { ok: false, reason: describeIssues(r.error) };
    value = r.data;
  }
  const claimed = subjectAgent(subject);
  if (value.agentId !== claimed) {
    return { ok: false, reason: `agentId ${JSON.stringify(value.agentId).slice(0, 80)} does not match subject agent ${JSON.stringify(claimed).slice(0, 80)}` };
  }
  return { ok: true, value };
}

export const decodeFlowBatch = (subject: string, data: Uint8Array): Decoded<FlowBatch> => {
  const r = decodeWith(FlowBatch, subject, data, isFastValidFlowBatch);
  if (!r.ok) return r;
  for (const f of r.value.flows) {
    if (f.lastSeenMs < f.firstSeenMs) return { ok: false, reason: `flow ${f.flowId}: lastSeenMs before firstSeenMs` };
    if (f.lastSeenMs > MAX_TIME_MS) return { ok: false, reason: `flow ${f.flowId}: lastSeenMs beyond year 9999` };
  }
  return r;
};
export const decodeHeartbeat = (subject: string, data: Uint8Array): Decoded<Heartbeat> => {
  const r = decodeWith(Heartbeat, subject, data);
  if (r.ok && (r.value.sentAtMs > MAX_TIME_MS || r.value.startedAtMs > MAX_TIME_MS)) return { ok: false, reason: 'heartbeat time beyond year 9999' };
  return r;
};
export const decodeHostStats = (subject: string, data: Uint8Array): Decoded<HostStatsBatch> => {
  const r = decodeWith(HostStatsBatch, subject, data);
  if (r.ok && r.value.seconds.some((x) => x.tsMs > MAX_TIME_MS)) return { ok: false, reason: 'host statistics time beyond year 9999' };
  return r;
};
