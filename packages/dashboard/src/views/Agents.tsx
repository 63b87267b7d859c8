/** The fleet list, and a host page with that host's charts. */
import { formatAgo, formatBits, formatBytes, formatCount, formatExact } from '../lib/format.js';
import { dropShare } from '../lib/transforms.js';
import { useAgents } from '../lib/use-agents.js';
import { hrefFor, useUrlState } from '../lib/url-state.js';
import { EmptyState, ErrorState, Panel, Skeleton } from '../components/ui.js';
import { Overview } from './Overview.js';

export function Agents() {
  const [url] = useUrlState();
  return url.agentId ? <HostPage agentId={url.agentId} /> : <FleetList />;
}

function FleetList() {
  const [url] = useUrlState();
  const { agents, error, reload } = useAgents();
  return (
    <div data-testid="view-agents">
      <Panel title="Fleet" subtitle="every agent that has sent a heartbeat; stale = no heartbeat for a few intervals" testId="panel-fleet">
        {error ? (
          <ErrorState error={error} onRetry={reload} />
        ) : !agents ? (
          <Skeleton className="h-48" />
        ) : agents.length === 0 ? (
          <EmptyState title="No agents yet" hint={<>Run <code className="text-neon">nta-agent capture --nats nats://&lt;this host&gt;:4222</code> on a host; it appears here within 5 s.</>} />
        ) : (
          <div className="scrollbar-thin overflow-x-auto">
            <table className="w-full min-w-[820px] text-[12px]" data-testid="agents-table">
              <thead>
                <tr className="border-b border-edge text-left text-[10px] tracking-wider text-muted uppercase">
                  <th className="py-1 font-normal">host</th>
                  <th className="font-normal">status</th>
                  <th className="font-normal">version</th>
                  <th className="font-normal">last seen</th>
                  <th className="text-right font-normal">packets/s</th>
                  <th className="text-right font-normal">throughput</th>
                  <th className="text-right font-normal">flows/s</th>
                  <th className="text-right font-normal">drops</th>
                  <th className="text-right font-normal">flows sent</th>
                </tr>
              </thead>
              <tbody>
                {[...agents]
                  .sort((a, b) => a.hostname.localeCompare(b.hostname))
                  .map((a) => {
                    const drops = dropShare(a);
                    return (
                      <tr key={a.agentId} className="border-b border-edge/40 hover:bg-neon/5" data-testid="agent-row" data-agent-id={a.agentId} data-status={a.status}>
                        <td className="py-1.5">
                          <a href={hrefFor(url, { view: 'agents', agentId: a.agentId })} className="text-neon hover:underline">
                            {a.hostname}
                          </a>
                          {a.hostname !== a.agentId ? <span className="ml-1 text-muted">({a.agentId})</span> : null}
                        </td>
                        <td>
                          <span className={`inline-flex items-center gap-1 ${a.status === 'online' ? 'text-neon' : 'text-amber'}`}>
                            <span className={`h-2 w-2 rounded-full ${a.status === 'online' ? 'bg-neon' : 'bg-amber'}`} />
                            {a.status}
                          </span>
                        </td>
                        <td className="text-muted">{a.version}</td>
                        <td title={a.lastSeen}>{formatAgo(a.lastSeen)}</td>
                        <td className="text-right tabular-nums">{formatCount(a.rates.packetsPerS)}</td>
                        <td className="text-right tabular-nums">{formatBits(a.rates.bytesPerS)}</td>
                        <td className="text-right tabular-nums">{formatCount(a.rates.flowsPerS)}</td>
                        <td className={`text-right tabular-nums ${drops > 0 ? 'text-amber' : 'text-muted'}`} title={`kernel dropped ${formatExact(a.capture.dropped)}, interface dropped ${formatExact(a.capture.ifDropped)}, received ${formatExact(a.capture.received)}`}>
                          {drops > 0 ? `${(drops * 100).toFixed(2)}%` : '0'}
                        </td>
                        <td className="text-right tabular-nums">{formatExact(a.totals.flows)}</td>
                      </tr>
                    );
                  })}
              </tbody>
            </table>
          </div>
        )}
      </Panel>
    </div>
  );
}

function HostPage({ agentId }: { agentId: string }) {
  const [url] = useUrlState();
  const { agents } = useAgents();
  const a = agents?.find((x) => x.agentId === agentId);
  return (
    <div className="flex flex-col gap-3" data-testid="view-host">
      <div className="panel flex flex-wrap items-center gap-x-6 gap-y-2 px-4 py-3">
        <a href={hrefFor(url, { view: 'agents', agentId: null })} className="text-muted hover:text-neon">
          ← fleet
        </a>
        <h1 className="glow text-lg font-semibold text-neon" data-testid="host-title">
          {a?.hostname ?? agentId}
        </h1>
        {a ? (
          <dl className="flex flex-wrap gap-x-5 gap-y-1 text-[12px]">
            <Item k="agent id" v={a.agentId} />
            <Item k="status" v={<span className={a.status === 'online' ? 'text-neon' : 'text-amber'}>{a.status}</span>} />
            <Item k="version" v={a.version} />
            <Item k="mode" v={a.mode ?? '—'} />
            <Item k="last seen" v={formatAgo(a.lastSeen)} />
            <Item k="sent" v={`${formatExact(a.totals.flows)} flows, ${formatBytes(a.totals.bytes)}`} />
            <Item k="capture" v={`${formatExact(a.capture.received)} received, ${formatExact(a.capture.dropped + a.capture.ifDropped)} dropped`} />
          </dl>
        ) : agents ? (
          <p className="text-amber">This agent has not reported; its stored flows are still shown.</p>
        ) : null}
      </div>
      <Overview fixedHost={agentId} />
    </div>
  );
}

function Item({ k, v }: { k: string; v: React.ReactNode }) {
  return (
    <div className="flex gap-1">
      <dt className="text-muted">{k}</dt>
      <dd>{v}</dd>
    </div>
  );
}
