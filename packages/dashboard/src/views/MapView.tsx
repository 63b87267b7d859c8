/** Traffic by country, threat countries and known-bad endpoints in red; a country pivots to its flows. */
import { useMemo } from 'react';
import { api } from '../lib/api.js';
import { countryName, locationName } from '../lib/countries.js';
import { formatBytes, formatExact } from '../lib/format.js';
import { rangeToApi } from '../lib/time-range.js';
import { listedEnd, splitGeo, term } from '../lib/transforms.js';
import { useApi } from '../lib/use-api.js';
import { useUrlState } from '../lib/url-state.js';
import { WorldMap, type MapPoint } from '../charts/WorldMap.js';
import { EmptyState, ErrorState, Panel, Skeleton } from '../components/ui.js';
import type { Flow, GeoCountry } from '../lib/api-types.js';

/**
 * Red points: the listed end of threat-feed flows, and the public ends of other malicious
 * flows (marked as activity, not as listed). Only addresses with coordinates can be placed.
 */
export function threatPoints(flows: readonly Flow[]): MapPoint[] {
  const seen = new Set<string>();
  const out: MapPoint[] = [];
  const add = (addr: string, g: Flow['srcGeo'], label: string) => {
    if (!g || g.latitude === null || g.longitude === null || seen.has(addr)) return;
    seen.add(addr);
    out.push({ addr, lat: g.latitude, lon: g.longitude, label: [label, g.city, g.country ? countryName(g.country) : null, g.asOrg].filter(Boolean).join(' · ') });
  };
  for (const f of flows) {
    if (f.threat) {
      const end = listedEnd(f);
      add(end, end === f.src ? f.srcGeo : f.dstGeo, `listed by ${f.threat}`);
    } else if (f.level === 'malicious') {
      add(f.src, f.srcGeo, 'in malicious traffic');
      add(f.dst, f.dstGeo, 'in malicious traffic');
    }
  }
  return out;
}

/** Countries at either end of a malicious flow (feed hits are counted by the API's threatFlows already). */
export function maliciousCountries(flows: readonly Flow[]): ReadonlySet<string> {
  const out = new Set<string>();
  for (const f of flows) {
    if (f.level !== 'malicious') continue;
    for (const c of [f.srcCountry, f.dstCountry]) if (c && /^[A-Za-z]{2}$/.test(c)) out.add(c.toUpperCase());
  }
  return out;
}

export function MapView() {
  const [url, setUrl] = useUrlState();
  const params = { ...rangeToApi(url.range), host: url.host || undefined };
  const key = JSON.stringify(params);
  const refresh = url.range.kind === 'live' ? 10_000 : undefined;
  const geo = useApi(`geo ${key}`, (s) => api.geo(params, s), refresh);
  const bad = useApi(`badflows ${key}`, (s) => api.flows({ ...params, q: 'threat:true or level:malicious', limit: 500 }, s), refresh);
  const split = useMemo(() => splitGeo(geo.data?.countries ?? []), [geo.data]);
  const points = useMemo(() => threatPoints(bad.data?.flows ?? []), [bad.data]);
  const malicious = useMemo(() => maliciousCountries(bad.data?.flows ?? []), [bad.data]);
  const ranked = [...split.countries.values()].sort((a, b) => b.bytes - a.bytes);
  const pivot = (code: string) => setUrl({ view: 'explorer', q: term('country', code) });

  return (
    <div className="grid grid-cols-1 gap-3 xl:grid-cols-[1fr_360px]" data-testid="view-map">
      <Panel title="World" subtitle="bytes by country (log scale); red: threat-listed addresses or malicious flows" testId="panel-map">
        {geo.error ? <ErrorState error={geo.error} onRetry={geo.reload} /> : !geo.data ? <Skeleton className="aspect-[2/1] h-auto" /> : <WorldMap geo={split} points={points} maliciousCountries={malicious} onSelect={pivot} />}
        <p className="mt-2 text-[10px] text-muted">
          Map: Natural Earth via world-atlas. {bad.data ? `${points.length} known-bad endpoint${points.length === 1 ? '' : 's'} with coordinates shown.` : ''}
        </p>
      </Panel>
      <div className="flex flex-col gap-3">
        <Panel title="Countries" subtitle="public addresses, by bytes" testId="panel-countries">
          {geo.error ? null : !geo.data ? (
            <Skeleton className="h-64" />
          ) : ranked.length === 0 ? (
            <EmptyState title="No public addresses in this range" hint="Traffic that stays inside private networks has no country; it is listed below by scope." />
          ) : (
            <CountryTable rows={ranked.slice(0, 30)} onPivot={pivot} />
          )}
        </Panel>
        {split.scopes.length > 0 || split.unknown ? (
          <Panel title="Without a country" subtitle="private, loopback, multicast… and unknown" testId="panel-scopes">
            <CountryTable rows={[...split.scopes, ...(split.unknown ? [split.unknown] : [])]} onPivot={pivot} />
          </Panel>
        ) : null}
      </div>
    </div>
  );
}

function CountryTable({ rows, onPivot }: { rows: readonly GeoCountry[]; onPivot(code: string): void }) {
  return (
    <table className="w-full text-[12px]">
      <thead>
        <tr className="text-left text-[10px] tracking-wider text-muted uppercase">
          <th className="font-normal">where</th>
          <th className="text-right font-normal">addrs</th>
          <th className="text-right font-normal">packets</th>
          <th className="text-right font-normal">bytes</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr key={r.country ?? 'unknown'} data-testid="country-row" data-country={r.country ?? ''} data-packets={r.packets} data-bytes={r.bytes} className={r.threatFlows > 0 ? 'text-danger' : ''}>
            <td className="max-w-40 truncate py-0.5">
              {r.country ? (
                <button type="button" className="hover:text-neon hover:underline" onClick={() => onPivot(r.country!)} title={`Filter by country:${r.country}`}>
                  {/^[A-Za-z]{2}$/.test(r.country) ? <span className="mr-1 text-[10px] text-muted">{r.country}</span> : null}
                  {locationName(r.country)}
                </button>
              ) : (
                locationName(null)
              )}
              {r.threatFlows > 0 ? <span className="ml-1 text-[10px]">⚑ {formatExact(r.threatFlows)}</span> : null}
            </td>
            <td className="text-right tabular-nums">{formatExact(r.addresses)}</td>
            <td className="text-right tabular-nums">{formatExact(r.packets)}</td>
            <td className="text-right tabular-nums">{formatBytes(r.bytes)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
