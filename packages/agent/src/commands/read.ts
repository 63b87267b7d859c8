import type { FlowRecord } from '@nta/shared';
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
  /** Between chunks of the file: resolves when the output can take more. */
  drain(): Promise<void>;
  close(): Promise<{ published?: number }>;
}

export async function runRead(config: ReadConfig, output: FlowOutput, shouldStop: () => boolean): Promise<ReadSummary> {
  const pipeline = new FlowPipeline(
    { agentId: config.agentId, flowTable: config.flowTable, l7Hints: config.l7Hints },
    { onFlow: (flow) => output.write(flow) },
  );
  const started = performance.now();
  const result = await readCaptureFile(config.file, pipeline, { onChunk: () => output.drain(), shouldStop });
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
