/**
 * `*` wildcards, the user-facing form of host/dns/sni/httphost patterns, in the two shapes
 * the compilers need: a SQL LIKE pattern and an in-memory matcher. Both treat every other
 * character literally, so `%`, `_` and `\` typed by a user never act as LIKE syntax.
 */

/** The LIKE pattern for `pattern`, to be used with `ESCAPE '\'`. */
export function toLikePattern(pattern: string): string {
  return pattern.replace(/[\\%_]/g, (c) => `\\${c}`).replace(/\*/g, '%');
}

export type TextMatcher = (text: string) => boolean;

/**
 * Matches the whole text. The caller lower-cases both sides for case-insensitive fields.
 * Linear backtracking (remember the last `*`) rather than a RegExp: many stars in a hostile
 * pattern cannot blow up the matching time.
 */
export function compileWildcard(pattern: string): TextMatcher {
  if (!pattern.includes('*')) return (text) => text === pattern;
  return (text) => wildcardMatch(pattern, text);
}

export function wildcardMatch(pattern: string, text: string): boolean {
  let p = 0;
  let t = 0;
  let star = -1;
  let resume = 0;
  while (t < text.length) {
    if (p < pattern.length && pattern.charCodeAt(p) === 0x2a) {
      star = p++;
      resume = t;
    } else if (p < pattern.length && pattern.charCodeAt(p) === text.charCodeAt(t)) {
      p++;
      t++;
    } else if (star >= 0) {
      p = star + 1;
      t = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.length && pattern.charCodeAt(p) === 0x2a) p++;
  return p === pattern.length;
}
