/** ISO 3166 country codes: the world atlas names countries by numeric code, GeoIP by alpha-2. */
import codes from 'i18n-iso-countries/codes.json';

const numericToAlpha2 = new Map<string, string>((codes as string[][]).map((c) => [c[2]!, c[0]!]));

/** Countries the atlas draws without a numeric id, by the atlas's own name. */
const BY_ATLAS_NAME: Record<string, string> = { Kosovo: 'XK', 'N. Cyprus': 'CY', Somaliland: 'SO' };

export function atlasAlpha2(id: string | number | undefined, name: string | undefined): string | null {
  if (id !== undefined && id !== null) {
    const a2 = numericToAlpha2.get(String(id).padStart(3, '0'));
    if (a2) return a2;
  }
  return (name && BY_ATLAS_NAME[name]) || null;
}

let names: Intl.DisplayNames | null = null;
export function countryName(alpha2: string): string {
  try {
    names ??= new Intl.DisplayNames(['en'], { type: 'region' });
    return names.of(alpha2.toUpperCase()) ?? alpha2;
  } catch {
    return alpha2;
  }
}

const SCOPE_NAMES: Record<string, string> = {
  private: 'Private networks',
  loopback: 'Loopback',
  'link-local': 'Link-local',
  multicast: 'Multicast',
  cgnat: 'Carrier-grade NAT',
  documentation: 'Documentation ranges',
  reserved: 'Reserved',
  unspecified: 'Unspecified',
};

/** A country code or scope label in words. */
export function locationName(code: string | null): string {
  if (!code) return 'Unknown location';
  if (SCOPE_NAMES[code]) return SCOPE_NAMES[code]!;
  return /^[A-Za-z]{2}$/.test(code) ? countryName(code) : code;
}
