import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AddressScope } from '../types.js';
import { GeoDatabaseError } from './geo-errors.js';
import { openGeoResolver } from './geo-resolver.js';
import type { GeoResolver } from './geo-resolver.js';
import { writeMmdb } from './testing/mmdb-writer.js';
import type { MmdbWriteOptions } from './testing/mmdb-writer.js';

const dir = mkdtempSync(join(tmpdir(), 'nta-geo-'));
function file(name: string, content: string | Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

const NON_PUBLIC: Array<[string, AddressScope]> = [
  ['10.0.0.1', 'private'],
  ['172.16.0.0', 'private'],
  ['192.168.1.1', 'private'],
  ['fd00::1', 'private'],
  ['::ffff:10.0.0.1', 'private'],
  ['127.0.0.1', 'loopback'],
  ['::1', 'loopback'],
  ['169.254.1.1', 'link-local'],
  ['fe80::1', 'link-local'],
  ['224.0.0.251', 'multicast'],
  ['ff02::fb', 'multicast'],
  ['100.64.0.0', 'cgnat'],
  ['192.0.2.1', 'documentation'],
  ['2001:db8::1', 'documentation'],
  ['0.0.0.0', 'unspecified'],
  ['::', 'unspecified'],
  ['255.255.255.255', 'reserved'],
  ['198.18.0.1', 'reserved'],
];

const GARBAGE = ['', 'garbage', '1.2.3', '1.2.3.4.5', '999.1.1.1', ':::', '1::2::3', '8.8.8.8/32', ' 8.8.8.8', '%', 'x'.repeat(100_000)];

describe('geo-resolver (bundled npm databases)', () => {
  let geo: GeoResolver;
  beforeAll(async () => {
    geo = await openGeoResolver();
  });
  afterAll(() => geo.close());

  it('geo-resolver - 8.8.8.8 is in the US, AS15169 Google', () => {
    const info = geo.lookup('8.8.8.8');
    expect(info).toMatchObject({ scope: 'public', country: 'US', asn: 15169, asOrg: 'Google LLC' });
    expect(info.latitude).toBeTypeOf('number');
    expect(info.longitude).toBeTypeOf('number');
    expect(geo.countryLabel('8.8.8.8')).toBe('US');
    expect(geo.asn('8.8.8.8')).toBe(15169);
  });

  it('geo-resolver - 1.1.1.1 is AS13335 Cloudflare', () => {
    expect(geo.lookup('1.1.1.1')).toMatchObject({ scope: 'public', asn: 13335, asOrg: 'Cloudflare, Inc.' });
  });

  it('geo-resolver - IPv6 2001:4860:4860::8888 is in the US, AS15169', () => {
    expect(geo.lookup('2001:4860:4860::8888')).toMatchObject({ scope: 'public', country: 'US', asn: 15169 });
  });

  it('geo-resolver - an IPv4-mapped IPv6 address gets the IPv4 answer', () => {
    expect(geo.lookup('::ffff:8.8.8.8')).toEqual(geo.lookup('8.8.8.8'));
  });

  it('geo-resolver - does not ask the IPv4-only file about IPv6 addresses', () => {
    // Through the IPv4 file, 2a00:1450:4001:80b::200e reads as CN (its first 32 bits); the IPv6 file says DE.
    expect(geo.lookup('2a00:1450:4001:80b::200e').country).toBe('DE');
  });

  it.each(NON_PUBLIC)('geo-resolver - %s is %s, labelled so, with no database answer', (ip, scope) => {
    expect(geo.lookup(ip)).toEqual({ scope, country: null, city: null, latitude: null, longitude: null, asn: null, asOrg: null });
    expect(geo.countryLabel(ip)).toBe(scope);
    expect(geo.asn(ip)).toBeNull();
  });

  it('geo-resolver - garbage is reserved with a null label, never a throw', () => {
    for (const text of GARBAGE) {
      expect(geo.lookup(text)).toMatchObject({ scope: 'reserved', country: null, asn: null });
      expect(geo.countryLabel(text)).toBeNull();
      expect(geo.asn(text)).toBeNull();
    }
  });

  it('geo-resolver - info() lists the bundled databases with build time and licence', () => {
    const { databases } = geo.info();
    const city = databases.filter((d) => d.role === 'city');
    expect(city.map((d) => d.databaseType)).toEqual(['city ipv4', 'city ipv6']);
    for (const d of city) {
      expect(d).toMatchObject({ format: 'mmdb', source: 'bundled', state: 'ready' });
      expect(d.licence).toMatch(/GeoLite2.*CC BY-SA 4\.0/);
      expect(Date.parse(d.buildEpoch ?? '')).toBeGreaterThan(Date.parse('2020-01-01'));
      expect(d.package).toMatch(/^@ip-location-db\/geolite2-city-mmdb@/);
    }
    const asn = databases.find((d) => d.role === 'asn');
    expect(asn).toMatchObject({ format: 'csv', source: 'bundled', state: 'ready', skippedRows: 0 });
    expect(asn?.licence).toMatch(/CC BY 4\.0/);
    expect(asn?.attribution).toMatch(/db-ip\.com/);
    expect(asn?.ranges).toBeGreaterThan(400_000);
  });

  it('geo-resolver - measures lookups per second (log only)', () => {
    const distinct: string[] = [];
    for (let i = 0; i < 100_000; i++) distinct.push(`${1 + (i % 222)}.${(i * 7) & 255}.${(i >> 8) & 255}.${(i * 13) & 255}`);
    let t0 = performance.now();
    for (const ip of distinct) geo.lookup(ip);
    const missRate = distinct.length / ((performance.now() - t0) / 1000);
    const hot = distinct.slice(0, 1000);
    t0 = performance.now();
    for (let round = 0; round < 200; round++) for (const ip of hot) geo.countryLabel(ip);
    const hitRate = (hot.length * 200) / ((performance.now() - t0) / 1000);
    console.log(`geo-resolver: ${Math.round(missRate)} lookups/s uncached (city + ASN), ${Math.round(hitRate)} lookups/s cached`);
    expect(geo.info().cache.hits).toBeGreaterThan(0);
  });
});

const maxmindCity: MmdbWriteOptions = {
  ipVersion: 6,
  databaseType: 'GeoLite2-City',
  networks: [
    {
      network: '81.2.69.0/24',
      data: {
        city: { geoname_id: 2655045, names: { de: 'Bracknell', en: 'Bracknell' } },
        country: { geoname_id: 2635167, iso_code: 'GB', names: { en: 'United Kingdom' } },
        registered_country: { geoname_id: 2635167, iso_code: 'GB', names: { en: 'United Kingdom' } },
        location: { accuracy_radius: 20, latitude: 51.4, longitude: -0.76, time_zone: 'Europe/London' },
        subdivisions: [{ iso_code: 'ENG', names: { en: 'England' } }],
      },
    },
    {
      network: '2a02:ff00::/32',
      data: { city: { names: { de: 'Rom' } }, country: { iso_code: 'IT', names: { en: 'Italy' } }, location: { latitude: 41.9, longitude: 12.5 } },
    },
    { network: '1.1.1.0/24', data: { registered_country: { iso_code: 'AU', names: { en: 'Australia' } } } },
  ],
};

const maxmindAsn: MmdbWriteOptions = {
  ipVersion: 6,
  databaseType: 'GeoLite2-ASN',
  networks: [
    { network: '81.2.69.0/24', data: { autonomous_system_number: 20712, autonomous_system_organization: 'Andrews & Arnold Ltd' } },
    { network: '2a02:ff00::/32', data: { autonomous_system_number: 12874, autonomous_system_organization: 'Fastweb' } },
  ],
};

describe('geo-resolver (operator MaxMind databases)', () => {
  let geo: GeoResolver;
  let cityPath: string;
  beforeAll(async () => {
    cityPath = file('GeoLite2-City.mmdb', writeMmdb({ ...maxmindCity, buildEpochS: 1_750_000_000 }));
    geo = await openGeoResolver({ cityDbPaths: [cityPath], asnDbPath: file('GeoLite2-ASN.mmdb', writeMmdb(maxmindAsn)) });
  });

  it('geo-resolver - reads MaxMind record shapes for IPv4', () => {
    expect(geo.lookup('81.2.69.142')).toEqual({
      scope: 'public',
      country: 'GB',
      city: 'Bracknell',
      latitude: 51.4,
      longitude: -0.76,
      asn: 20712,
      asOrg: 'Andrews & Arnold Ltd',
    });
  });

  it('geo-resolver - reads MaxMind record shapes for IPv6, with a non-English city name', () => {
    expect(geo.lookup('2a02:ff00::1')).toMatchObject({ country: 'IT', city: 'Rom', latitude: 41.9, asn: 12874, asOrg: 'Fastweb' });
  });

  it('geo-resolver - falls back to the registered country when there is no located one', () => {
    expect(geo.lookup('1.1.1.1')).toMatchObject({ country: 'AU', city: null, latitude: null, longitude: null, asn: null });
  });

  it('geo-resolver - an address the database lacks is public with nulls', () => {
    expect(geo.lookup('9.9.9.9')).toEqual({ scope: 'public', country: null, city: null, latitude: null, longitude: null, asn: null, asOrg: null });
    expect(geo.countryLabel('9.9.9.9')).toBeNull();
  });

  it('geo-resolver - info() names the operator files, their type, build time and licence', () => {
    const { databases } = geo.info();
    expect(databases).toEqual([
      expect.objectContaining({ role: 'city', source: 'override', paths: [cityPath], databaseType: 'GeoLite2-City', buildEpoch: new Date(1_750_000_000_000).toISOString() }),
      expect.objectContaining({ role: 'asn', format: 'mmdb', databaseType: 'GeoLite2-ASN' }),
    ]);
    expect(databases[0].licence).toMatch(/GeoLite2/);
  });

  it('geo-resolver - skips an IPv4-only database for IPv6 addresses', async () => {
    const v4only = file('v4only.mmdb', writeMmdb({ ipVersion: 4, databaseType: 'GeoIP2-Country', networks: [{ network: '32.0.0.0/3', data: { country: { iso_code: 'US' } } }] }));
    const r = await openGeoResolver({ cityDbPaths: [v4only], asnCsvPaths: [] });
    expect(r.countryLabel('33.0.0.1')).toBe('US');
    expect(r.countryLabel('2a00:1450::1')).toBeNull(); // its first 32 bits fall in 32.0.0.0/3
  });
});

describe('geo-resolver (failures and limits)', () => {
  const asnCsv = file('small-asn.csv', '8.8.8.0,8.8.8.255,15169,Google LLC\n2001:4860::,2001:4860:ffff:ffff:ffff:ffff:ffff:ffff,15169,Google LLC\n');

  it('geo-resolver - a missing override path is an error naming it', async () => {
    const missing = join(dir, 'nope', 'GeoLite2-City.mmdb');
    const err = await openGeoResolver({ cityDbPaths: [missing], asnCsvPaths: [] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GeoDatabaseError);
    expect(err).toMatchObject({ path: missing, problem: 'missing' });
    expect((err as Error).message).toContain(missing);
    await expect(openGeoResolver({ cityDbPaths: [], asnDbPath: missing })).rejects.toMatchObject({ path: missing });
    await expect(openGeoResolver({ cityDbPaths: [], asnCsvPaths: [missing] })).rejects.toMatchObject({ path: missing, problem: 'missing' });
  });

  it('geo-resolver - corrupt, truncated, gzipped or directory paths are errors naming them', async () => {
    const whole = writeMmdb(maxmindCity);
    const marker = whole.lastIndexOf(Buffer.from('abcdef4d61784d696e642e636f6d', 'hex'));
    const cases = {
      random: file('random.mmdb', Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) & 255))),
      empty: file('empty.mmdb', ''),
      truncated: file('truncated.mmdb', whole.subarray(marker - 8)),
      gzipped: file('city.mmdb.gz', gzipSync(whole)),
      csvAsMmdb: file('asn.mmdb', '1.0.0.0,1.0.0.255,13335,Cloudflare\n'),
    };
    for (const [name, path] of Object.entries(cases)) {
      const err = await openGeoResolver({ cityDbPaths: [path], asnCsvPaths: [] }).catch((e: unknown) => e);
      expect(err, name).toBeInstanceOf(GeoDatabaseError);
      expect(err, name).toMatchObject({ path, problem: 'corrupt' });
      expect((err as Error).message, name).toContain(path);
    }
    const directory = join(dir, 'a-directory');
    mkdirSync(directory);
    await expect(openGeoResolver({ cityDbPaths: [directory], asnCsvPaths: [] })).rejects.toMatchObject({ path: directory, problem: 'unreadable' });
  });

  it('geo-resolver - the cache stays within its size and counts hits', async () => {
    const r = await openGeoResolver({ cityDbPaths: [], asnCsvPaths: [asnCsv], cacheSize: 1000 });
    for (let i = 0; i < 20_000; i++) r.lookup(`8.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
    for (let i = 0; i < 10; i++) r.lookup('8.8.8.8');
    const { cache } = r.info();
    expect(cache.size).toBeLessThanOrEqual(1000);
    expect(cache.capacity).toBe(1000);
    expect(cache.hits).toBeGreaterThanOrEqual(9);
    expect(r.asn('8.8.8.8')).toBe(15169);
  });

  it('geo-resolver - garbage and outsized keys do not enter the cache', async () => {
    const r = await openGeoResolver({ cityDbPaths: [], asnCsvPaths: [], cacheSize: 1000 });
    for (let i = 0; i < 500; i++) {
      expect(r.countryLabel(`not-an-ip-${i}`)).toBeNull();
      expect(r.countryLabel(`fe80::${i.toString(16)}%${'z'.repeat(1000)}`)).toBe('link-local');
    }
    expect(r.info().cache.size).toBe(0);
  });

  it('geo-resolver - background ASN loading: null until ready, then the ASN, with cached answers refreshed', async () => {
    const logged: string[] = [];
    const logger = { info: (_o: object, msg: string) => logged.push(msg), warn: (_o: object, msg: string) => logged.push(msg) };
    const r = await openGeoResolver({ cityDbPaths: [], asnCsvPaths: [asnCsv], loadAsnInBackground: true, logger });
    expect(r.asn('8.8.8.8')).toBeNull();
    expect(r.info().databases[0].state).toBe('loading');
    await r.ready;
    expect(r.asn('8.8.8.8')).toBe(15169);
    expect(r.asn('2001:4860::1')).toBe(15169);
    expect(r.info().databases[0].state).toBe('ready');
    expect(logged).toContain('ASN table loaded');
  });

  it('geo-resolver - a background ASN load that fails leaves geo running and says why', async () => {
    const bad = file('bad-asn.csv', 'this is not,an asn file\n');
    const warnings: Array<Record<string, unknown>> = [];
    const logger = { info: () => {}, warn: (o: Record<string, unknown>) => warnings.push(o) };
    const r = await openGeoResolver({ cityDbPaths: [], asnCsvPaths: [bad], loadAsnInBackground: true, logger });
    await r.ready;
    const [asn] = r.info().databases;
    expect(asn).toMatchObject({ state: 'failed' });
    expect(asn.error).toContain(bad);
    expect(warnings).toHaveLength(1);
    expect(r.lookup('8.8.8.8')).toMatchObject({ scope: 'public', asn: null });
  });
});
