/** Protocol distribution: a donut and a table with the exact figures. */
import { Cell, Pie, PieChart, ResponsiveContainer, Tooltip } from 'recharts';
import { formatBytes, formatExact } from '../lib/format.js';
import type { ProtoSlice } from '../lib/transforms.js';

export const PROTO_COLORS: Record<string, string> = { tcp: '#39ff88', udp: '#3ee6ff', icmp: '#ffc640', other: '#c77dff' };

export function ProtocolChart({ slices, metric }: { slices: readonly ProtoSlice[]; metric: 'bytes' | 'packets' }) {
  const data = slices.filter((s) => s[metric] > 0);
  return (
    <div className="flex flex-col items-center gap-3 sm:flex-row" data-testid="protocol-chart">
      <div className="h-36 w-36 shrink-0">
        <ResponsiveContainer width="100%" height="100%">
          <PieChart>
            <Pie data={data} dataKey={metric} nameKey="proto" innerRadius="58%" outerRadius="95%" stroke="#040706" strokeWidth={2} isAnimationActive={false}>
              {data.map((s) => (
                <Cell key={s.proto} fill={PROTO_COLORS[s.proto]} />
              ))}
            </Pie>
            <Tooltip contentStyle={{ background: '#0f1a15', border: '1px solid #1c2e25', borderRadius: 6, fontSize: 11 }} itemStyle={{ color: '#d9f2e4' }} formatter={(v, n) => [metric === 'bytes' ? formatBytes(Number(v)) : formatExact(Number(v)), String(n).toUpperCase()]} />
          </PieChart>
        </ResponsiveContainer>
      </div>
      <table className="w-full text-[12px]">
        <thead>
          <tr className="text-left text-[10px] tracking-wider text-muted uppercase">
            <th className="font-normal">proto</th>
            <th className="text-right font-normal">packets</th>
            <th className="text-right font-normal">bytes</th>
            <th className="text-right font-normal">share</th>
          </tr>
        </thead>
        <tbody>
          {slices.map((s) => (
            <tr key={s.proto} data-testid={`protocol-row-${s.proto}`} data-packets={s.packets} data-bytes={s.bytes} data-flows={s.flows ?? ''}>
              <td className="py-0.5">
                <span className="mr-2 inline-block h-2 w-2 rounded-sm" style={{ background: PROTO_COLORS[s.proto] }} />
                {s.proto.toUpperCase()}
              </td>
              <td className="text-right tabular-nums">{formatExact(s.packets)}</td>
              <td className="text-right tabular-nums" title={`${formatExact(s.bytes)} bytes`}>
                {formatBytes(s.bytes)}
              </td>
              <td className="text-right text-muted tabular-nums">{(s.share * 100).toFixed(1)}%</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
