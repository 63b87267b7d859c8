/**
 * The JetStream streams NTA writes to, created or brought up to date idempotently. Many
 * agents (and the collector) may call this at once: a lost creation race ("already in
 * use") is followed by a re-read, and an update is only sent when a managed field differs.
 */
import { DiscardPolicy, JetStreamApiError, JetStreamApiCodes, RetentionPolicy, StorageType } from '@nats-io/jetstream';
import type { JetStreamManager, StreamConfig, StreamInfo } from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import { Streams } from '../subjects.js';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const HOUR_MS = 3_600_000;

export interface StreamLimits {
  /** JetStream de-duplicates a republished `Nats-Msg-Id` within this window. Default 2 min. */
  flowsDuplicateWindowMs: number;
  flowsMaxAgeMs: number;
  flowsMaxBytes: number;
  telemetryMaxAgeMs: number;
  telemetryMaxBytes: number;
  deadLettersMaxAgeMs: number;
  deadLettersMaxBytes: number;
}

export const DEFAULT_STREAM_LIMITS: Readonly<StreamLimits> = Object.freeze({
  flowsDuplicateWindowMs: 2 * 60_000,
  flowsMaxAgeMs: 7 * 24 * HOUR_MS,
  flowsMaxBytes: 8 * GiB,
  telemetryMaxAgeMs: 24 * HOUR_MS,
  telemetryMaxBytes: 1 * GiB,
  deadLettersMaxAgeMs: 7 * 24 * HOUR_MS,
  deadLettersMaxBytes: 1 * GiB,
});

type ManagedConfig = Pick<StreamConfig, 'name' | 'subjects' | 'max_age' | 'max_bytes' | 'duplicate_window'> & Partial<StreamConfig>;

/** The stream configurations, as plain data (what ensureStreams creates). */
export function streamConfigs(limits: Partial<StreamLimits> = {}): ManagedConfig[] {
  const l = { ...DEFAULT_STREAM_LIMITS, ...limits };
  const common = {
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    discard: DiscardPolicy.Old,
    num_replicas: 1,
  } as const;
  return [
    {
      ...common,
      name: Streams.flows.name,
      subjects: [...Streams.flows.subjects],
      description: 'NTA flow batches from agents',
      max_age: nanos(l.flowsMaxAgeMs),
      max_bytes: l.flowsMaxBytes,
      duplicate_window: nanos(l.flowsDuplicateWindowMs),
    },
    {
      ...common,
      name: Streams.telemetry.name,
      subjects: [...Streams.telemetry.subjects],
      description: 'NTA agent heartbeats and per-second host counters',
      max_age: nanos(l.telemetryMaxAgeMs),
      max_bytes: l.telemetryMaxBytes,
      duplicate_window: nanos(Math.min(l.flowsDuplicateWindowMs, l.telemetryMaxAgeMs)),
    },
    {
      ...common,
      name: Streams.deadLetters.name,
      subjects: [...Streams.deadLetters.subjects],
      description: 'NTA messages that failed validation',
      max_age: nanos(l.deadLettersMaxAgeMs),
      max_bytes: l.deadLettersMaxBytes,
      duplicate_window: nanos(Math.min(l.flowsDuplicateWindowMs, l.deadLettersMaxAgeMs)),
    },
  ];
}

/** 'created': the add succeeded (JetStream also accepts an add identical to an existing stream, so racing callers may all see it). */
export type EnsureResult = 'created' | 'updated' | 'unchanged';

/** Creates or updates the flow, telemetry and dead-letter streams. Returns what happened to each, by name. */
export async function ensureStreams(jsm: JetStreamManager, limits: Partial<StreamLimits> = {}): Promise<Record<string, EnsureResult>> {
  const out: Record<string, EnsureResult> = {};
  for (const cfg of streamConfigs(limits)) out[cfg.name] = await ensureStream(jsm, cfg);
  return out;
}

async function ensureStream(jsm: JetStreamManager, cfg: ManagedConfig): Promise<EnsureResult> {
  let info = await streamInfo(jsm, cfg.name);
  if (!info) {
    try {
      await jsm.streams.add(cfg);
      return 'created';
    } catch (err) {
      // Another agent created it between our info and add: fall through to compare.
      info = await streamInfo(jsm, cfg.name);
      if (!info) throw err;
    }
  }
  if (!differs(info.config, cfg)) return 'unchanged';
  const { name, storage: _s, retention: _r, num_replicas: _n, ...update } = cfg;
  // Keep subjects someone else added to the stream; ours must be there.
  update.subjects = [...new Set([...info.config.subjects, ...cfg.subjects])];
  await jsm.streams.update(name, update);
  return 'updated';
}

async function streamInfo(jsm: JetStreamManager, name: string): Promise<StreamInfo | undefined> {
  try {
    return await jsm.streams.info(name);
  } catch (err) {
    if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound) return undefined;
    throw err;
  }
}

function differs(have: StreamConfig, want: ManagedConfig): boolean {
  return (
    want.subjects.some((s) => !have.subjects.includes(s)) ||
    have.max_age !== want.max_age ||
    have.max_bytes !== want.max_bytes ||
    have.duplicate_window !== want.duplicate_window ||
    (want.discard !== undefined && have.discard !== want.discard)
  );
}
