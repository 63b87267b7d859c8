import { describe, expect, it } from 'vitest';
import { rangeFromParams, rangeLabel, rangeToApi, rangeToParams, relativeMs, resolveRange } from './time-range.js';
import { formatHash, parseHash } from './url-state.js';

describe('time ranges in the URL', () => {
  it('reads live, relative and absolute ranges, and falls back to live on nonsense', () => {
    expect(rangeFromParams(new URLSearchParams(''))).toEqual({ kind: 'live' });
    expect(rangeFromParams(new URLSearchParams('from=-6h'))).toEqual({ kind: 'relative', from: '-6h' });
    expect(rangeFromParams(new URLSearchParams('from=2026-11-30T10:00:00Z&to=2026-11-30T11:00:00Z'))).toEqual({ kind: 'absolute', fromMs: Date.parse('2026-11-30T10:00:00Z'), toMs: Date.parse('2026-11-30T11:00:00Z') });
    expect(rangeFromParams(new URLSearchParams('from=2026-11-30T11:00:00Z&to=2026-11-30T10:00:00Z'))).toEqual({ kind: 'live' });
    expect(rangeFromParams(new URLSearchParams('from=yesterday'))).toEqual({ kind: 'live' });
    expect(relativeMs('-15m')).toBe(900_000);
    expect(relativeMs('15m')).toBeNull();
  });

  it('asks the API for the same span it shows', () => {
    const abs = { kind: 'absolute' as const, fromMs: Date.parse('2026-11-30T10:00:00Z'), toMs: Date.parse('2026-11-30T10:30:00Z') };
    expect(rangeToApi(abs)).toEqual({ from: '2026-11-30T10:00:00.000Z', to: '2026-11-30T10:30:00.000Z' });
    expect(rangeToApi({ kind: 'relative', from: '-1h' })).toEqual({ from: '-1h', to: 'now' });
    expect(rangeToApi({ kind: 'live' })).toEqual({ from: '-5m', to: 'now' });
    expect(resolveRange({ kind: 'relative', from: '-1h' }, 10_000_000)).toEqual({ fromMs: 10_000_000 - 3_600_000, toMs: 10_000_000 });
    expect(rangeLabel(abs)).toBe('2026-11-30 10:00 → 2026-11-30 10:30 UTC');
    expect(rangeFromParams(new URLSearchParams(rangeToParams(abs)))).toEqual(abs);
  });

  it('round-trips the whole view state through the hash, special characters included', () => {
    const state = { view: 'explorer' as const, agentId: null, q: 'proto:tcp and (dport:80,443 or host:"a b") & ip:2001:db8::/32', host: 'web-1', range: { kind: 'relative' as const, from: '-24h' } };
    const hash = formatHash(state);
    expect(hash.startsWith('#/explorer?')).toBe(true);
    expect(parseHash(hash)).toEqual(state);
    const host = { view: 'agents' as const, agentId: 'node/1', q: '', host: '', range: { kind: 'live' as const } };
    expect(parseHash(formatHash(host))).toEqual(host);
    expect(parseHash('#/nonsense?q=x').view).toBe('overview');
  });
});
