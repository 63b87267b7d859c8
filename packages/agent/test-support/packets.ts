/**
 * Builders of raw packet bytes for unit tests: each layer is written the way it is on
 * the wire, so tests exercise the decoders on real byte layouts.
 */
export type Bytes = number[];

export function ipv4(addr: string): Bytes {
  return addr.split('.').map(Number);
}

export function ipv6(addr: string): Bytes {
  const [head, tail] = addr.includes('::') ? addr.split('::') : [addr, ''];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = [...h, ...Array(8 - h.length - t.length).fill('0'), ...t].map((g) => parseInt(g, 16));
  return groups.flatMap((g) => [g >> 8, g & 255]);
}

const u16 = (v: number): Bytes => [(v >> 8) & 255, v & 255];

export function tcp(sport: number, dport: number, flags: string, payload: Bytes = []): { proto: number; bytes: Bytes } {
  const bits = { F: 1, S: 2, R: 4, P: 8, A: 16, U: 32 } as Record<string, number>;
  const f = [...flags].reduce((acc, c) => acc | (bits[c] ?? 0), 0);
  return { proto: 6, bytes: [...u16(sport), ...u16(dport), 0, 0, 0, 1, 0, 0, 0, 0, 0x50, f, 0xff, 0xff, 0, 0, 0, 0, ...payload] };
}

export function udp(sport: number, dport: number, payload: Bytes = []): { proto: number; bytes: Bytes } {
  return { proto: 17, bytes: [...u16(sport), ...u16(dport), ...u16(8 + payload.length), 0, 0, ...payload] };
}

export function icmp(type: number, code: number, rest: Bytes = [0, 1, 0, 1]): { proto: number; bytes: Bytes } {
  return { proto: 1, bytes: [type, code, 0, 0, ...rest] };
}

export function ipv4Packet(src: string, dst: string, l4: { proto: number; bytes: Bytes }, opts: { fragOffset?: number; moreFragments?: boolean } = {}): Bytes {
  const total = 20 + l4.bytes.length;
  const frag = ((opts.moreFragments ? 0x2000 : 0) | ((opts.fragOffset ?? 0) & 0x1fff)) >>> 0;
  return [0x45, 0, ...u16(total), 0, 1, ...u16(frag), 64, l4.proto, 0, 0, ...ipv4(src), ...ipv4(dst), ...l4.bytes];
}

export function ipv6Packet(src: string, dst: string, l4: { proto: number; bytes: Bytes }, extensions: Array<{ type: number; bytes: Bytes }> = []): Bytes {
  // Chain: fixed header -> extensions (each names the next) -> transport.
  const chain = [...extensions.map((e) => e.type), l4.proto];
  const ext = extensions.flatMap((e, i) => [chain[i + 1], ...e.bytes]);
  const payload = [...ext, ...l4.bytes];
  return [0x60, 0, 0, 0, ...u16(payload.length), chain[0], 64, ...ipv6(src), ...ipv6(dst), ...payload];
}

export function ethernet(etherType: number, payload: Bytes, vlanTags: Array<{ tpid: number; vid: number }> = []): Bytes {
  const tags = vlanTags.flatMap((t) => [...u16(t.tpid), ...u16(t.vid)]);
  return [2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, ...tags, ...u16(etherType), ...payload];
}

export function linuxSll(protocol: number, payload: Bytes): Bytes {
  return [0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0, ...u16(protocol), ...payload];
}

export function linuxSll2(protocol: number, payload: Bytes): Bytes {
  return [...u16(protocol), 0, 0, 0, 0, 0, 2, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0, ...payload];
}

export const bytes = (b: Bytes): Uint8Array => Uint8Array.from(b);
