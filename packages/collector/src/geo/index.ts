/** GeoIP enrichment: address scope, ASN table, and the resolver the collector uses. */
export { openGeoResolver } from './geo-resolver.js';
export type { GeoResolver, GeoResolverOptions, GeoResolverInfo, GeoDatabaseInfo, GeoInfo, GeoLogger } from './geo-resolver.js';
export { addressScope, ipv4Scope, ipv6Scope, embeddedIpv4 } from './address-scope.js';
export { AsnTable } from './asn-table.js';
export type { AsnRecord, AsnTableStats, AsnCsvStats } from './asn-table.js';
export { GeoDatabaseError } from './geo-errors.js';
export type { GeoDatabaseProblem } from './geo-errors.js';
export {
  BUNDLED_CITY_PACKAGE,
  BUNDLED_ASN_PACKAGE,
  GEOLITE2_LICENCE,
  GEOLITE2_ATTRIBUTION,
  ASN_CSV_LICENCE,
  ASN_CSV_ATTRIBUTION,
} from './bundled-databases.js';
