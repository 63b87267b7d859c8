/**
 * The fleet (or one host) at a glance: rates, protocol mix, top sources and destinations,
 * agent strip. Live mode draws rates and protocols from the per-second stream and refreshes
 * the top addresses every few seconds; a past range reads everything from the REST API.
 */
import { useMemo, useState } from 'react';
import { api } from '../lib/api.js';
import { useLive } from '../lib/console-state.js';
import { formatBits, formatBytes, formatCount, formatExact, formatSpan } from '../lib/format.js';
import { rangeToApi, resolveRange, LIVE_WINDOW_MS } from '../lib/time-range.js';
import { liveProtocolSlices, liveRates, protocolSlices, sumCounts, talkerRows, timelineRates, fleetHealth } from '../lib/transforms.js';
import { useApi } from '../lib/use-api.js';
import { useUrlState } from '../lib/url-state.js';
import { useAgents } from '../lib/use-agents.js';
import { term } from '../lib/transforms.js';
import { EmptyState, ErrorState, Panel, Segmented, Skeleton, StatTile } from '../components/ui.js';
import { RateChart, formatRate, type RateMetric } from '../charts/RateChart.js';
import { ProtocolChart } from '../charts/ProtocolChart.js';
import { TalkerList } from '../charts/TalkerList.js';
import { AgentStrip } from '../components/AgentStrip.js';

const NO_TRAFFIC_HINT = (
  <>
    Start an agent that publishes to this collector&apos;s NATS, e.g. <code className="text-neon">nta-agent capture --nats nats://127.0.0.1:4222</code>, or pick a longer range.
  </>
);

