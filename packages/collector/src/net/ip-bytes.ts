/**
 * Address text to network-order bytes, for binary COPY and in-memory matching. Input has
 * passed the wire schema's zod ipv4/ipv6 check; anything unparsable still yields null
 * rather than a throw.
 */
export function ipToBytes(text: string): Uint8Array | null {
  return text.includes(':') ? ipv6ToBytes(text) : ipv4ToBytes(text);
}

export function ipv4ToBytes(text: string, out: Uint8Array = new Uint8Array(4), offset = 0): Uint8Array | null {
  let part = 0;
  let digits = 0;
  let index = 0;
  for (let i = 0; i <= text.length; i++) {
    const c = i < text.length ? text.charCodeAt(i) : 46;
    if (c === 46) {
      if (digits === 0 || index > 3) return null;
      out[offset + index++] = part;
      part = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      part = part * 10 + (c - 48);
      if (++digits > 3 || part > 255) return null;
    } else {
      return null;
    }
  }
  return index === 4 ? out : null;
}

export function ipv6ToBytes(text: string): Uint8Array | null {
  if (text.includes('%')) return null;
  const out = new Uint8Array(16);
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const head = halves[0] === '' ? [] : halves[0]!.split(':');
  const tail = halves.length === 2 ? (halves[1] === '' ? [] : halves[1]!.split(':')) : [];
  const words: number[] = [];
  const parseGroups = (groups: string[], into: number[]): boolean => {
    for (let g = 0; g < groups.length; g++) {
      const group = groups[g]!;
      if (g === groups.length - 1 && group.includes('.')) {
        const v4 = ipv4ToBytes(group);
        if (!v4) return false;
        into.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
        continue;
      }
      if (!/^[0-9a-fA-F]{1,4}$/.test(group)) return false;
      into.push(parseInt(group, 16));
    }
    return true;
  };
  const tailWords: number[] = [];
  if (!parseGroups(head, words) || !parseGroups(tail, tailWords)) return null;
  if (halves.length === 1 && words.length !== 8) return null;
  if (words.length + tailWords.length > (halves.length === 2 ? 7 : 8)) return null;
  words.forEach((w, i) => {
    out[i * 2] = w >> 8;
    out[i * 2 + 1] = w & 0xff;
  });
  const start = 8 - tailWords.length;
  tailWords.forEach((w, i) => {
    out[(start + i) * 2] = w >> 8;
    out[(start + i) * 2 + 1] = w & 0xff;
  });
  return out;
}
