/** Packet, byte or flow rate over time (live seconds or REST buckets: the same points). */
import { Area, AreaChart, CartesianGrid, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { formatAxisTime, formatBits, formatCount, formatExact, formatTime } from '../lib/format.js';
import type { RatePoint } from '../lib/transforms.js';

export type RateMetric = 'bytes' | 'packets' | 'flows';

const KEY: Record<RateMetric, keyof RatePoint> = { bytes: 'bytesPerS', packets: 'packetsPerS', flows: 'flowsPerS' };
const COLOR: Record<RateMetric, string> = { bytes: '#39ff88', packets: '#3ee6ff', flows: '#ffc640' };

export function formatRate(metric: RateMetric, v: number): string {
  return metric === 'bytes' ? formatBits(v) : `${formatCount(v)}/s`;
}

export function RateChart({ points, metric, height = 220 }: { points: readonly RatePoint[]; metric: RateMetric; height?: number }) {
  const span = points.length > 1 ? points[points.length - 1]!.t - points[0]!.t : 60_000;
  const key = KEY[metric];
  const color = COLOR[metric];
  return (
    <div style={{ height }} data-testid="rate-chart" data-points={points.length} data-packets={points.reduce((s, p) => s + p.packets, 0)} data-bytes={points.reduce((s, p) => s + p.bytes, 0)}>
      <ResponsiveContainer width="100%" height="100%">
        <AreaChart data={points as RatePoint[]} margin={{ top: 4, right: 8, bottom: 0, left: 0 }}>
          <defs>
            <linearGradient id={`fill-${metric}`} x1="0" y1="0" x2="0" y2="1">
              <stop offset="0%" stopColor={color} stopOpacity={0.45} />
              <stop offset="100%" stopColor={color} stopOpacity={0.02} />
            </linearGradient>
          </defs>
          <CartesianGrid stroke="#1c2e25" strokeDasharray="2 4" vertical={false} />
          <XAxis dataKey="t" type="number" scale="time" domain={['dataMin', 'dataMax']} tickFormatter={(t: number) => formatAxisTime(t, span)} stroke="#93ab9f" tick={{ fontSize: 10 }} minTickGap={40} />
          <YAxis tickFormatter={(v: number) => formatRate(metric, v)} stroke="#93ab9f" tick={{ fontSize: 10 }} width={72} />
          <Tooltip
            contentStyle={{ background: '#0f1a15', border: '1px solid #1c2e25', borderRadius: 6, fontSize: 11 }}
            labelFormatter={(t) => formatTime(Number(t))}
            formatter={(v, _n, item) => {
              const p = item.payload as RatePoint;
              return [`${formatRate(metric, Number(v))} · ${formatExact(p[metric])} ${metric} in bucket`, metric];
            }}
          />
          <Area type="monotone" dataKey={key} stroke={color} strokeWidth={1.5} fill={`url(#fill-${metric})`} isAnimationActive={false} dot={false} />
        </AreaChart>
      </ResponsiveContainer>
    </div>
  );
}
