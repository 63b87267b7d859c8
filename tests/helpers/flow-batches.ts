/**
 * Flow batches as an agent publishes them, for tests that act as agents: deterministic
 * flow ids, so a test knows exactly which flows must end up stored, once each.
 */
import { createHash } from 'node:crypto';
import type { FlowBatch, FlowRecord } from '@nta/shared';
import { flowSubject } from '@nta/shared';
import type { JetStreamClient } from '@nats-io/jetstream';

export function flowId(agentId: string, n: number): string {
  const h = createHash('sha1').update(`${agentId}/${n}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export function syntheticFlow(agentId: string, n: number, firstSeenMs: number): FlowRecord {
  const packets = 4 + (n % 20);
  const bytes = packets * (60 + (n % 1400));
  return {
    flowId: flowId(agentId, n),
    firstSeenMs,
    lastSeenMs: firstSeenMs + 50 + (n % 500),
    family: 4,
    ipProto: 6,
    proto: 'tcp',
    src: `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`,
    dst: `93.184.${(n >> 4) & 15}.${n & 15}`,
    sport: 1024 + (n % 60000),
    dport: 443,
    packetsToDst: Math.ceil(packets / 2),
    packetsToSrc: Math.floor(packets / 2),
    bytesToDst: Math.ceil(bytes / 3),
    bytesToSrc: bytes - Math.ceil(bytes / 3),
    packets,
    bytes,
    tcpFlagsToDst: 0x1b,
    tcpFlagsToSrc: 0x1b,
    endReason: 'fin',
    features: {
      durationMs: 50 + (n % 500),
      pktSizeMin: 60,
      pktSizeMax: 60 + (n % 1400),
      pktSizeMean: bytes / packets,
      pktSizeStd: 10,
      iatMeanMs: 5,
      iatStdMs: 1,
      iatMinMs: 1,
      iatMaxMs: 9,
      synCount: 1,
      synAckCount: 1,
      finCount: 2,
      rstCount: 0,
      byteRatio: 1 / 3,
      payloadBytes: Math.max(0, bytes - packets * 54),
    },
  };
}

export function syntheticBatch(agentId: string, seq: number, flowsPerBatch: number, baseMs: number): FlowBatch {
  const flows: FlowRecord[] = [];
  for (let i = 0; i < flowsPerBatch; i++) {
    const n = seq * flowsPerBatch + i;
    flows.push(syntheticFlow(agentId, n, baseMs + n * 3));
  }
  return { v: 1, agentId, hostname: `${agentId}.test`, runId: 'test-run', seq, sentAtMs: Date.now(), flows };
}

/** Publishes batches seq from..to-1 with agent-style message ids; returns the flows published. */
export async function publishBatches(js: JetStreamClient, agentId: string, fromSeq: number, toSeq: number, flowsPerBatch: number, baseMs: number): Promise<number> {
  let flows = 0;
  for (let seq = fromSeq; seq < toSeq; seq++) {
    const batch = syntheticBatch(agentId, seq, flowsPerBatch, baseMs);
    await js.publish(flowSubject(agentId), JSON.stringify(batch), { msgID: `${agentId}.test-run.${seq}` });
    flows += batch.flows.length;
  }
  return flows;
}
