/**
 * Opens a MaxMind-format (.mmdb) file with the `maxmind` reader and checks it is usable
 * before anyone relies on it: the reader itself accepts some damaged files (a truncated
 * search tree only fails at lookup time), so the metadata is checked against the file size
 * and a few probe lookups run here, where a failure can still name the file.
 */
import { readFile } from 'node:fs/promises';
import { Reader } from 'maxmind';
import type { Response } from 'maxmind';
import { GeoDatabaseError, geoFileError } from './geo-errors.js';
import { GenerationalCache } from './generational-cache.js';

export interface MmdbDatabase {
  path: string;
  /** 4: IPv4 addresses only (a v6 address would walk the wrong tree); 6: both. */
  ipVersion: 4 | 6;
  databaseType: string;
  buildEpoch: Date;
  /** The record for an address in canonical text form; null when absent or unreadable. */
  get(ip: string): unknown;
  /** Lookups that threw inside the reader (a damaged file); counted, never thrown. */
  readonly lookupErrors: number;
}

const DATA_SECTION_SEPARATOR_BYTES = 16;
/** Decoded records shared by neighbouring addresses; the resolver caches per address in front. */
const RECORD_CACHE_ENTRIES = 4096;
const PROBES_V4 = ['1.1.1.1', '8.8.8.8', '81.2.69.142', '223.255.255.255'];
const PROBES_V6 = ['2001:4860:4860::8888', '2a00:1450:4001::1', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'];

export async function openMmdb(path: string): Promise<MmdbDatabase> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw geoFileError(path, err);
  }
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    throw new GeoDatabaseError(path, 'corrupt', 'is gzip-compressed; decompress it to a plain .mmdb file');
  }
  let reader: Reader<Response>;
  try {
    reader = new Reader<Response>(bytes, { cache: new GenerationalCache<string | number, unknown>(RECORD_CACHE_ENTRIES) });
  } catch (err) {
    throw new GeoDatabaseError(path, 'corrupt', `not a MaxMind DB file (${err instanceof Error ? err.message : String(err)})`, { cause: err });
  }
  const m = reader.metadata;
  if (m.ipVersion !== 4 && m.ipVersion !== 6) throw new GeoDatabaseError(path, 'corrupt', `unsupported ip_version ${String(m.ipVersion)}`);
  if (!Number.isInteger(m.nodeCount) || m.nodeCount <= 0 || m.searchTreeSize + DATA_SECTION_SEPARATOR_BYTES > bytes.length) {
    throw new GeoDatabaseError(path, 'corrupt', `search tree (${m.nodeCount} nodes) does not fit in ${bytes.length} bytes; truncated?`);
  }
  const ipVersion = m.ipVersion;
  for (const probe of ipVersion === 6 ? [...PROBES_V4, ...PROBES_V6] : PROBES_V4) {
    try {
      reader.get(probe);
    } catch (err) {
      throw new GeoDatabaseError(path, 'corrupt', `lookup of ${probe} failed (${err instanceof Error ? err.message : String(err)})`, { cause: err });
    }
  }
  let lookupErrors = 0;
  return {
    path,
    ipVersion,
    databaseType: typeof m.databaseType === 'string' ? m.databaseType : 'unknown',
    buildEpoch: m.buildEpoch,
    get(ip: string): unknown {
      try {
        return reader.get(ip);
      } catch {
        lookupErrors++;
        return null;
      }
    },
    get lookupErrors() {
      return lookupErrors;
    },
  };
}
