/**
 * Traffic by country on a world map drawn from the bundled Natural Earth atlas (world-atlas,
 * 1:110m) with d3-geo: no tile server. Fill follows bytes on a log scale; a country with
 * threat-listed traffic is red; red points mark known-bad endpoints with coordinates.
 */
import { useMemo, useState, type CSSProperties, type MouseEvent } from 'react';
import { geoEqualEarth, geoPath, geoGraticule10 } from 'd3-geo';
import { feature } from 'topojson-client';
import type { Feature, FeatureCollection, Geometry } from 'geojson';
import type { GeometryCollection, Topology } from 'topojson-specification';
import atlas from 'world-atlas/countries-110m.json';
import { atlasAlpha2, countryName } from '../lib/countries.js';
import { formatBytes, formatExact } from '../lib/format.js';
import { trafficIntensity, type GeoSplit } from '../lib/transforms.js';
import type { GeoCountry } from '../lib/api-types.js';

const WIDTH = 960;
const HEIGHT = 470;

interface CountryShape {
  key: string;
  alpha2: string | null;
  name: string;
  d: string;
}

let shapesCache: CountryShape[] | null = null;
const projection = geoEqualEarth().fitExtent(
  [
    [8, 8],
    [WIDTH - 8, HEIGHT - 8],
  ],
  { type: 'Sphere' },
);
const path = geoPath(projection);

function countryShapes(): CountryShape[] {
  if (shapesCache) return shapesCache;
  const topo = atlas as unknown as Topology<{ countries: GeometryCollection<{ name: string }> }>;
  const fc = feature(topo, topo.objects.countries) as FeatureCollection<Geometry, { name: string }>;
  shapesCache = fc.features.map((f: Feature<Geometry, { name: string }>, i) => {
    const alpha2 = atlasAlpha2(f.id as string | undefined, f.properties?.name);
    return { key: `${f.id ?? 'x'}-${i}`, alpha2, name: alpha2 ? countryName(alpha2) : (f.properties?.name ?? 'Unknown'), d: path(f) ?? '' };
  });
  return shapesCache;
}

export interface MapPoint {
  lat: number;
  lon: number;
  addr: string;
  label: string;
}

interface Hover {
  x: number;
  y: number;
  width?: number;
  height?: number;
  name: string;
  alpha2: string | null;
  stats: GeoCountry | undefined;
  point?: MapPoint;
}

/** Beside the pointer, flipped to the other side in the right or bottom half so it stays on screen. */
function hoverStyle(h: { x: number; y: number; width?: number; height?: number }): CSSProperties {
  const flipX = h.width !== undefined && h.x > h.width / 2;
  const flipY = h.height !== undefined && h.y > h.height / 2;
  return { left: h.x + (flipX ? -14 : 14), top: h.y + (flipY ? -14 : 14), transform: `translate(${flipX ? '-100%' : '0'}, ${flipY ? '-100%' : '0'})` };
}

