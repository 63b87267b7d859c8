import { describe, expect, it } from 'vitest';
import { QUERY_FIELDS } from './fields.js';
import { suggest } from './suggest.js';

const labels = (input: string, cursor = input.length): string[] => suggest(input, cursor).items.map((item) => item.label);

describe('suggest - field names', () => {
  it('offers every field on an empty query', () => {
    const result = suggest('', 0);
    expect(result.items.map((item) => item.label)).toEqual(QUERY_FIELDS.map((field) => field.name));
    expect(result).toMatchObject({ from: 0, to: 0 });
    expect(result.items[0]).toMatchObject({ insert: 'proto:' });
    expect(result.items[0].detail).toContain('proto:tcp');
  });

  it('filters by prefix and replaces the whole word', () => {
    expect(labels('proto:tcp d')).toEqual(['dst', 'dport', 'dstcountry', 'dstasn', 'duration', 'dns']);
    expect(labels('proto:tcp s')).toEqual(['src', 'sport', 'srccountry', 'srcasn', 'sni']);
    const result = suggest('proto:tcp dpo and x:1', 12);
    expect(result).toMatchObject({ from: 10, to: 13 });
    expect(result.items.map((item) => item.label)).toEqual(['dport']);
  });

  it('matches aliases and offers keywords', () => {
    expect(labels('agen')).toEqual(['host']);
    expect(labels('proto:tcp a')).toEqual(['asn', 'ip', 'host', 'and']);
    expect(labels('proto:tcp (no')).toEqual(['not']);
    expect(labels('proto:tcp !dp')).toEqual(['dport']);
  });

  it('starts a new word after a parenthesis', () => {
    expect(suggest('(lev', 4)).toMatchObject({ from: 1, to: 4, items: [{ label: 'level' }] });
  });
});

describe('suggest - values', () => {
  it('offers enumerated values after field:', () => {
    expect(labels('level:')).toEqual(['normal', 'suspicious', 'malicious']);
    expect(labels('proto:ic')).toEqual(['icmp', 'icmpv6']);
    expect(labels('endreason:')).toEqual(['idle', 'active', 'fin', 'rst', 'evicted', 'end']);
    expect(labels('threat:')).toEqual(['true', 'false']);
    expect(labels('family:')).toEqual(['4', '6']);
    expect(labels('country:lo')).toEqual(['loopback']);
  });

  it('offers values after comparisons and aliases, case-insensitively', () => {
    expect(labels('level>=S')).toEqual(['suspicious']);
    expect(labels('level:>')).toEqual(['normal', 'suspicious', 'malicious']);
    expect(labels('PROTOCOL:T')).toEqual(['tcp']);
  });

  it('completes the list item under the cursor', () => {
    const result = suggest('proto:tcp,u dport:1', 11);
    expect(result).toMatchObject({ from: 10, to: 11, items: [{ label: 'udp', insert: 'udp' }] });
    expect(suggest('proto:tcp,udx,gre', 11)).toMatchObject({ from: 10, to: 13 });
  });

  it('gives the range of the value even with nothing to offer', () => {
    expect(suggest('src:10.', 7)).toEqual({ from: 4, to: 7, items: [] });
    expect(suggest('nosuchfield:a', 13)).toEqual({ from: 12, to: 13, items: [] });
  });

  it('offers nothing inside a quoted value', () => {
    expect(suggest('dns:"level:', 11).items).toEqual([]);
    expect(suggest('dns:"a b" lev', 13).items.map((item) => item.label)).toEqual(['level']);
  });

  it('clamps a cursor outside the text', () => {
    expect(suggest('lev', 99)).toMatchObject({ from: 0, to: 3 });
    expect(suggest('lev', -5)).toMatchObject({ from: 0, to: 3 });
  });
});
