import type { AlertCandidate, Level, StoredFlow } from '../../types.js';

/**
 * What every detector returns for a batch: alerts raised by it (at most one per subject per
 * cooldown) and the flows of the batch to raise, by index, to a level.
 */
export interface DetectorResult {
  alerts: AlertCandidate[];
  flagged: Map<number, Level>;
}

export interface DetectorStats {
  /** Keys (sources, pairs, targets) held now, and how many were dropped to stay within the caps. */
  trackedKeys: number;
  evictedKeys: number;
  alerts: number;
  /** DNS tunnel: keys over the threshold whose source is a resolver relaying a client's queries. */
  relayedKeys?: number;
}

/**
 * A detector is pure apart from its own bounded state: it reads event time from the flows
 * (firstSeenMs / lastSeenMs), never the clock, so replays give the same alerts.
 */
export interface Detector {
  readonly name: string;
  observe(flows: readonly StoredFlow[]): DetectorResult;
  stats(): DetectorStats;
}

/** AlertCandidate.flowIds holds at most this many. */
export const MAX_ALERT_FLOW_IDS = 20;

export function emptyResult(): DetectorResult {
  return { alerts: [], flagged: new Map() };
}

/** Raises flow `index` to `level` unless something already raised it higher. */
export function raiseFlag(flagged: Map<number, Level>, index: number, level: Level): void {
  const had = flagged.get(index);
  if (had === undefined || had < level) flagged.set(index, level);
}

/** Adds flow ids of the batch to an alert's sample, up to the limit, without repeats. */
export function addFlowId(ids: string[], flowId: string): void {
  if (ids.length < MAX_ALERT_FLOW_IDS && !ids.includes(flowId)) ids.push(flowId);
}

/** A copy of a flow-id sample that surely holds `flowId` (the flow the alert's agent reported). */
export function sampleWith(ids: readonly string[], flowId: string): string[] {
  if (ids.includes(flowId)) return [...ids];
  return [...ids.slice(0, MAX_ALERT_FLOW_IDS - 1), flowId];
}

/**
 * The event time a batch stands for, for expiring old state: the median, so a few flows with
 * absurd timestamps (a skewed agent clock, hostile input) cannot fast-forward the detector and
 * wipe every window.
 */
export function batchTimeMs(flows: readonly StoredFlow[], time: (f: StoredFlow) => number): number {
  if (flows.length === 0) return 0;
  const times = new Float64Array(flows.length);
  for (let i = 0; i < flows.length; i++) times[i] = time(flows[i]);
  times.sort();
  return times[flows.length >> 1];
}
