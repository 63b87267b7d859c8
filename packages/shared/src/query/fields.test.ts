import { describe, expect, it } from 'vitest';
import { FIELD_NAMES, QUERY_FIELDS, closestFieldName, findQueryField } from './fields.js';
import { parseQuery } from './parser.js';

describe('fields - catalogue', () => {
  it('describes every field once, with a parseable example', () => {
    expect(QUERY_FIELDS.map((field) => field.name)).toEqual([...FIELD_NAMES]);
    for (const field of QUERY_FIELDS) {
      expect(field.description.length).toBeGreaterThan(10);
      const ast = parseQuery(field.example);
      const term = ast?.type === 'not' ? ast.child : ast;
      expect(term).toMatchObject({ type: 'term', field: field.name });
    }
  });

  it('accepts every enumerated value it advertises', () => {
    for (const field of QUERY_FIELDS) {
      for (const value of field.values) expect(() => parseQuery(`${field.name}:${value}`)).not.toThrow();
    }
  });

  it('has no alias that shadows another field', () => {
    const all = QUERY_FIELDS.flatMap((field) => [field.name, ...field.aliases]);
    expect(new Set(all).size).toBe(all.length);
  });

  it('finds fields and aliases case-insensitively', () => {
    expect(findQueryField('DPORT')?.name).toBe('dport');
    expect(findQueryField('addr')?.name).toBe('ip');
    expect(findQueryField('nope')).toBeUndefined();
  });

  it('suggests near misses, including swapped letters, and nothing for far ones', () => {
    expect(closestFieldName('prot')).toBe('proto');
    expect(closestFieldName('dprot')).toBe('dport');
    expect(closestFieldName('contry')).toBe('country');
    expect(closestFieldName('xyzzy')).toBeUndefined();
  });
});
