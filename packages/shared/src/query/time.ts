/**
 * Time bounds for `from`/`to` in the API and the console: absolute (ISO 8601, epoch ms) or
 * relative to `nowMs`, which the caller passes so the function stays pure and testable.
 */
import { QuerySyntaxError } from './errors.js';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1e3, m: 60e3, h: 3600e3, d: 86400e3, w: 7 * 86400e3 };
const RELATIVE = /^(now)?\s*([+-])\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)$/i;
const EPOCH_MS = /^\d{1,16}$/;
const ISO_8601 = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(z|[+-]\d{2}(?::?\d{2})?)?)?$/i;
/** ECMAScript's Date range: ±8.64e15 ms around the epoch. */
const MAX_TIME_MS = 8.64e15;

/**
 * Milliseconds since the epoch for `2026-11-30T10:00:00Z` (an offset such as `+01:00`, or
 * none, which means UTC; a bare date is midnight UTC), epoch-ms digits, `now`, or a relative
 * time `-15m`, `now-2h`, `-7d`, `-30s`, `-1w` (also `+`). Throws QuerySyntaxError otherwise.
 */
export function parseTimeBound(input: string, nowMs: number): number {
  const text = typeof input === 'string' ? input.trim() : '';
  const result = parseTrimmed(text, nowMs);
  if (result === undefined || !Number.isFinite(result) || Math.abs(result) > MAX_TIME_MS) {
    const shown = String(input).length > 40 ? `${String(input).slice(0, 40)}...` : String(input);
    throw new QuerySyntaxError(
      `invalid time "${shown}" (use ISO 8601 like 2026-11-30T10:00:00Z, epoch milliseconds, now, or a relative time like -15m or now-2h)`,
      0,
      typeof input === 'string' ? input.length : 0,
    );
  }
  return result;
}

function parseTrimmed(text: string, nowMs: number): number | undefined {
  if (text.toLowerCase() === 'now') return nowMs;
  if (EPOCH_MS.test(text)) return Number(text);
  const relative = RELATIVE.exec(text);
  if (relative) {
    const offsetMs = Number(relative[3]) * UNIT_MS[relative[4].toLowerCase()];
    return Math.round(relative[2] === '-' ? nowMs - offsetMs : nowMs + offsetMs);
  }
  const iso = ISO_8601.exec(text);
  return iso ? fromIsoParts(iso) : undefined;
}

function fromIsoParts(parts: RegExpExecArray): number | undefined {
  const [, y, mo, d, h = '0', mi = '0', s = '0', fraction = '', zone = 'z'] = parts;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  const ms = Number(fraction.padEnd(3, '0').slice(0, 3));
  const offsetMs = zoneOffsetMs(zone);
  if (offsetMs === undefined) return undefined;
  const date = new Date(0);
  // setUTCFullYear keeps years 0-99 as written (Date.UTC would map them to 1900-1999).
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, ms);
  return date.getTime() - offsetMs;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

function zoneOffsetMs(zone: string): number | undefined {
  if (zone.toLowerCase() === 'z') return 0;
  const digits = zone.slice(1).replace(':', '');
  const hours = Number(digits.slice(0, 2));
  const minutes = digits.length > 2 ? Number(digits.slice(2)) : 0;
  if (hours > 23 || minutes > 59) return undefined;
  const sign = zone[0] === '-' ? -1 : 1;
  return sign * (hours * 60 + minutes) * 60e3;
}
