import { describe, expect, it } from 'vitest';
import { feature } from 'topojson-client';
import type { GeometryCollection, Topology } from 'topojson-specification';
import atlas from 'world-atlas/countries-110m.json';
import { atlasAlpha2, countryName, locationName } from './countries.js';

describe('countries', () => {
  it('maps every country of the bundled atlas to an ISO alpha-2 code GeoIP would report', () => {
    const topo = atlas as unknown as Topology<{ countries: GeometryCollection<{ name: string }> }>;
    const features = (feature(topo, topo.objects.countries) as unknown as { features: { id?: string; properties: { name: string } }[] }).features;
    const unmapped = features.filter((f) => atlasAlpha2(f.id, f.properties.name) === null).map((f) => f.properties.name);
    expect(unmapped).toEqual([]);
    const byName = new Map(features.map((f) => [f.properties.name, atlasAlpha2(f.id, f.properties.name)]));
    expect(byName.get('Germany')).toBe('DE');
    expect(byName.get('United States of America')).toBe('US');
    expect(byName.get('Brazil')).toBe('BR');
    expect(byName.get('Kosovo')).toBe('XK');
  });

  it('names countries and scopes in words', () => {
    expect(countryName('DE')).toBe('Germany');
    expect(locationName('private')).toBe('Private networks');
    expect(locationName(null)).toBe('Unknown location');
  });
});
