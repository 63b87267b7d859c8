/** 400s that name the parameter at fault, and the parsing helpers that raise them. */
import { parseTimeBound, QuerySyntaxError } from '@nta/shared';

export class BadRequest extends Error {
  readonly statusCode = 400;
  constructor(
    readonly field: string,
    message: string,
    readonly position?: number,
  ) {
    super(`${field}: ${message}`);
  }
}

export interface ParsedRange {
  fromMs: number;
  toMs: number;
  /** Raw host selectors (ids or hostnames) or null for the whole fleet. */
  hosts: string[] | null;
}

const HOUR_MS = 3_600_000;

export function parseRange(q: { from?: string; to?: string; host?: string }, nowMs: number): ParsedRange {
  const bound = (field: 'from' | 'to', text: string | undefined, fallback: number): number => {
    if (text === undefined || text === '') return fallback;
    try {
      return parseTimeBound(text, nowMs);
    } catch (err) {
      throw new BadRequest(field, (err as Error).message);
    }
  };
  const toMs = bound('to', q.to, nowMs);
  const fromMs = bound('from', q.from, toMs - HOUR_MS);
  if (fromMs >= toMs) throw new BadRequest('from', `must be before to (${new Date(fromMs).toISOString()} >= ${new Date(toMs).toISOString()})`);
  let hosts: string[] | null = null;
  if (q.host !== undefined && q.host.trim() !== '') {
    hosts = [...new Set(q.host.split(',').map((h) => h.trim()).filter((h) => h !== ''))];
    if (hosts.length > 100) throw new BadRequest('host', 'at most 100 hosts');
    const bad = hosts.find((h) => h.length > 255 || /[\s\0]/.test(h));
    if (bad !== undefined) throw new BadRequest('host', `not a host name or agent id: ${JSON.stringify(bad.slice(0, 60))}`);
  }
  return { fromMs, toMs, hosts };
}

export function queryError(err: unknown): BadRequest {
  if (err instanceof QuerySyntaxError) return new BadRequest('q', err.message, err.position);
  return new BadRequest('q', (err as Error).message);
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: HOUR_MS, d: 24 * HOUR_MS };

/** Timeline step: explicit, or about 120 points over the range, rounded to a friendly width. */
export function parseStep(step: string | undefined, rangeMs: number): number {
  if (step === undefined) {
    const nice = [1, 5, 10, 30, 60, 300, 600, 900, 1800, 3600, 7200, 21600, 43200, 86400].map((s) => s * 1000);
    return nice.find((s) => rangeMs / s <= 120) ?? 86_400_000;
  }
  const m = /^(\d+)(ms|s|m|h|d)?$/.exec(step)!;
  const ms = Number(m[1]) * UNIT_MS[m[2] ?? 's']!;
  if (ms < 1000) throw new BadRequest('step', 'must be at least 1s');
  // Whole-minute steps read the rollups; finer ones read raw flows, which only short ranges can afford.
  if (ms % 60_000 !== 0 && rangeMs > 7 * 24 * HOUR_MS) throw new BadRequest('step', 'must be whole minutes for ranges over 7 days');
  if (rangeMs / ms > 10_000) throw new BadRequest('step', `gives ${Math.ceil(rangeMs / ms)} points; at most 10000 (widen the step or narrow the range)`);
  return ms;
}
