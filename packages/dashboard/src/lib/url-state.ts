/**
 * The view, the filter, the range and the host live in the URL hash
 * (`#/explorer?q=proto:tcp&from=-1h&host=web-1`), so every view can be shared or bookmarked
 * and the collector needs no server-side routes for the console.
 */
import { useCallback, useSyncExternalStore } from 'react';
import { rangeFromParams, rangeToParams, type TimeRange } from './time-range.js';

export const VIEWS = ['overview', 'map', 'threats', 'explorer', 'agents'] as const;
export type View = (typeof VIEWS)[number];

export interface UrlState {
  view: View;
  /** Agent id on the host page (`#/agents/<id>`). */
  agentId: string | null;
  q: string;
  host: string;
  range: TimeRange;
}

export function parseHash(hash: string): UrlState {
  const raw = hash.replace(/^#\/?/, '');
  const [path = '', search = ''] = raw.split('?', 2);
  const [first = '', second] = path.split('/');
  const view = (VIEWS as readonly string[]).includes(first) ? (first as View) : 'overview';
  const p = new URLSearchParams(search);
  return {
    view,
    agentId: view === 'agents' && second ? decodeURIComponent(second) : null,
    q: p.get('q') ?? '',
    host: p.get('host') ?? '',
    range: rangeFromParams(p),
  };
}

export function formatHash(s: UrlState): string {
  const p = new URLSearchParams();
  if (s.q) p.set('q', s.q);
  if (s.host) p.set('host', s.host);
  for (const [k, v] of Object.entries(rangeToParams(s.range))) p.set(k, v);
  const path = s.view === 'agents' && s.agentId ? `agents/${encodeURIComponent(s.agentId)}` : s.view;
  const qs = p.toString();
  return `#/${path}${qs ? `?${qs}` : ''}`;
}

function subscribe(cb: () => void): () => void {
  window.addEventListener('hashchange', cb);
  return () => window.removeEventListener('hashchange', cb);
}

let cachedHash = '';
let cachedState: UrlState = parseHash('');
function snapshot(): UrlState {
  if (window.location.hash !== cachedHash) {
    cachedHash = window.location.hash;
    cachedState = parseHash(cachedHash);
  }
  return cachedState;
}

export function navigate(next: Partial<UrlState>, current: UrlState = snapshot()): void {
  const merged = { ...current, ...next };
  if (next.view && next.view !== 'agents' && next.agentId === undefined) merged.agentId = null;
  const hash = formatHash(merged);
  if (hash !== window.location.hash) window.location.hash = hash;
}

/** Current URL state and a setter that merges into it. */
export function useUrlState(): [UrlState, (next: Partial<UrlState>) => void] {
  const state = useSyncExternalStore(subscribe, snapshot, snapshot);
  const set = useCallback((next: Partial<UrlState>) => navigate(next), []);
  return [state, set];
}

/** Link target for a view with the current filter context carried along. */
export function hrefFor(current: UrlState, next: Partial<UrlState>): string {
  const agentId = 'agentId' in next ? (next.agentId ?? null) : next.view && next.view !== 'agents' ? null : current.agentId;
  return formatHash({ ...current, ...next, agentId });
}
