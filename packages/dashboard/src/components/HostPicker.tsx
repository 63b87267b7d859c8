/** All hosts or one, from the fleet list the live stream keeps current. */
import { useAgents } from '../lib/use-agents.js';

export function HostPicker({ value, onChange }: { value: string; onChange(host: string): void }) {
  const { agents } = useAgents();
  const list = [...(agents ?? [])].sort((a, b) => a.hostname.localeCompare(b.hostname));
  const known = list.some((a) => a.agentId === value);
  return (
    <label className="flex items-center gap-1 text-[11px] text-muted">
      <span className="sr-only sm:not-sr-only">Host</span>
      <select value={value} onChange={(e) => onChange(e.target.value)} aria-label="Host" data-testid="host-picker" className="max-w-48 rounded-md border border-control bg-ink px-2 py-1 text-text">
        <option value="">All hosts ({list.length})</option>
        {!known && value ? <option value={value}>{value}</option> : null}
        {list.map((a) => (
          <option key={a.agentId} value={a.agentId}>
            {a.hostname}
            {a.hostname !== a.agentId ? ` (${a.agentId})` : ''}
            {a.status === 'stale' ? ' · stale' : ''}
          </option>
        ))}
      </select>
    </label>
  );
}
