/**
 * Reads the fields NTA stores out of the record shapes MaxMind-format databases use:
 * - MaxMind GeoLite2/GeoIP2 City and Country:
 *   `{ country: { iso_code }, registered_country, city: { names }, location: { latitude, longitude } }`
 * - ip-location-db city mmdb (the bundled data):
 *   `{ country_code, city, state1, state2, postcode, latitude, longitude, timezone }` with '' for unknown
 * - MaxMind GeoLite2-ASN / ip-location-db asn mmdb: `{ autonomous_system_number, autonomous_system_organization }`,
 *   and GeoIP2 ISP/Enterprise, which carry the same two fields under `traits`.
 * Records come from files, so nothing is trusted: wrong types read as null.
 */
import type { AsnRecord } from './asn-csv-reader.js';

export interface CityFields {
  /** ISO 3166-1 alpha-2, upper case. */
  country: string | null;
  city: string | null;
  latitude: number | null;
  longitude: number | null;
}

type Obj = Record<string, unknown>;

function asObject(value: unknown): Obj | null {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Obj) : null;
}

function nonEmptyString(value: unknown): string | null {
  return typeof value === 'string' && value.length > 0 ? value : null;
}

/** Two upper-case ASCII letters, or null; lower case is accepted and raised. */
function countryCode(value: unknown): string | null {
  if (typeof value !== 'string' || value.length !== 2) return null;
  const code = value.toUpperCase();
  for (let i = 0; i < 2; i++) {
    const c = code.charCodeAt(i);
    if (c < 0x41 || c > 0x5a) return null;
  }
  return code;
}

function coordinate(value: unknown, limit: number): number | null {
  return typeof value === 'number' && Number.isFinite(value) && Math.abs(value) <= limit ? value : null;
}

/** English name when there is one, else any name (MaxMind `names` maps). */
function pickName(names: unknown): string | null {
  const map = asObject(names);
  if (map === null) return null;
  const english = nonEmptyString(map.en);
  if (english !== null) return english;
  for (const key in map) {
    const name = nonEmptyString(map[key]);
    if (name !== null) return name;
  }
  return null;
}

/** City fields from either record shape; null when the record says nothing we store. */
export function cityFieldsFromRecord(record: unknown): CityFields | null {
  const r = asObject(record);
  if (r === null) return null;
  let fields: CityFields;
  if ('country_code' in r || typeof r.city === 'string') {
    fields = {
      country: countryCode(r.country_code),
      city: nonEmptyString(r.city),
      latitude: coordinate(r.latitude, 90),
      longitude: coordinate(r.longitude, 180),
    };
  } else {
    const location = asObject(r.location);
    fields = {
      // Where MaxMind cannot place an address (anycast, satellite) it may give only the
      // country the block is registered to; that is still the best country we have.
      country: countryCode(asObject(r.country)?.iso_code) ?? countryCode(asObject(r.registered_country)?.iso_code),
      city: pickName(asObject(r.city)?.names),
      latitude: coordinate(location?.latitude, 90),
      longitude: coordinate(location?.longitude, 180),
    };
  }
  if (fields.latitude === null || fields.longitude === null) {
    fields.latitude = null;
    fields.longitude = null;
  }
  return fields.country === null && fields.city === null && fields.latitude === null ? null : fields;
}

/** ASN fields from a GeoLite2-ASN style record (top level or under `traits`). */
export function asnFromRecord(record: unknown): AsnRecord | null {
  const r = asObject(record);
  if (r === null) return null;
  const source = typeof r.autonomous_system_number === 'number' ? r : asObject(r.traits);
  const asn = source?.autonomous_system_number;
  if (typeof asn !== 'number' || !Number.isInteger(asn) || asn <= 0 || asn > 0xffffffff) return null;
  return { asn, org: nonEmptyString(source?.autonomous_system_organization) };
}
