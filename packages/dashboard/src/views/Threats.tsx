/**
 * Threat insights: alerts by level, the latest alerts in plain words (with their host and
 * evidence), acknowledging them, and the addresses known to be bad.
 */
import { useMemo, useState } from 'react';
import { AnimatePresence, m } from 'framer-motion';
import { api } from '../lib/api.js';
import { useBadAddresses, useLive } from '../lib/console-state.js';
import { formatAgo, formatCount, formatExact, formatTime } from '../lib/format.js';
import { rangeToApi } from '../lib/time-range.js';
import { ALERT_KIND_LABELS, levelCounts, newerAlert, term } from '../lib/transforms.js';
import { useApi } from '../lib/use-api.js';
import { useUrlState } from '../lib/url-state.js';
import { Address, BadMark } from '../components/Address.js';
import { EmptyState, ErrorState, LevelBadge, Panel, Segmented, Skeleton } from '../components/ui.js';
import type { Alert } from '../lib/api-types.js';

type Show = 'open' | 'all';

export function Threats() {
  const [url, setUrl] = useUrlState();
  const [show, setShow] = useState<Show>('open');
  const [acked, setAcked] = useState<Record<number, string>>({});
  const [ackError, setAckError] = useState<string | null>(null);
  const live = useLive();
  const bad = useBadAddresses();
  const params = { ...rangeToApi(url.range), host: url.host || undefined };
  const key = JSON.stringify(params);
  const refresh = url.range.kind === 'live' ? 10_000 : undefined;
  const counts = useApi(`alert-counts ${key}`, (s) => api.alerts({ ...params, limit: 1 }, s), refresh);
  const levels = useApi(`levels ${key}`, (s) => api.levels(params, s), refresh);
  const list = useApi(`alerts ${key} ${show}`, (s) => api.alerts({ ...params, acknowledged: show === 'open' ? 'false' : undefined, limit: 300 }, s), refresh);

  const alerts = useMemo(() => {
    const byId = new Map<number, Alert>();
    for (const a of list.data?.alerts ?? []) byId.set(a.id, a);
    // The newest live copy of each alert (the ring is newest first) replaces the stored one when it
    // is a later state; in a past range live alerts do not belong.
    if (url.range.kind === 'live') {
      const latest = new Map<number, Alert>();
      for (const a of live.alerts) if (!latest.has(a.id)) latest.set(a.id, a);
      for (const a of latest.values()) {
        if (url.host && a.agentId !== url.host) continue;
        const known = byId.get(a.id);
        if (!known || newerAlert(a, known)) byId.set(a.id, a);
      }
    }
    return [...byId.values()]
      .filter((a) => show === 'all' || (!a.acknowledgedAt && !acked[a.id]))
      .sort((a, b) => Date.parse(b.lastSeen) - Date.parse(a.lastSeen));
  }, [list.data, live.alerts, url.range.kind, url.host, show, acked]);

  const acknowledge = async (a: Alert) => {
    setAckError(null);
    setAcked((s) => ({ ...s, [a.id]: new Date().toISOString() }));
    try {
      await api.ackAlert(a.id);
      counts.reload();
    } catch (err) {
      setAcked((s) => {
        const { [a.id]: _gone, ...rest } = s;
        return rest;
      });
      setAckError(`Could not acknowledge alert ${a.id}: ${(err as Error).message}`);
    }
  };

  const showFlows = (a: Alert) => {
    const from = Date.parse(a.firstSeen) - 60_000;
    const to = Date.parse(a.lastSeen) + 60_000;
    setUrl({ view: 'explorer', q: term('ip', a.subject), host: a.agentId, range: { kind: 'absolute', fromMs: from, toMs: to } });
  };

  return (
    <div className="flex flex-col gap-3" data-testid="view-threats">
      <div className="grid grid-cols-1 gap-3 sm:grid-cols-3">
        {levels.data && counts.data
          ? levelCounts(counts.data.counts).map(({ level, count }) => {
              const flows = levels.data!.levels.find((l) => l.level === level);
              const total = levels.data!.levels.reduce((s, l) => s + l.flows, 0);
              return (
                <div key={level} className="panel min-w-0 px-3 py-2" data-testid={`level-${level}`} data-flows={flows?.flows ?? 0} data-alerts={count}>
                  <p className="truncate text-[10px] tracking-[0.16em] text-muted uppercase">{level} flows</p>
                  <p className={`glow truncate text-lg font-semibold sm:text-2xl ${level === 'malicious' ? 'text-danger' : level === 'suspicious' ? 'text-amber' : 'text-neon'}`} title={`${formatExact(flows?.flows ?? 0)} flows, ${formatExact(flows?.packets ?? 0)} packets`}>
                    {formatCount(flows?.flows ?? 0)}
                  </p>
                  <p className="truncate text-[11px] text-muted">
                    {total > 0 ? `${(((flows?.flows ?? 0) / total) * 100).toFixed(total > 1000 ? 2 : 1)}% · ` : ''}
                    {formatExact(count)} alert{count === 1 ? '' : 's'}
                  </p>
                </div>
              );
            })
          : [0, 1, 2].map((i) => <Skeleton key={i} className="h-20" />)}
      </div>
      {levels.error ? <ErrorState error={levels.error} onRetry={levels.reload} /> : null}
      {counts.error ? <ErrorState error={counts.error} onRetry={counts.reload} /> : null}

      <div className="grid grid-cols-1 gap-3 xl:grid-cols-[1fr_340px]">
        <Panel
          title="Latest alerts"
          subtitle="newest activity first; acknowledge what you have looked at"
          actions={<Segmented label="Which alerts" value={show} onChange={setShow} options={[{ value: 'open', label: 'open' }, { value: 'all', label: 'all' }]} />}
          testId="panel-alerts"
        >
          {ackError ? <p role="alert" className="mb-2 text-[12px] text-danger">{ackError}</p> : null}
          {list.error ? (
            <ErrorState error={list.error} onRetry={list.reload} />
          ) : !list.data ? (
            <Skeleton className="h-64" />
          ) : alerts.length === 0 ? (
            <EmptyState title={show === 'open' ? 'No open alerts in this range' : 'No alerts in this range'} hint="Detectors raise alerts for port scans, SYN floods, DNS tunnelling, large uploads, anomalous flows and threat-listed addresses. Try a longer range." />
          ) : (
            <ul className="flex flex-col gap-2" data-testid="alert-list">
              <AnimatePresence initial={false}>
                {alerts.map((a) => (
                  <m.li key={a.id} layout="position" initial={{ opacity: 0, y: -6 }} animate={{ opacity: 1, y: 0 }} exit={{ opacity: 0, x: 30 }} transition={{ duration: 0.18 }} data-testid="alert" data-alert-id={a.id} data-level={a.level} className={`rounded-md border p-2 ${a.level === 'malicious' ? 'border-danger/50 bg-danger/5' : a.level === 'suspicious' ? 'border-amber/40' : 'border-edge'}`}>
                    <div className="flex flex-wrap items-center gap-2 text-[12px]">
                      <LevelBadge level={a.level} />
                      <span className="font-semibold text-text">{ALERT_KIND_LABELS[a.kind] ?? a.kind}</span>
                      <span className="text-muted">on</span>
                      <button type="button" className="text-cyan hover:underline" onClick={() => setUrl({ view: 'agents', agentId: a.agentId })}>
                        {a.hostname}
                      </button>
                      <span className="text-muted">·</span>
                      <Address addr={a.subject} onPivot={() => showFlows(a)} />
                      <span className="ml-auto text-[11px] text-muted" title={`${a.firstSeen} → ${a.lastSeen}`}>
                        {formatTime(a.lastSeen)} · {formatAgo(a.lastSeen)}
                        {a.occurrences > 1 ? ` · ×${a.occurrences}` : ''}
                      </span>
                    </div>
                    <p className="mt-1 text-[12px] text-text/90" data-testid="alert-summary">
                      {a.summary}
                    </p>
                    <div className="mt-1 flex gap-3 text-[11px]">
                      <button type="button" className="text-neon hover:underline" onClick={() => showFlows(a)}>
                        Show flows
                      </button>
                      {a.acknowledgedAt || acked[a.id] ? (
                        <span className="text-muted" data-testid="acked">acknowledged {a.acknowledgedBy ? `by ${a.acknowledgedBy}` : ''}</span>
                      ) : (
                        <button type="button" className="text-amber hover:underline" onClick={() => void acknowledge(a)} data-testid="ack">
                          Acknowledge
                        </button>
                      )}
                    </div>
                  </m.li>
                ))}
              </AnimatePresence>
            </ul>
          )}
        </Panel>
        <Panel title="Known-bad addresses" subtitle="listed by a threat feed or reputation service (alerts of the last 7 days, and flows seen since)" testId="panel-bad">
          {bad.size === 0 ? (
            <EmptyState title="None seen" hint="Set THREAT_FEEDS (FireHOL, Spamhaus DROP…) on the collector to mark listed addresses." />
          ) : (
            <ul className="scrollbar-thin flex max-h-96 flex-col gap-1 overflow-auto text-[12px]">
              {bad.entries().slice(0, 200).map(([addr, reason]) => (
                <li key={addr} className="flex min-w-0 items-center gap-1" title={reason}>
                  <BadMark reason={reason} />
                  <button type="button" className="truncate text-left text-danger hover:underline" onClick={() => setUrl({ view: 'explorer', q: term('ip', addr) })}>
                    {addr}
                  </button>
                </li>
              ))}
            </ul>
          )}
        </Panel>
      </div>
    </div>
  );
}