export function WorldMap({ geo, points, maliciousCountries = new Set(), onSelect }: { geo: GeoSplit; points: readonly MapPoint[]; maliciousCountries?: ReadonlySet<string>; onSelect?(alpha2: string): void }) {
  const shapes = useMemo(countryShapes, []);
  const graticule = useMemo(() => path(geoGraticule10()) ?? '', []);
  const [hover, setHover] = useState<Hover | null>(null);

  const place = (e: MouseEvent, h: Omit<Hover, 'x' | 'y'>) => {
    const box = (e.currentTarget as SVGElement).ownerSVGElement?.getBoundingClientRect() ?? (e.currentTarget as SVGElement).getBoundingClientRect();
    setHover({ ...h, x: e.clientX - box.left, y: e.clientY - box.top, width: box.width, height: box.height });
  };

  const placeAtShape = (el: SVGGraphicsElement, h: Omit<Hover, 'x' | 'y'>) => {
    const svgBox = el.ownerSVGElement?.getBoundingClientRect();
    const box = el.getBoundingClientRect();
    if (!svgBox) return;
    setHover({ ...h, x: box.left + box.width / 2 - svgBox.left, y: box.top + box.height / 2 - svgBox.top, width: svgBox.width, height: svgBox.height });
  };

  return (
    <div className="relative w-full" data-testid="world-map">
      <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} className="h-auto w-full" role="img" aria-label="Traffic by country">
        <path d={path({ type: 'Sphere' }) ?? ''} fill="#050a08" stroke="#2b4538" />
        <path d={graticule} fill="none" stroke="#39ff8812" />
        {shapes.map((s) => {
          const stats = s.alpha2 ? geo.countries.get(s.alpha2) : undefined;
          const threat = (stats?.threatFlows ?? 0) > 0 || (s.alpha2 !== null && maliciousCountries.has(s.alpha2));
          const k = stats ? trafficIntensity(stats.bytes, geo.maxBytes) : 0;
          const fill = threat ? `rgba(255,77,109,${0.35 + 0.55 * k})` : stats ? `rgba(57,255,136,${0.12 + 0.78 * k})` : '#1a2c23';
          return (
            <path
              key={s.key}
              d={s.d}
              fill={fill}
              stroke={threat ? '#ff4d6d' : '#4d7463'}
              strokeWidth={threat ? 1 : 0.5}
              data-country={s.alpha2 ?? ''}
              data-threat={threat ? 'true' : undefined}
              className="cursor-pointer transition-[fill] outline-none hover:brightness-150 focus-visible:brightness-150 focus-visible:[stroke:#39ff88] focus-visible:[stroke-width:1.5]"
              onMouseMove={(e) => place(e, { name: s.name, alpha2: s.alpha2, stats })}
              onMouseLeave={() => setHover(null)}
              onClick={() => s.alpha2 && stats && onSelect?.(s.alpha2)}
              // Countries with traffic are reachable by keyboard: focus shows the tooltip, Enter opens their flows.
              tabIndex={stats ? 0 : undefined}
              role={stats ? 'button' : undefined}
              aria-label={stats ? `${s.name}: ${formatExact(stats.addresses)} addresses, ${formatExact(stats.packets)} packets${stats.threatFlows > 0 ? `, ${formatExact(stats.threatFlows)} threat flows` : ''}` : undefined}
              onFocus={(e) => placeAtShape(e.currentTarget, { name: s.name, alpha2: s.alpha2, stats })}
              onBlur={() => setHover(null)}
              onKeyDown={(e) => {
                if ((e.key === 'Enter' || e.key === ' ') && s.alpha2 && stats) {
                  e.preventDefault();
                  onSelect?.(s.alpha2);
                }
              }}
            />
          );
        })}
        {points.map((p, i) => {
          const xy = projection([p.lon, p.lat]);
          if (!xy) return null;
          return (
            <g key={`${p.addr}-${i}`} data-testid="threat-point" onMouseMove={(e) => place(e, { name: p.addr, alpha2: null, stats: undefined, point: p })} onMouseLeave={() => setHover(null)}>
              <circle cx={xy[0]} cy={xy[1]} r={9} fill="#ff4d6d22" />
              <circle cx={xy[0]} cy={xy[1]} r={3.5} fill="#ff4d6d" stroke="#ffd0d8" strokeWidth={0.8} />
            </g>
          );
        })}
      </svg>
      {hover ? (
        <div
          role="tooltip"
          data-testid="map-tooltip"
          className="pointer-events-none absolute z-20 min-w-44 rounded-md border border-edge bg-panel-2/95 px-3 py-2 text-[11px] shadow-xl"
          style={hoverStyle(hover)}
        >
          {hover.point ? (
            <>
              <p className="font-semibold text-danger">{hover.point.addr}</p>
              <p className="text-muted">{hover.point.label}</p>
            </>
          ) : (
            <>
              <p className="font-semibold text-text">
                {hover.name} {hover.alpha2 ? <span className="text-muted">{hover.alpha2}</span> : null}
              </p>
              {hover.stats ? (
                <dl className="mt-1 grid grid-cols-[auto_auto] gap-x-3 gap-y-0.5">
                  <dt className="text-muted">addresses</dt>
                  <dd className="text-right tabular-nums" data-testid="tooltip-addresses">{formatExact(hover.stats.addresses)}</dd>
                  <dt className="text-muted">packets</dt>
                  <dd className="text-right tabular-nums" data-testid="tooltip-packets">{formatExact(hover.stats.packets)}</dd>
                  <dt className="text-muted">bytes</dt>
                  <dd className="text-right tabular-nums">{formatBytes(hover.stats.bytes)}</dd>
                  <dt className="text-muted">flows</dt>
                  <dd className="text-right tabular-nums">{formatExact(hover.stats.flows)}</dd>
                  {hover.alpha2 && maliciousCountries.has(hover.alpha2) ? (
                    <>
                      <dt className="text-danger">malicious</dt>
                      <dd className="text-right text-danger">flows seen</dd>
                    </>
                  ) : null}
                  {hover.stats.threatFlows > 0 ? (
                    <>
                      <dt className="text-danger">threat flows</dt>
                      <dd className="text-right text-danger tabular-nums">{formatExact(hover.stats.threatFlows)}</dd>
                    </>
                  ) : null}
                </dl>
              ) : (
                <p className="text-muted">no traffic in this range</p>
              )}
            </>
          )}
        </div>
      ) : null}
    </div>
  );
}
