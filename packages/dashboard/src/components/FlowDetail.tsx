/** Everything the collector knows about one flow, with pivots. */
import { Address } from './Address.js';
import { LevelBadge, Panel } from './ui.js';
import { locationName } from '../lib/countries.js';
import { formatBytes, formatDuration, formatExact } from '../lib/format.js';
import { term } from '../lib/transforms.js';
import type { Flow, GeoDetail } from '../lib/api-types.js';

const TCP_FLAGS = ['FIN', 'SYN', 'RST', 'PSH', 'ACK', 'URG', 'ECE', 'CWR'];
function tcpFlags(bits: number): string {
  return TCP_FLAGS.filter((_, i) => bits & (1 << i)).join(' ') || '—';
}

function where(code: string | null, g: GeoDetail | null | undefined): string {
  const parts = [g?.city, code ? `${locationName(code)}${/^[A-Za-z]{2}$/.test(code) ? ` (${code})` : ''}` : null, g?.asn ? `AS${g.asn}${g.asOrg ? ` ${g.asOrg}` : ''}` : null];
  return parts.filter(Boolean).join(' · ') || '—';
}

export function FlowDetail({ flow: f, onPivot, onClose }: { flow: Flow; onPivot(term: string): void; onClose(): void }) {
  const rows: [string, React.ReactNode][] = [
    ['flow id', <code className="break-all text-muted">{f.flowId}</code>],
    ['host', `${f.hostname ?? f.agentId} (${f.agentId})`],
    ['time', `${f.firstSeen} → ${f.lastSeen} (${formatDuration(f.durationMs)})`],
    ['protocol', `${f.proto.toUpperCase()} (IP ${f.ipProto}), IPv${f.family}${f.vlan !== null ? `, VLAN ${f.vlan}` : ''}`],
    ['source', <span className="flex flex-wrap items-center gap-1"><Address addr={f.src} onPivot={(a) => onPivot(term('ip', a))} /> port {f.sport}</span>],
    ['', where(f.srcCountry, f.srcGeo)],
    ['destination', <span className="flex flex-wrap items-center gap-1"><Address addr={f.dst} onPivot={(a) => onPivot(term('ip', a))} /> port {f.dport}</span>],
    ['', where(f.dstCountry, f.dstGeo)],
    ['→ to destination', `${formatExact(f.packetsToDst)} packets, ${formatBytes(f.bytesToDst)} (${formatExact(f.bytesToDst)} B)`],
    ['← to source', `${formatExact(f.packetsToSrc)} packets, ${formatBytes(f.bytesToSrc)} (${formatExact(f.bytesToSrc)} B)`],
    ['TCP flags', f.ipProto === 6 ? `→ ${tcpFlags(f.tcpFlagsToDst)} · ← ${tcpFlags(f.tcpFlagsToSrc)}` : '—'],
    ['ended by', f.endReason],
    ['application', [f.tlsSni && `TLS SNI ${f.tlsSni}${f.tlsAlpn ? ` (${f.tlsAlpn})` : ''}`, f.httpHost && `HTTP ${f.httpMethod ?? ''} ${f.httpHost}`, f.dnsQuery && `DNS ${f.dnsQuery} (type ${f.dnsQueryType ?? '?'}, rcode ${f.dnsRcode ?? '?'})`].filter(Boolean).join(' · ') || '—'],
    ['score', <span className="flex items-center gap-2"><LevelBadge level={f.level} /> {f.score.toFixed(3)}</span>],
    ['threat', f.threat ? <span className="text-danger">listed by {f.threat}</span> : 'not listed'],
  ];
  return (
    <Panel title="Flow" actions={<button type="button" onClick={onClose} aria-label="Close flow details" className="text-muted hover:text-text">×</button>} testId="flow-detail">
      <dl className="grid grid-cols-[110px_1fr] gap-x-3 gap-y-1 text-[12px]">
        {rows.map(([k, v], i) => (
          <div key={i} className="contents">
            <dt className="text-muted">{k}</dt>
            <dd className="min-w-0 break-words">{v}</dd>
          </div>
        ))}
      </dl>
    </Panel>
  );
}
