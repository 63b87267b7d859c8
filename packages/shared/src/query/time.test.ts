import { describe, expect, it } from 'vitest';
import { QuerySyntaxError } from './errors.js';
import { parseTimeBound } from './time.js';

const NOW_MS = Date.parse('2026-11-30T12:00:00.000Z');
const MINUTE_MS = 60_000;

describe('parseTimeBound - absolute', () => {
  it('reads ISO 8601 in UTC', () => {
    expect(parseTimeBound('2026-11-30T10:00:00Z', NOW_MS)).toBe(Date.parse('2026-11-30T10:00:00Z'));
    expect(parseTimeBound('2026-11-30t10:00:00.250z', NOW_MS)).toBe(Date.parse('2026-11-30T10:00:00.250Z'));
    expect(parseTimeBound('2026-11-30T10:00Z', NOW_MS)).toBe(Date.parse('2026-11-30T10:00:00Z'));
  });

  it('applies offsets', () => {
    expect(parseTimeBound('2026-11-30T10:00:00+01:00', NOW_MS)).toBe(Date.parse('2026-11-30T09:00:00Z'));
    expect(parseTimeBound('2026-11-30T10:00:00-0530', NOW_MS)).toBe(Date.parse('2026-11-30T15:30:00Z'));
    expect(parseTimeBound('2026-11-30T10:00:00+02', NOW_MS)).toBe(Date.parse('2026-11-30T08:00:00Z'));
  });

  it('reads a date alone as midnight UTC, and a date-time without offset as UTC', () => {
    expect(parseTimeBound('2026-11-30', NOW_MS)).toBe(Date.UTC(2026, 10, 30));
    expect(parseTimeBound('2026-11-30 10:00:00', NOW_MS)).toBe(Date.UTC(2026, 10, 30, 10));
  });

  it('keeps fractions to the millisecond', () => {
    expect(parseTimeBound('2026-11-30T10:00:00.123456789Z', NOW_MS)).toBe(Date.UTC(2026, 10, 30, 10, 0, 0, 123));
  });

  it('knows leap years', () => {
    expect(parseTimeBound('2028-02-29', NOW_MS)).toBe(Date.UTC(2028, 1, 29));
    expect(() => parseTimeBound('2026-02-29', NOW_MS)).toThrow(QuerySyntaxError);
    expect(() => parseTimeBound('2100-02-29', NOW_MS)).toThrow(QuerySyntaxError);
    expect(parseTimeBound('2000-02-29', NOW_MS)).toBe(Date.UTC(2000, 1, 29));
  });

  it('reads epoch milliseconds', () => {
    expect(parseTimeBound('1764504000000', NOW_MS)).toBe(1764504000000);
    expect(parseTimeBound('0', NOW_MS)).toBe(0);
  });
});

describe('parseTimeBound - relative', () => {
  it.each([
    ['now', 0],
    ['NOW', 0],
    ['-15m', -15 * MINUTE_MS],
    ['-2h', -120 * MINUTE_MS],
    ['-7d', -7 * 1440 * MINUTE_MS],
    ['-30s', -30_000],
    ['-1w', -7 * 1440 * MINUTE_MS],
    ['-500ms', -500],
    ['now-15m', -15 * MINUTE_MS],
    ['now - 1h', -60 * MINUTE_MS],
    ['now+5m', 5 * MINUTE_MS],
    [' -1.5h ', -90 * MINUTE_MS],
  ])('%j is now%s ms', (text, offsetMs) => {
    expect(parseTimeBound(text, NOW_MS)).toBe(NOW_MS + offsetMs);
  });
});

describe('parseTimeBound - errors', () => {
  it.each([
    '',
    '   ',
    'yesterday',
    '15m',
    '-15',
    '-15y',
    'now-',
    '2026-13-01',
    '2026-11-31',
    '2026-11-30T24:00:00Z',
    '2026-11-30T10:60:00Z',
    '2026-11-30T10:00:00+25:00',
    '2026/11/30',
    '30.11.2026',
    '99999999999999999',
    '2026-11-30T10:00:00Zjunk',
  ])('rejects %j with a clear message', (text) => {
    let caught: unknown;
    try {
      parseTimeBound(text, NOW_MS);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(QuerySyntaxError);
    expect((caught as QuerySyntaxError).message).toMatch(/^invalid time ".*" \(use ISO 8601/);
    expect((caught as QuerySyntaxError).statusCode).toBe(400);
  });

  it('rejects a non-string without crashing', () => {
    expect(() => parseTimeBound(undefined as unknown as string, NOW_MS)).toThrow(QuerySyntaxError);
  });
});
