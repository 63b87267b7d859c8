/**
 * The uncached lookup: text address → scope → (public only) city database(s) and ASN source.
 * Non-public and unparseable addresses get shared frozen answers, so they cost no allocation.
 */
import { formatIpv4, formatIpv6Full, looksLikeIpv6, parseIpv4 } from '@nta/shared';
import type { AddressScope } from '../types.js';
import { embeddedIpv4, ipv4Scope, ipv6Scope } from './address-scope.js';
import type { AsnRecord } from './asn-csv-reader.js';
import { cityFieldsFromRecord } from './geo-records.js';
import { parseIpv6 } from './ip-parse.js';
import type { MmdbDatabase } from './mmdb-database.js';

export interface GeoInfo {
  scope: AddressScope;
  /** ISO 3166-1 alpha-2 for public addresses the database knows; null otherwise. */
  country: string | null;
  city: string | null;
  latitude: number | null;
  longitude: number | null;
  asn: number | null;
  asOrg: string | null;
}

/** What the cache holds per address: the answer and the label for the country column. */
export interface GeoEntry {
  info: Readonly<GeoInfo>;
  /** ISO code for public addresses (null when unknown), the scope name otherwise, null for non-addresses. */
  label: string | null;
}

/** Where ASNs come from: the CSV table (numeric lookups) or an ASN .mmdb (text lookups). */
export interface AsnSource {
  ipv4(addr: number, text: string): AsnRecord | null;
  ipv6(words: Uint32Array, text: string): AsnRecord | null;
}

function fixedEntry(scope: AddressScope, label: string | null): GeoEntry {
  const info: GeoInfo = { scope, country: null, city: null, latitude: null, longitude: null, asn: null, asOrg: null };
  return Object.freeze({ info: Object.freeze(info), label });
}

const SCOPES: readonly AddressScope[] = ['private', 'loopback', 'link-local', 'multicast', 'cgnat', 'reserved', 'documentation', 'unspecified'];
const NON_PUBLIC = new Map<AddressScope, GeoEntry>(SCOPES.map((scope) => [scope, fixedEntry(scope, scope)]));
/** Not an address at all: not routable, so 'reserved', but with no label to store. */
export const NOT_AN_ADDRESS: GeoEntry = fixedEntry('reserved', null);

export class GeoLookup {
  private readonly words = new Uint32Array(4);

  constructor(
    private readonly cityDatabases: readonly MmdbDatabase[],
    private readonly asnSource: () => AsnSource | null,
  ) {}

  resolve(ip: string): GeoEntry {
    let v4: number;
    const words = this.words;
    const textIsIpv4 = !looksLikeIpv6(ip);
    if (textIsIpv4) {
      v4 = parseIpv4(ip);
      if (v4 < 0) return NOT_AN_ADDRESS;
    } else {
      if (!parseIpv6(ip, words)) return NOT_AN_ADDRESS;
      v4 = embeddedIpv4(words);
    }
    const scope = v4 >= 0 ? ipv4Scope(v4) : ipv6Scope(words);
    if (scope !== 'public') return NON_PUBLIC.get(scope) as GeoEntry;

    // Canonical text for the mmdb reader, whose own parser is loose (zones, mapped forms);
    // IPv4 text that parsed is canonical already (parseIpv4 refuses leading zeros).
    const text = textIsIpv4 ? ip : v4 >= 0 ? formatIpv4(v4) : formatIpv6Full(words);
    let country: string | null = null;
    let city: string | null = null;
    let latitude: number | null = null;
    let longitude: number | null = null;
    for (const db of this.cityDatabases) {
      // An IPv4-only tree would answer an IPv6 address from its first 32 bits: wrong, so skip it.
      if (db.ipVersion === 4 && v4 < 0) continue;
      const fields = cityFieldsFromRecord(db.get(text));
      if (fields === null) continue;
      ({ country, city, latitude, longitude } = fields);
      break;
    }
    const source = this.asnSource();
    const as = source === null ? null : v4 >= 0 ? source.ipv4(v4, text) : source.ipv6(words, text);
    const info: GeoInfo = { scope, country, city, latitude, longitude, asn: as?.asn ?? null, asOrg: as?.org ?? null };
    return { info: Object.freeze(info), label: country };
  }
}
