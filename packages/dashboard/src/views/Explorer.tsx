/**
 * The flow explorer: a filter, a range, a host; results page in from the REST API as the
 * table scrolls, and in live mode the flows matching the filter stream in on top.
 */
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { api, ApiError } from '../lib/api.js';
import { useBadAddresses, useLive, useLiveConnection } from '../lib/console-state.js';
import { formatExact } from '../lib/format.js';
import { rangeToApi } from '../lib/time-range.js';
import { pivotQuery, term } from '../lib/transforms.js';
import { useUrlState } from '../lib/url-state.js';
import { QueryBar } from '../components/QueryBar.js';
import { FlowTable } from '../components/FlowTable.js';
import { FlowDetail } from '../components/FlowDetail.js';
import { EmptyState, ErrorState, Panel, Skeleton } from '../components/ui.js';
import type { Flow } from '../lib/api-types.js';

const PAGE = 1000;
const MAX_ROWS = 50_000;

interface Pages {
  key: string;
  flows: Flow[];
  cursor: string | null;
  loading: boolean;
  error: Error | null;
  done: boolean;
}

export function Explorer() {
  const [url, setUrl] = useUrlState();
  const live = useLive();
  const connection = useLiveConnection();
  const isLive = url.range.kind === 'live';
  const params = useMemo(() => ({ ...rangeToApi(url.range), host: url.host || undefined, q: url.q || undefined }), [url.range, url.host, url.q]);
  const key = JSON.stringify(params);
  const [pages, setPages] = useState<Pages>({ key, flows: [], cursor: null, loading: true, error: null, done: false });
  const [selected, setSelected] = useState<Flow | null>(null);
  const inFlight = useRef<AbortController | null>(null);

  const load = useCallback(
    (cursor: string | null, reset: boolean) => {
      inFlight.current?.abort();
      const ctrl = new AbortController();
      inFlight.current = ctrl;
      setPages((p) => (reset ? { key, flows: [], cursor: null, loading: true, error: null, done: false } : { ...p, loading: true }));
      api.flows({ ...params, limit: PAGE, cursor: cursor ?? undefined }, ctrl.signal).then(
        (r) => {
          if (ctrl.signal.aborted) return;
          setPages((p) => {
            const flows = reset ? r.flows : p.flows.concat(r.flows);
            return { key, flows, cursor: r.nextCursor, loading: false, error: null, done: r.nextCursor === null || flows.length >= MAX_ROWS };
          });
        },
        (error: Error) => {
          if (!ctrl.signal.aborted && error.name !== 'AbortError') setPages((p) => ({ ...p, loading: false, error }));
        },
      );
    },
    [key, params],
  );

  useEffect(() => {
    load(null, true);
    setSelected(null);
    return () => inFlight.current?.abort();
  }, [load]);

  // Live: the stream sends the flows matching this filter (and host: the server's per-second
  // budget is then spent on that host alone); nothing when not live.
  useEffect(() => {
    const hostTerm = url.host ? term('host', url.host) : '';
    const q = url.q && hostTerm ? `(${url.q}) and ${hostTerm}` : url.q || hostTerm;
    connection.setFilter(isLive ? q : '', isLive);
    return () => connection.setFilter('', false);
  }, [connection, isLive, url.q, url.host]);

  const rows = useMemo(() => {
    if (!isLive || live.flows.length === 0) return pages.flows;
    const seen = new Set<string>();
    const out: Flow[] = [];
    for (const f of live.flows) {
      if (url.host && f.agentId !== url.host && f.hostname !== url.host) continue;
      if (!seen.has(f.flowId)) {
        seen.add(f.flowId);
        out.push(f);
      }
    }
    for (const f of pages.flows) if (!seen.has(f.flowId)) out.push(f);
    return out;
  }, [isLive, live.flows, pages.flows, url.host]);

  // A feed-listed address in these flows is marked everywhere, not only where an alert named it.
  const bad = useBadAddresses();
  useEffect(() => bad.add([], rows), [bad, rows]);

  const onEndReached = useCallback(() => {
    if (!pages.loading && !pages.done && !pages.error && pages.cursor) load(pages.cursor, false);
  }, [pages, load]);

  const pivot = (t: string) => setUrl({ q: pivotQuery(url.q, t) });
  const serverError = pages.error instanceof ApiError && pages.error.field === 'q' ? { message: pages.error.message, position: pages.error.position } : isLive ? live.filterError : null;

  return (
    <div className="flex flex-col gap-3" data-testid="view-explorer">
      <QueryBar value={url.q} onSubmit={(q) => setUrl({ q })} serverError={serverError} />
      <div className="grid grid-cols-1 gap-3 2xl:grid-cols-[1fr_380px]">
        <Panel
          title="Flows"
          subtitle={
            <span data-testid="flow-count" data-count={rows.length} data-live-received={live.flowsReceived} data-live-dropped={live.flowsDropped}>
              {formatExact(rows.length)} flow{rows.length === 1 ? '' : 's'}
              {pages.done ? '' : pages.loading ? ' · loading more…' : ' · scroll for more'}
              {isLive ? ` · live: ${formatExact(live.flowsReceived)} received${live.flowsDropped ? `, ${formatExact(live.flowsDropped)} skipped by the server to keep up` : ''}` : ''}
            </span>
          }
          testId="panel-flows"
        >
          {pages.error && !(pages.error instanceof ApiError && pages.error.field === 'q') ? (
            <ErrorState error={pages.error} onRetry={() => load(null, true)} />
          ) : pages.error ? (
            <EmptyState title="The filter was refused" hint="Correct the filter above; the message says where." />
          ) : pages.loading && rows.length === 0 ? (
            <Skeleton className="h-[60vh]" />
          ) : rows.length === 0 ? (
            <EmptyState title="No flows match" hint={url.q ? 'Loosen the filter or pick a longer range.' : 'No flows in this range yet; pick a longer range or start an agent.'} />
          ) : (
            <FlowTable
              flows={rows}
              onPivot={pivot}
              onSelect={setSelected}
              selectedId={selected?.flowId}
              onEndReached={onEndReached}
              footer={!pages.done && pages.loading ? <p className="px-2 py-1 text-[11px] text-muted">loading more…</p> : pages.flows.length >= MAX_ROWS ? <p className="px-2 py-1 text-[11px] text-amber">Showing the first {formatExact(MAX_ROWS)} flows; narrow the filter to see the rest.</p> : null}
            />
          )}
        </Panel>
        {selected ? <FlowDetail flow={selected} onPivot={pivot} onClose={() => setSelected(null)} /> : null}
      </div>
    </div>
  );
}
