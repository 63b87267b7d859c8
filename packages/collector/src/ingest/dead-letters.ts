/**
 * Refused messages go to `nta.v1.dead.<kind>` with the reason and the original subject in
 * headers, so an operator can inspect (and replay) them. The original is acknowledged only
 * after JetStream has stored the dead letter.
 */
import { deadLetterSubject } from '@nta/shared';
import type { JetStreamClient, JsMsg } from '@nats-io/jetstream';
import { headers } from '@nats-io/transport-node';

/** Dead letters keep at most this much of the original payload (the stream has a size cap). */
const MAX_DEAD_PAYLOAD_BYTES = 512 * 1024;

export type DeadLetterKind = 'flows' | 'heartbeat' | 'hoststats';

export async function sendToDeadLetters(js: JetStreamClient, kind: DeadLetterKind, msg: JsMsg, reason: string): Promise<void> {
  const h = headers();
  h.set('Nta-Reason', reason.replace(/[\r\n]+/g, ' ').slice(0, 1000));
  h.set('Nta-Original-Subject', msg.subject.slice(0, 512));
  h.set('Nta-Original-Stream-Seq', String(msg.seq));
  h.set('Nta-Original-Bytes', String(msg.data.length));
  if (msg.data.length > MAX_DEAD_PAYLOAD_BYTES) h.set('Nta-Truncated', 'true');
  // The stream sequence names the original, so a retried dead letter is not stored twice.
  await js.publish(deadLetterSubject(kind), msg.data.subarray(0, MAX_DEAD_PAYLOAD_BYTES), {
    headers: h,
    msgID: `dead.${kind}.${msg.info.stream}.${msg.seq}`,
  });
}
