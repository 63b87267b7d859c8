import { describe, expect, it } from 'vitest';
import { compileWildcard, toLikePattern, wildcardMatch } from './wildcard.js';

/** The obvious RegExp reading of a `*` pattern, fine for short test strings. */
function reference(pattern: string, text: string): boolean {
  const source = pattern
    .split('*')
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('[\\s\\S]*');
  return new RegExp(`^${source}$`).test(text);
}

describe('wildcard - matching', () => {
  it('matches whole strings', () => {
    expect(wildcardMatch('web-*', 'web-1')).toBe(true);
    expect(wildcardMatch('web-*', 'xweb-1')).toBe(false);
    expect(wildcardMatch('*.example.com', 'a.b.example.com')).toBe(true);
    expect(wildcardMatch('*.example.com', 'example.com')).toBe(false);
    expect(wildcardMatch('*', '')).toBe(true);
    expect(wildcardMatch('a*b*c', 'abc')).toBe(true);
    expect(wildcardMatch('a*b*c', 'acb')).toBe(false);
    expect(compileWildcard('exact')('exact')).toBe(true);
    expect(compileWildcard('exact')('exactly')).toBe(false);
  });

  it('treats LIKE and RegExp metacharacters literally', () => {
    expect(wildcardMatch('a_c', 'abc')).toBe(false);
    expect(wildcardMatch('a%c', 'abc')).toBe(false);
    expect(wildcardMatch('a.c', 'abc')).toBe(false);
    expect(wildcardMatch('a%*', 'a%b')).toBe(true);
  });

  it('agrees with a RegExp reference on random patterns', () => {
    let seed = 3;
    const next = (): number => (seed = (seed * 1103515245 + 12345) % 2147483648);
    const word = (alphabet: string, max: number): string => Array.from({ length: next() % max }, () => alphabet[next() % alphabet.length]).join('');
    for (let i = 0; i < 5000; i++) {
      const pattern = word('ab*', 7);
      const text = word('ab', 9);
      expect(wildcardMatch(pattern, text), `${pattern} ~ ${text}`).toBe(reference(pattern, text));
    }
  });

  it('answers a many-star pattern that fails at the end without backtracking blow-up', () => {
    expect(wildcardMatch(`${'*a'.repeat(100)}b`, 'a'.repeat(255))).toBe(false);
  });
});

describe('wildcard - LIKE patterns', () => {
  it('escapes %, _ and \\ and maps * to %', () => {
    expect(toLikePattern('web_*')).toBe('web\\_%');
    expect(toLikePattern('100%')).toBe('100\\%');
    expect(toLikePattern('a\\b')).toBe('a\\\\b');
    expect(toLikePattern('**')).toBe('%%');
  });
});
