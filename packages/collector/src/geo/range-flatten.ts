/**
 * Turns possibly overlapping, possibly unsorted address ranges into sorted disjoint ones,
 * so a lookup is one binary search. Where ranges overlap, the one that starts later wins
 * (it is the more specific allocation, e.g. a customer block inside its provider's), and an
 * enclosing range resumes after the inner one ends. Among equal starts the narrower wins.
 * Works on bigint so IPv4 and IPv6 share it; the ASN loader only calls it when its cheap
 * check finds the input is not already sorted and disjoint, which is the rare case.
 */
export interface Ranges {
  starts: bigint[];
  ends: bigint[];
  /** Payload per range (an ASN record index). */
  values: number[];
}

const compare = (a: bigint, b: bigint): number => (a < b ? -1 : a > b ? 1 : 0);

export function flattenRanges(input: Ranges): Ranges {
  const { starts, ends, values } = input;
  const order = Array.from({ length: starts.length }, (_, i) => i);
  order.sort((a, b) => compare(starts[a], starts[b]) || compare(ends[b], ends[a]) || a - b);

  const out: Ranges = { starts: [], ends: [], values: [] };
  const emit = (start: bigint, end: bigint, value: number): void => {
    if (start > end) return;
    const last = out.starts.length - 1;
    if (last >= 0 && out.values[last] === value && out.ends[last] + 1n === start) {
      out.ends[last] = end;
      return;
    }
    out.starts.push(start);
    out.ends.push(end);
    out.values.push(value);
  };
  const later = (a: bigint, b: bigint): bigint => (a > b ? a : b);

  // Open ranges, each strictly inside the one below it; `cursor` is the first address not yet emitted.
  const stack: number[] = [];
  let cursor = 0n;
  for (const i of order) {
    const start = starts[i];
    const end = ends[i];
    while (stack.length > 0 && ends[stack[stack.length - 1]] < start) {
      const t = stack.pop() as number;
      emit(later(cursor, starts[t]), ends[t], values[t]);
      cursor = later(cursor, ends[t] + 1n);
    }
    if (stack.length > 0) {
      const t = stack[stack.length - 1];
      emit(later(cursor, starts[t]), start - 1n, values[t]);
    }
    cursor = start;
    // Ranges ending inside the new one are shadowed from here on; their earlier part is out.
    while (stack.length > 0 && ends[stack[stack.length - 1]] <= end) stack.pop();
    stack.push(i);
  }
  while (stack.length > 0) {
    const t = stack.pop() as number;
    emit(later(cursor, starts[t]), ends[t], values[t]);
    cursor = later(cursor, ends[t] + 1n);
  }
  return out;
}
