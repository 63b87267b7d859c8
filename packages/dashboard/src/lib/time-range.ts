/**
 * The console's time range: live (streaming, a sliding window), relative to now, or an
 * absolute span. Kept as text in the URL so a view can be shared.
 */

export type TimeRange = { kind: 'live' } | { kind: 'relative'; from: string } | { kind: 'absolute'; fromMs: number; toMs: number };

export const LIVE_WINDOW = '-5m';
export const LIVE_WINDOW_MS = 5 * 60_000;

export const PRESETS: readonly { label: string; range: TimeRange }[] = [
  { label: 'Live', range: { kind: 'live' } },
  { label: '15 min', range: { kind: 'relative', from: '-15m' } },
  { label: '1 hour', range: { kind: 'relative', from: '-1h' } },
  { label: '6 hours', range: { kind: 'relative', from: '-6h' } },
  { label: '24 hours', range: { kind: 'relative', from: '-24h' } },
  { label: '7 days', range: { kind: 'relative', from: '-7d' } },
];

const RELATIVE = /^-(\d{1,6})(s|m|h|d)$/;
const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export function relativeMs(from: string): number | null {
  const m = RELATIVE.exec(from);
  return m ? Number(m[1]) * UNIT_MS[m[2]!]! : null;
}

/** Reads `from`/`to` URL parameters; anything unreadable falls back to live. */
export function rangeFromParams(p: URLSearchParams): TimeRange {
  const from = p.get('from');
  const to = p.get('to');
  if (!from || from === 'live') return { kind: 'live' };
  if (relativeMs(from) !== null && (!to || to === 'now')) return { kind: 'relative', from };
  const fromMs = Date.parse(from);
  const toMs = to ? Date.parse(to) : NaN;
  if (Number.isFinite(fromMs) && Number.isFinite(toMs) && toMs > fromMs) return { kind: 'absolute', fromMs, toMs };
  return { kind: 'live' };
}

export function rangeToParams(r: TimeRange): Record<string, string> {
  switch (r.kind) {
    case 'live':
      return {};
    case 'relative':
      return { from: r.from };
    case 'absolute':
      return { from: new Date(r.fromMs).toISOString(), to: new Date(r.toMs).toISOString() };
  }
}

/** Parameters for a REST request: live reads the sliding window. */
export function rangeToApi(r: TimeRange): { from: string; to: string } {
  switch (r.kind) {
    case 'live':
      return { from: LIVE_WINDOW, to: 'now' };
    case 'relative':
      return { from: r.from, to: 'now' };
    case 'absolute':
      return { from: new Date(r.fromMs).toISOString(), to: new Date(r.toMs).toISOString() };
  }
}

export function resolveRange(r: TimeRange, nowMs: number): { fromMs: number; toMs: number } {
  switch (r.kind) {
    case 'live':
      return { fromMs: nowMs - LIVE_WINDOW_MS, toMs: nowMs };
    case 'relative':
      return { fromMs: nowMs - (relativeMs(r.from) ?? 3_600_000), toMs: nowMs };
    case 'absolute':
      return { fromMs: r.fromMs, toMs: r.toMs };
  }
}

export function rangeLabel(r: TimeRange): string {
  if (r.kind === 'live') return 'Live · last 5 min';
  if (r.kind === 'relative') return PRESETS.find((p) => p.range.kind === 'relative' && p.range.from === r.from)?.label ?? `last ${r.from.slice(1)}`;
  const f = (ms: number) => new Date(ms).toISOString().slice(0, 16).replace('T', ' ');
  return `${f(r.fromMs)} → ${f(r.toMs)} UTC`;
}

export function sameRange(a: TimeRange, b: TimeRange): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** `datetime-local` input value (local time) for an epoch ms, and back. */
export function toLocalInput(ms: number): string {
  const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60_000);
  return d.toISOString().slice(0, 16);
}
export function fromLocalInput(v: string): number {
  return new Date(v).getTime();
}
