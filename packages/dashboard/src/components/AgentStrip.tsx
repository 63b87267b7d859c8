/** One chip per agent: status, hostname, drops; a click opens the host page. */
import { formatAgo } from '../lib/format.js';
import { dropShare } from '../lib/transforms.js';
import { hrefFor, useUrlState } from '../lib/url-state.js';
import { EmptyState } from './ui.js';
import type { Agent } from '../lib/api-types.js';

export function AgentStrip({ agents, selected }: { agents: readonly Agent[]; selected?: string }) {
  const [url] = useUrlState();
  if (agents.length === 0) return <EmptyState title="No agents have reported yet" hint="Agents appear here with their first heartbeat (every 5 s)." />;
  return (
    <ul className="flex flex-wrap gap-2" data-testid="agent-strip">
      {[...agents]
        .sort((a, b) => (a.status === b.status ? a.hostname.localeCompare(b.hostname) : a.status === 'stale' ? -1 : 1))
        .map((a) => {
          const drops = dropShare(a);
          return (
            <li key={a.agentId}>
              <a
                href={hrefFor(url, { view: 'agents', agentId: a.agentId })}
                data-testid="agent-chip"
                data-status={a.status}
                title={`${a.agentId} · ${a.version} · last seen ${formatAgo(a.lastSeen)}${drops > 0 ? ` · ${(drops * 100).toFixed(2)}% dropped` : ''}`}
                className={`flex items-center gap-2 rounded-md border px-2 py-1 text-[12px] hover:bg-neon/5 ${selected === a.agentId ? 'border-neon' : a.status === 'stale' ? 'border-amber/50' : 'border-edge'}`}
              >
                <span className={`h-2 w-2 rounded-full ${a.status === 'online' ? 'bg-neon shadow-[0_0_6px_#39ff88]' : 'bg-amber'}`} />
                <span>{a.hostname}</span>
                {a.status === 'stale' ? <span className="text-[10px] text-amber">stale</span> : null}
                {drops > 0 ? <span className="text-[10px] text-amber">drops {(drops * 100).toFixed(1)}%</span> : null}
              </a>
            </li>
          );
        })}
    </ul>
  );
}
