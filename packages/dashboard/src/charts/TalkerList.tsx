/** Top addresses as bars, each address a pivot into the flow explorer. */
import { Address } from '../components/Address.js';
import { formatBytes, formatExact } from '../lib/format.js';
import type { TalkerRow } from '../lib/transforms.js';

export function TalkerList({ rows, metric, onPivot, testId }: { rows: readonly TalkerRow[]; metric: 'bytes' | 'packets'; onPivot?(addr: string): void; testId?: string }) {
  const max = Math.max(1, ...rows.map((r) => r[metric]));
  return (
    <ol className="flex flex-col gap-1.5" data-testid={testId}>
      {rows.map((r, i) => (
        <li key={r.addr} className="relative overflow-hidden rounded px-2 py-1" data-testid="talker" data-addr={r.addr} data-bytes={r.bytes} data-packets={r.packets}>
          <div className="absolute inset-y-0 left-0 bg-neon/10" style={{ width: `${(100 * r[metric]) / max}%` }} aria-hidden="true" />
          <div className="relative flex items-center justify-between gap-2 text-[12px]">
            <span className="flex min-w-0 items-center gap-2">
              <span className="w-4 shrink-0 text-right text-muted">{i + 1}</span>
              <Address addr={r.addr} onPivot={onPivot} />
            </span>
            <span className="shrink-0 text-right tabular-nums" title={`${formatExact(r.bytes)} bytes, ${formatExact(r.packets)} packets${r.flows !== null ? `, ${formatExact(r.flows)} flows` : ''}`}>
              {metric === 'bytes' ? formatBytes(r.bytes) : `${formatExact(r.packets)} pkts`}
            </span>
          </div>
        </li>
      ))}
    </ol>
  );
}