export function Overview({ fixedHost }: { fixedHost?: string }) {
  const [url, setUrl] = useUrlState();
  const host = fixedHost ?? url.host;
  const live = useLive();
  const isLive = url.range.kind === 'live';
  const [mixMetric, setMixMetric] = useState<'bytes' | 'packets'>('bytes');
  const [rateMetric, setRateMetric] = useState<RateMetric>('bytes');
  const params = { ...rangeToApi(url.range), host: host || undefined };
  const key = JSON.stringify(params);
  const refresh = isLive ? 5_000 : undefined;

  const timeline = useApi(isLive ? null : `timeline ${key}`, (s) => api.timeline(params, s));
  const protocols = useApi(`protocols ${key}`, (s) => api.protocols(params, s), refresh);
  const srcTalkers = useApi(`src ${key} ${mixMetric}`, (s) => api.topTalkers({ ...params, by: 'src', metric: mixMetric, limit: 10 }, s), refresh);
  const dstTalkers = useApi(`dst ${key} ${mixMetric}`, (s) => api.topTalkers({ ...params, by: 'dst', metric: mixMetric, limit: 10 }, s), refresh);
  // Live, "open alerts" means the last day's, not the last five minutes'.
  const alertParams = isLive ? { ...params, from: '-24h' } : params;
  const alerts = useApi(`alerts ${JSON.stringify(alertParams)}`, (s) => api.alerts({ ...alertParams, acknowledged: 'false', limit: 1 }, s), refresh ?? 30_000);

  // The live window ends at the newest second received, so the right edge is not a row of zeros
  // for seconds whose reports have not arrived yet.
  const lastT = live.seconds.length > 0 ? live.seconds[live.seconds.length - 1]!.t + 1000 : Date.now();
  // The window spans what the stream holds (the server sends its last five minutes on connect),
  // so no second is shown as zero only because the console was not there to receive it.
  const firstT = live.seconds.length > 0 ? live.seconds[0]!.t : lastT;
  const liveWindow = { fromMs: Math.max(lastT - LIVE_WINDOW_MS, firstT), toMs: lastT };
  const liveSpan = formatSpan(liveWindow.toMs - liveWindow.fromMs);
  const rates = useMemo(
    () => (isLive ? liveRates(live.seconds, host || null, liveWindow.fromMs, liveWindow.toMs) : timeline.data ? timelineRates(timeline.data) : []),
    [isLive, live.seconds, host, timeline.data, lastT],
  );
  const liveSlices = useMemo(() => liveProtocolSlices(live.seconds, host || null, liveWindow.fromMs, liveWindow.toMs, mixMetric), [live.seconds, host, lastT, mixMetric]);
  const restSlices = protocols.data ? protocolSlices(protocols.data, mixMetric) : null;
  const totals = protocols.data ? sumCounts(protocols.data.protocols) : null;
  const agents = useAgents().agents ?? [];
  const health = fleetHealth(host ? agents.filter((a) => a.agentId === host) : agents);
  const hasLiveSeconds = rates.some((p) => p.packets > 0);
  const recent = rates.slice(-10);
  const recentRate = (k: 'packetsPerS' | 'bytesPerS' | 'flowsPerS') => (recent.length ? recent.reduce((s, p) => s + p[k], 0) / recent.length : 0);
  const pivot = (addr: string) => setUrl({ view: 'explorer', q: term('ip', addr), host });
  const span = resolveRange(url.range, Date.now());

  return (
    <div className="flex flex-col gap-3" data-testid="view-overview">
      <div className="grid grid-cols-2 gap-3 md:grid-cols-3 xl:grid-cols-6">
        {isLive ? (
          <>
            <StatTile label="throughput · 10 s" value={formatBits(recentRate('bytesPerS'))} testId="kpi-bytes-rate" />
            <StatTile label="packets / s" value={formatCount(recentRate('packetsPerS'))} tone="cyan" testId="kpi-packets-rate" />
            <StatTile label="flows exported / s" value={formatCount(health.flowsPerS)} tone="amber" testId="kpi-flows-rate" />
          </>
        ) : (
          <>
            <StatTile label="bytes in range" value={totals ? formatBytes(totals.bytes) : '…'} exact={totals ? String(totals.bytes) : undefined} testId="kpi-bytes" />
            <StatTile label="packets in range" value={totals ? formatCount(totals.packets) : '…'} exact={totals ? String(totals.packets) : undefined} tone="cyan" testId="kpi-packets" />
            <StatTile label="flows in range" value={totals ? formatCount(totals.flows) : '…'} exact={totals ? String(totals.flows) : undefined} tone="amber" testId="kpi-flows" />
          </>
        )}
        <StatTile label="agents online" value={`${health.online} / ${health.online + health.stale}`} tone={health.stale > 0 ? 'amber' : 'neon'} testId="kpi-agents" />
        <StatTile label="capture drops" value={health.withDrops > 0 ? `${health.withDrops} host${health.withDrops > 1 ? 's' : ''}` : 'none'} tone={health.withDrops > 0 ? 'amber' : 'neon'} />
        <StatTile label={isLive ? 'open alerts · 24 h' : 'open alerts'} value={alerts.data ? formatExact(Object.values(alerts.data.counts).reduce((a, b) => a + b, 0)) : '…'} tone={alerts.data && (alerts.data.counts.malicious ?? 0) > 0 ? 'danger' : 'neon'} testId="kpi-alerts" />
      </div>

      <Panel
        title={isLive ? 'Traffic rate · live' : 'Traffic rate'}
        subtitle={isLive ? `per second over the last ${liveSpan}, from the agents’ packet counters` : `per ${timeline.data ? Math.round(timeline.data.stepMs / 1000) + ' s' : 'bucket'}, from stored flows (by first packet)`}
        actions={<Segmented label="Rate metric" value={rateMetric} onChange={setRateMetric} options={[{ value: 'bytes', label: 'bits' }, { value: 'packets', label: 'packets' }, { value: 'flows', label: 'flows' }]} />}
        testId="panel-rate"
      >
        {!isLive && timeline.error ? (
          <ErrorState error={timeline.error} onRetry={timeline.reload} />
        ) : !isLive && !timeline.data ? (
          <Skeleton className="h-[220px]" />
        ) : isLive && !hasLiveSeconds ? (
          <EmptyState title={live.status === 'open' ? 'Waiting for traffic…' : 'Live stream not connected'} hint={live.status === 'open' ? NO_TRAFFIC_HINT : (live.lastError ?? 'reconnecting')} />
        ) : (
          <>
            <RateChart points={rates} metric={rateMetric} />
            <p className="mt-1 text-right text-[10px] text-muted">
              peak {formatRate(rateMetric, Math.max(0, ...rates.map((p) => p[rateMetric === 'bytes' ? 'bytesPerS' : rateMetric === 'packets' ? 'packetsPerS' : 'flowsPerS'])))} · {new Date(isLive ? liveWindow.fromMs : span.fromMs).toLocaleTimeString()} → {isLive ? 'now' : new Date(span.toMs).toLocaleTimeString()}
            </p>
          </>
        )}
      </Panel>

      <div className="grid grid-cols-1 gap-3 lg:grid-cols-3">
        <Panel
          title="Protocols"
          subtitle={isLive ? `last ${liveSpan}, packet counters` : 'stored flows in range'}
          actions={<Segmented label="Protocol metric" value={mixMetric} onChange={setMixMetric} options={[{ value: 'bytes', label: 'bytes' }, { value: 'packets', label: 'packets' }]} />}
          testId="panel-protocols"
        >
          {isLive && hasLiveSeconds ? (
            <ProtocolChart slices={liveSlices} metric={mixMetric} />
          ) : protocols.error ? (
            <ErrorState error={protocols.error} onRetry={protocols.reload} />
          ) : !restSlices ? (
            <Skeleton className="h-36" />
          ) : totals && totals.packets === 0 ? (
            <EmptyState title="No flows in this range" hint={NO_TRAFFIC_HINT} />
          ) : (
            <ProtocolChart slices={restSlices} metric={mixMetric} />
          )}
        </Panel>
        <Panel title="Top sources" subtitle={`by ${mixMetric}${isLive ? ', stored flows of the last 5 min' : ''}`} testId="panel-top-src">
          {srcTalkers.error ? <ErrorState error={srcTalkers.error} onRetry={srcTalkers.reload} /> : !srcTalkers.data ? <Skeleton className="h-48" /> : srcTalkers.data.talkers.length === 0 ? <EmptyState title="No sources yet" hint="Flows appear here once agents export them." /> : <TalkerList rows={talkerRows(srcTalkers.data)} metric={mixMetric} onPivot={pivot} testId="top-src" />}
        </Panel>
        <Panel title="Top destinations" subtitle={`by ${mixMetric}${isLive ? ', stored flows of the last 5 min' : ''}`} testId="panel-top-dst">
          {dstTalkers.error ? <ErrorState error={dstTalkers.error} onRetry={dstTalkers.reload} /> : !dstTalkers.data ? <Skeleton className="h-48" /> : dstTalkers.data.talkers.length === 0 ? <EmptyState title="No destinations yet" hint="Flows appear here once agents export them." /> : <TalkerList rows={talkerRows(dstTalkers.data)} metric={mixMetric} onPivot={pivot} testId="top-dst" />}
        </Panel>
      </div>

      {!fixedHost ? (
        <Panel title="Agents" subtitle="status, capture drops; click a host for its page" testId="panel-agent-strip">
          <AgentStrip agents={agents} selected={host} />
        </Panel>
      ) : null}
    </div>
  );
}
