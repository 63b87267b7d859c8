import type { FlowRecord, HostSecond } from '@nta/shared';
import { readCaptureFile, type FileReadResult } from '../capture/pcap-file-reader.js';
import type { ReadConfig } from '../config.js';
import { FlowWriter } from '../output/flow-writer.js';
import { FlowPipeline } from '../pipeline.js';

export interface ReadSummary {
  file: string;
  format: FileReadResult['format'] | 'unknown';
  packets: number;
  bytes: number;
  flows: number;
  skipped: Record<string, number>;
  skippedBlocks?: number;
  evictedFlows: number;
  published?: number;
  elapsedS: number;
  packetsPerS: number;
  maxRssBytes: number;
  error?: string;
}

/** A sink for flows leaving the pipeline: stdout or NATS. */
export interface FlowOutput {
  write(flow: FlowRecord): void;
  /** Per-second host counters, where the output carries them (NATS does, stdout does not). */
  hostSecond?(second: HostSecond): void;
  /** Between chunks of the file: resolves when the output can take more. */
  drain(): Promise<void>;
  close(): Promise<{ published?: number }>;
}

export async function runRead(config: ReadConfig, output: FlowOutput, shouldStop: () => boolean): Promise<ReadSummary> {
  const pipeline = new FlowPipeline(
    { agentId: config.agentId, flowTable: config.flowTable, l7Hints: config.l7Hints },
    { onFlow: (flow) => output.write(flow), onHostSecond: (second) => output.hostSecond?.(second) },
  );
  const started = performance.now();
  const replay = replayTiming(config);
  const sink = config.shiftToNow
    ? {
        packet(linkType: number, tsMs: number, buf: Uint8Array, off: number, capLen: number, wireLen: number): void {
          pipeline.packet(linkType, tsMs + replay.shiftMs(tsMs), buf, off, capLen, wireLen);
        },
      }
    : pipeline;
  const result = await readCaptureFile(config.file, sink, {
    onChunk: () => output.drain(),
    shouldStop,
    pace: Number.isFinite(config.speed) ? replay.pace : undefined,
  });
  pipeline.finish();
  const closed = await output.close();
  const elapsedS = (performance.now() - started) / 1000;
  const stats = pipeline.stats();
  const summary: ReadSummary = {
    file: config.file,
    format: result.format,
    packets: stats.packets,
    bytes: stats.bytes,
    flows: stats.flows,
    skipped: stats.skipped,
    evictedFlows: stats.evictedFlows,
    elapsedS: Math.round(elapsedS * 1000) / 1000,
    packetsPerS: elapsedS > 0 ? Math.round(stats.packets / elapsedS) : 0,
    maxRssBytes: process.resourceUsage().maxRSS * 1024,
  };
  if (result.skippedBlocks > 0) summary.skippedBlocks = result.skippedBlocks;
  if (closed.published !== undefined) summary.published = closed.published;
  if (result.error !== undefined) summary.error = result.error;
  return summary;
}

/** Anchors a replay to the wall clock at its first packet: how far to shift stamps, how long to wait. */
function replayTiming(config: ReadConfig): { shiftMs(tsMs: number): number; pace(tsMs: number): number } {
  let firstTsMs: number | undefined;
  let startedAtMs = 0;
  const anchor = (tsMs: number): number => {
    if (firstTsMs === undefined) {
      firstTsMs = tsMs;
      startedAtMs = Date.now();
    }
    return firstTsMs;
  };
  return {
    // A shifted packet is stamped at the replay's start plus its (scaled) offset into the capture.
    shiftMs: (tsMs) => {
      const sinceFirst = tsMs - anchor(tsMs);
      const scaled = Number.isFinite(config.speed) ? sinceFirst / config.speed : sinceFirst;
      return startedAtMs + scaled - tsMs;
    },
    pace: (tsMs) => {
      const first = anchor(tsMs);
      return (tsMs - first) / config.speed - (Date.now() - startedAtMs);
    },
  };
}

export function stdoutOutput(config: ReadConfig): FlowOutput {
  const writer = new FlowWriter(config.format, process.stdout);
  return {
    write: (flow) => writer.write(flow),
    drain: () => writer.drain(),
    close: async () => {
      await writer.drain();
      return {};
    },
  };
}
