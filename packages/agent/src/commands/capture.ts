import type { FlowRecord, Heartbeat } from '@nta/shared';
import { NtaError, ErrorCode } from '@nta/shared';
import { defaultInterface, listInterfaces } from '../capture/interfaces.js';
import { openLiveCapture } from '../capture/live-source.js';
import type { CaptureConfig } from '../config.js';
import { createLogger } from '../logger.js';
import { FlowWriter } from '../output/flow-writer.js';
import { FlowPipeline } from '../pipeline.js';
import { AGENT_VERSION } from '../version.js';
import { createPublisher } from './publish-output.js';

const TICK_MS = 250;

/**
 * Live capture: packets -> pipeline -> NATS (or stdout). Time advances by the clock as
 * well as by packets, so flows on a quiet link still expire and seconds still roll.
 */
export async function runCapture(config: CaptureConfig, shouldStop: () => boolean): Promise<number> {
  const log = createLogger(config.logLevel, config.agentId);
  const interfaces = listInterfaces();
  const iface = config.iface ?? defaultInterface(interfaces)?.name;
  if (iface === undefined) {
    throw new NtaError(ErrorCode.CAPTURE_OPEN, 'no interface to capture on: none is up besides loopback; name one with --interface');
  }
  const publisher = config.nats ? createPublisher(config, log) : undefined;
  const writer = publisher ? undefined : new FlowWriter(config.format, process.stdout);
  let pendingFlows: FlowRecord[] = [];
  const pipeline = new FlowPipeline(
    { agentId: config.agentId, flowTable: config.flowTable, l7Hints: config.l7Hints },
    {
      onFlow: (flow) => (publisher ? pendingFlows.push(flow) : writer?.write(flow)),
      onHostSecond: (second) => publisher?.addHostSeconds([second]),
    },
  );
  const capture = openLiveCapture(
    { iface, filter: config.filter, snapLen: config.snapLen, promiscuous: config.promiscuous, bufferBytes: config.bufferBytes },
    pipeline,
  );
  const startedAtMs = Date.now();
  log.info({ iface, linkType: capture.linkTypeName, filter: config.filter ?? '', nats: config.nats?.url ?? null }, 'capturing');

  const ifaceInfo = interfaces.find((i) => i.name === iface);
  let last = { atMs: startedAtMs, packets: 0, bytes: 0, flows: 0 };
  const heartbeat = (): Heartbeat => {
    const now = Date.now();
    const s = pipeline.stats();
    const c = capture.stats();
    const seconds = Math.max((now - last.atMs) / 1000, 0.001);
    const rates = {
      packetsPerS: (s.packets - last.packets) / seconds,
      bytesPerS: (s.bytes - last.bytes) / seconds,
      flowsPerS: (s.flows - last.flows) / seconds,
    };
    last = { atMs: now, packets: s.packets, bytes: s.bytes, flows: s.flows };
    const spool = publisher?.stats().spool;
    return {
      v: 1,
      agentId: config.agentId,
      hostname: config.hostname,
      version: AGENT_VERSION,
      runId: publisher?.runId ?? 'stdout',
      startedAtMs,
      sentAtMs: now,
      intervalMs: config.heartbeatIntervalMs,
      mode: 'live',
      interfaces: [{ name: iface, linkType: capture.linkTypeName, addresses: ifaceInfo?.addresses.map((a) => a.address) ?? [] }],
      rates,
      totals: { packets: s.packets, bytes: s.bytes, flows: s.flows },
      capture: { received: c.received, dropped: c.dropped, ifDropped: c.ifDropped },
      flowTable: { active: s.activeFlows, evicted: s.evictedFlows },
      spool: { pendingBatches: spool?.pendingBatches ?? 0, pendingBytes: spool?.pendingBytes ?? 0, droppedBatches: spool?.droppedBatches ?? 0 },
      skipped: s.skipped,
    };
  };

  await new Promise<void>((resolve) => {
    let nextHeartbeatMs = 0;
    const timer = setInterval(() => {
      const now = Date.now();
      pipeline.tick(now);
      if (pendingFlows.length > 0) {
        publisher?.addFlows(pendingFlows);
        pendingFlows = [];
      }
      if (now >= nextHeartbeatMs) {
        nextHeartbeatMs = now + config.heartbeatIntervalMs;
        const hb = heartbeat();
        if (publisher) publisher.sendHeartbeat(hb);
        else log.info({ rates: hb.rates, capture: hb.capture, flowTable: hb.flowTable }, 'heartbeat');
      }
      if (shouldStop()) {
        clearInterval(timer);
        resolve();
      }
    }, TICK_MS);
  });

  capture.close();
  pipeline.finish();
  const stats = pipeline.stats();
  if (publisher) {
    publisher.addFlows(pendingFlows);
    publisher.sendHeartbeat(heartbeat());
    await publisher.close(10_000);
  } else if (writer) {
    await writer.drain();
  }
  log.info({ ...stats, capture: capture.stats(), publisher: publisher?.stats() }, 'stopped');
  return 0;
}
