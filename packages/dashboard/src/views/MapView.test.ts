import { describe, expect, it } from 'vitest';
import { maliciousCountries, threatPoints } from './MapView.js';
import type { Flow, GeoDetail } from '../lib/api-types.js';

const geo = (lat: number, lon: number, country: string): GeoDetail => ({ scope: 'public', country, city: null, latitude: lat, longitude: lon, asn: null, asOrg: null });

const flow = (over: Partial<Flow>): Flow => ({ src: '10.0.0.1', dst: '185.220.101.1', srcCountry: 'private', dstCountry: 'DE', level: 'normal', threat: null, srcGeo: null, dstGeo: geo(51, 9, 'DE'), ...over }) as Flow;

describe('map points and red countries', () => {
  it('places the listed end of a feed hit, not its private peer, once per address', () => {
    const pts = threatPoints([flow({ threat: 'firehol', level: 'malicious' }), flow({ threat: 'firehol', level: 'malicious', src: '10.0.0.2' })]);
    expect(pts.map((p) => [p.addr, p.lat, p.lon])).toEqual([['185.220.101.1', 51, 9]]);
    expect(pts[0]!.label).toMatch(/^listed by firehol/);
  });

  it('marks both public ends of a malicious flow as activity, and skips ends without coordinates', () => {
    const pts = threatPoints([flow({ level: 'malicious', src: '203.0.113.5', srcCountry: 'US', srcGeo: geo(40, -100, 'US') }), flow({ level: 'suspicious', dst: '8.8.8.8' })]);
    expect(pts.map((p) => p.addr)).toEqual(['203.0.113.5', '185.220.101.1']);
    expect(pts.every((p) => p.label.startsWith('in malicious traffic'))).toBe(true);
    expect(threatPoints([flow({ threat: 'x', dstGeo: null })])).toEqual([]);
  });

  it('turns the countries of malicious flows red, not those of normal or suspicious ones', () => {
    const set = maliciousCountries([flow({ level: 'malicious', srcCountry: 'us' }), flow({ level: 'suspicious', dstCountry: 'FR' })]);
    expect([...set].sort()).toEqual(['DE', 'US']);
  });
});
