/**
 * A minimal MaxMind DB (format 2.0) writer for tests: builds real .mmdb files in MaxMind's
 * own record shapes (GeoLite2-City, GeoLite2-ASN) so the resolver's override path is tested
 * against the same `maxmind` reader it uses in production, without shipping MaxMind data.
 * Supports 24-bit records, maps, arrays, UTF-8 strings, doubles, unsigned integers, booleans.
 * Spec: https://maxmind.github.io/MaxMind-DB/
 */
import { parseIpv4 } from '@nta/shared';
import { parseIpv6 } from '../ip-parse.js';

export type MmdbValue = string | number | boolean | MmdbValue[] | { [key: string]: MmdbValue };

export interface MmdbWriteOptions {
  ipVersion: 4 | 6;
  databaseType: string;
  /** `network` is CIDR text, e.g. `81.2.69.0/24` or `2a02:ff00::/32`; IPv4 networks are allowed in IPv6 trees. */
  networks: Array<{ network: string; data: MmdbValue }>;
  buildEpochS?: number;
  description?: string;
}

const TYPE = { string: 2, double: 3, uint16: 5, uint32: 6, map: 7, uint64: 9, array: 11, boolean: 14 } as const;

function controlBytes(type: number, size: number): number[] {
  const head: number[] = [];
  let sizeBits: number;
  const extra: number[] = [];
  if (size < 29) sizeBits = size;
  else if (size < 29 + 256) {
    sizeBits = 29;
    extra.push(size - 29);
  } else if (size < 285 + 65536) {
    sizeBits = 30;
    const v = size - 285;
    extra.push(v >>> 8, v & 255);
  } else {
    sizeBits = 31;
    const v = size - 65821;
    extra.push(v >>> 16, (v >>> 8) & 255, v & 255);
  }
  if (type <= 7) head.push((type << 5) | sizeBits);
  else head.push(sizeBits, type - 7);
  return [...head, ...extra];
}

function unsignedBytes(value: bigint): number[] {
  const out: number[] = [];
  for (let v = value; v > 0n; v >>= 8n) out.unshift(Number(v & 255n));
  return out;
}

/** A uint64 value (only metadata's build_epoch needs one). */
class Uint64 {
  constructor(readonly value: bigint) {}
}

type Encodable = MmdbValue | Uint64 | { [key: string]: Encodable };

function encode(value: Encodable): number[] {
  if (value instanceof Uint64) {
    const bytes = unsignedBytes(value.value);
    return [...controlBytes(TYPE.uint64, bytes.length), ...bytes];
  }
  if (typeof value === 'string') {
    const bytes = [...Buffer.from(value, 'utf8')];
    return [...controlBytes(TYPE.string, bytes.length), ...bytes];
  }
  if (typeof value === 'boolean') return controlBytes(TYPE.boolean, value ? 1 : 0);
  if (typeof value === 'number') {
    if (Number.isInteger(value) && value >= 0 && value <= 0xffffffff) {
      const bytes = unsignedBytes(BigInt(value));
      return [...controlBytes(value <= 0xffff ? TYPE.uint16 : TYPE.uint32, bytes.length), ...bytes];
    }
    const b = Buffer.alloc(8);
    b.writeDoubleBE(value);
    return [...controlBytes(TYPE.double, 8), ...b];
  }
  if (Array.isArray(value)) return [...controlBytes(TYPE.array, value.length), ...value.flatMap(encode)];
  const entries = Object.entries(value);
  return [...controlBytes(TYPE.map, entries.length), ...entries.flatMap(([k, v]) => [...encode(k), ...encode(v)])];
}

interface TrieNode {
  children: [TrieChild, TrieChild];
}
type TrieChild = TrieNode | { dataOffset: number } | null;

/** Network → its bits (as bytes) and prefix length within a tree of `ipVersion`. */
function networkBits(network: string, ipVersion: 4 | 6): { bytes: number[]; prefix: number } {
  const [address, prefixText] = network.split('/');
  const prefix = Number(prefixText);
  const v4 = parseIpv4(address);
  if (v4 >= 0) {
    const bytes = [v4 >>> 24, (v4 >>> 16) & 255, (v4 >>> 8) & 255, v4 & 255];
    return ipVersion === 4 ? { bytes, prefix } : { bytes: [...new Array<number>(12).fill(0), ...bytes], prefix: prefix + 96 };
  }
  if (ipVersion === 4) throw new Error(`IPv6 network ${network} in an IPv4 tree`);
  const words = new Uint32Array(4);
  if (!parseIpv6(address, words)) throw new Error(`bad network ${network}`);
  return { bytes: [...words].flatMap((w) => [w >>> 24, (w >>> 16) & 255, (w >>> 8) & 255, w & 255]), prefix };
}

function insert(root: TrieNode, bytes: number[], prefix: number, dataOffset: number): void {
  let node = root;
  for (let depth = 0; depth < prefix; depth++) {
    const bit = (bytes[depth >> 3] >> (7 - (depth & 7))) & 1;
    if (depth === prefix - 1) {
      node.children[bit] = { dataOffset };
      return;
    }
    let child = node.children[bit];
    if (child === null || !('children' in child)) {
      // A less specific network already ends here: push its data down both branches.
      child = { children: [child, child] };
      node.children[bit] = child;
    }
    node = child;
  }
}

/** The bytes of a MaxMind DB file holding `networks`. */
export function writeMmdb(opts: MmdbWriteOptions): Buffer {
  const data: number[] = [];
  const root: TrieNode = { children: [null, null] };
  for (const { network, data: value } of opts.networks) {
    const offset = data.length;
    data.push(...encode(value));
    const { bytes, prefix } = networkBits(network, opts.ipVersion);
    insert(root, bytes, prefix, offset);
  }
  const nodes: TrieNode[] = [];
  const numbers = new Map<TrieNode, number>();
  for (let queue: TrieNode[] = [root]; queue.length > 0; ) {
    const node = queue.shift() as TrieNode;
    numbers.set(node, nodes.length);
    nodes.push(node);
    for (const child of node.children) if (child !== null && 'children' in child) queue.push(child);
  }
  const nodeCount = nodes.length;
  const recordValue = (child: TrieChild): number => {
    if (child === null) return nodeCount;
    if ('children' in child) return numbers.get(child) as number;
    return nodeCount + 16 + child.dataOffset;
  };
  const tree = Buffer.alloc(nodeCount * 6);
  nodes.forEach((node, i) => {
    tree.writeUIntBE(recordValue(node.children[0]), i * 6, 3);
    tree.writeUIntBE(recordValue(node.children[1]), i * 6 + 3, 3);
  });
  const metadata = encode({
    node_count: nodeCount,
    record_size: 24,
    ip_version: opts.ipVersion,
    database_type: opts.databaseType,
    languages: ['en'],
    binary_format_major_version: 2,
    binary_format_minor_version: 0,
    build_epoch: new Uint64(BigInt(opts.buildEpochS ?? 1_700_000_000)),
    description: { en: opts.description ?? `${opts.databaseType} test database` },
  });
  const marker = Buffer.from('abcdef4d61784d696e642e636f6d', 'hex');
  return Buffer.concat([tree, Buffer.alloc(16), Buffer.from(data), marker, Buffer.from(metadata)]);
}
