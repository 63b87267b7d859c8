/**
 * Flows in a virtualised table: only the rows in view are in the DOM, so 10,000+ rows
 * scroll smoothly. Addresses, ports and hosts are pivots into the filter; a row opens its
 * details; reaching the end asks for the next page.
 */
import { useEffect, useRef } from 'react';
import { useVirtualizer } from '@tanstack/react-virtual';
import { Address } from './Address.js';
import { LevelBadge } from './ui.js';
import { formatBytes, formatDuration, formatExact, formatTime } from '../lib/format.js';
import { term } from '../lib/transforms.js';
import { useMediaQuery } from '../lib/use-media-query.js';
import type { Flow } from '../lib/api-types.js';

const COLUMNS = 'grid-cols-[92px_110px_52px_minmax(180px,1.4fr)_minmax(180px,1.4fr)_72px_84px_76px_88px_minmax(140px,1fr)]';
const ROW_PX = 30;
const CARD_PX = 62;

function l7(f: Flow): string {
  if (f.tlsSni) return `TLS ${f.tlsSni}`;
  if (f.httpHost) return `${f.httpMethod ?? 'HTTP'} ${f.httpHost}`;
  if (f.dnsQuery) return `DNS ${f.dnsQuery}`;
  return '';
}

export function FlowTable({ flows, onPivot, onSelect, selectedId, onEndReached, footer }: { flows: readonly Flow[]; onPivot(term: string): void; onSelect(f: Flow): void; selectedId?: string | null; onEndReached?(): void; footer?: React.ReactNode }) {
  const scroller = useRef<HTMLDivElement>(null);
  // On a phone a row is a two-line card: the table's ten columns would need sideways scrolling.
  const compact = useMediaQuery('(max-width: 639px)');
  const rowPx = compact ? CARD_PX : ROW_PX;
  const v = useVirtualizer({ count: flows.length, getScrollElement: () => scroller.current, estimateSize: () => rowPx, overscan: 16 });
  useEffect(() => v.measure(), [rowPx, v]);
  const items = v.getVirtualItems();
  const lastIndex = items.length > 0 ? items[items.length - 1]!.index : -1;
  useEffect(() => {
    if (onEndReached && lastIndex >= flows.length - 40 && flows.length > 0) onEndReached();
  }, [lastIndex, flows.length, onEndReached]);

  const openOnKey = (e: React.KeyboardEvent, f: Flow) => {
    if (e.target !== e.currentTarget || (e.key !== 'Enter' && e.key !== ' ')) return;
    e.preventDefault();
    onSelect(f);
  };

  /** What every row is, in either layout: a focusable item that opens the flow's details, toned by its level. */
  const rowProps = (f: Flow, heightPx: number, startPx: number) => ({
    role: 'listitem',
    'data-testid': 'flow-row',
    'data-flow-id': f.flowId,
    tabIndex: 0,
    'aria-label': `${f.proto} flow ${f.src} port ${f.sport} to ${f.dst} port ${f.dport}; Enter for details`,
    'aria-current': selectedId === f.flowId ? ('true' as const) : undefined,
    onClick: () => onSelect(f),
    onKeyDown: (e: React.KeyboardEvent) => openOnKey(e, f),
    style: { height: heightPx, transform: `translateY(${startPx}px)` },
  });
  const tone = (f: Flow, stripe: boolean) =>
    `${selectedId === f.flowId ? 'bg-neon/10' : stripe ? 'bg-white/[0.015]' : ''} ${f.level === 'malicious' ? 'shadow-[inset_2px_0_0_#ff4d6d]' : f.level === 'suspicious' ? 'shadow-[inset_2px_0_0_#ffc640]' : ''}`;

  const pivot = (field: string, value: string | number) => (e?: React.MouseEvent) => {
    e?.stopPropagation();
    onPivot(term(field, value));
  };

  /** An address and, unless ICMP (whose "ports" are type and code), its port: each a pivot. */
  const endpoint = (f: Flow, addr: string, portField: 'sport' | 'dport', port: number) => (
    <span className="flex min-w-0 items-center">
      <Address addr={addr} onPivot={(a) => onPivot(term('ip', a))} />
      {f.proto !== 'icmp' && f.proto !== 'icmpv6' ? (
        <button type="button" className="shrink-0 text-muted hover:text-neon hover:underline" onClick={pivot(portField, port)}>
          :{port}
        </button>
      ) : null}
    </span>
  );

  if (compact) {
    return (
      <div className="rounded-md border border-edge" data-testid="flow-table" data-rows={flows.length}>
        <div ref={scroller} className="scrollbar-thin h-[60vh] min-h-72 overflow-y-auto" role="list" aria-label="Flows" data-testid="flow-scroller">
          <div style={{ height: v.getTotalSize(), position: 'relative' }}>
            {items.map((it) => {
              const f = flows[it.index]!;
              const icmp = f.proto === 'icmp' || f.proto === 'icmpv6';
              return (
                <div
                  key={f.flowId}
                  {...rowProps(f, CARD_PX, it.start)}
                  className={`absolute top-0 left-0 flex w-full cursor-pointer flex-col justify-center gap-0.5 border-b border-edge/40 px-2 text-[12px] ${tone(f, false)}`}
                >
                  <div className="flex items-center gap-2 text-[11px] text-muted">
                    <span className="tabular-nums">{formatTime(f.firstSeen)}</span>
                    <span className="text-text uppercase">{f.proto}</span>
                    <span className="truncate">{f.hostname ?? f.agentId}</span>
                    <span className="ml-auto shrink-0 text-text tabular-nums">{formatBytes(f.bytes)}</span>
                    {f.level !== 'normal' ? <LevelBadge level={f.level} /> : null}
                  </div>
                  <div className="flex min-w-0 items-center gap-1">
                    <Address addr={f.src} onPivot={(a) => onPivot(term('ip', a))} className="min-w-0" />
                    {icmp ? null : <span className="shrink-0 text-muted">:{f.sport}</span>}
                    <span className="shrink-0 text-muted">→</span>
                    <Address addr={f.dst} onPivot={(a) => onPivot(term('ip', a))} className="min-w-0" />
                    {icmp ? null : <span className="shrink-0 text-muted">:{f.dport}</span>}
                  </div>
                </div>
              );
            })}
          </div>
        </div>
        {footer}
      </div>
    );
  }

  return (
    <div className="scrollbar-thin overflow-x-auto rounded-md border border-edge" data-testid="flow-table" data-rows={flows.length}>
      <div className="min-w-[1080px]">
        <div className={`grid ${COLUMNS} gap-2 border-b border-edge bg-panel-2 px-2 py-1.5 text-[10px] tracking-wider text-muted uppercase`} aria-hidden="true">
          <span>time</span>
          <span>host</span>
          <span>proto</span>
          <span>source</span>
          <span>destination</span>
          <span className="text-right">packets</span>
          <span className="text-right">bytes</span>
          <span className="text-right">duration</span>
          <span>level</span>
          <span>application</span>
        </div>
        <div ref={scroller} className="scrollbar-thin h-[60vh] min-h-72 overflow-y-auto" role="list" aria-label="Flows" data-testid="flow-scroller">
          <div style={{ height: v.getTotalSize(), position: 'relative' }}>
            {items.map((it) => {
              const f = flows[it.index]!;
              return (
                <div
                  key={f.flowId}
                  {...rowProps(f, ROW_PX, it.start)}
                  className={`absolute top-0 left-0 grid w-full ${COLUMNS} cursor-pointer items-center gap-2 border-b border-edge/40 px-2 text-[12px] hover:bg-neon/5 ${tone(f, it.index % 2 === 1)}`}
                >
                  <span className="text-muted tabular-nums" title={f.firstSeen}>
                    {formatTime(f.firstSeen)}
                  </span>
                  <button type="button" className="truncate text-left hover:text-neon hover:underline" onClick={pivot('host', f.agentId)} title={`Filter by host:${f.agentId}`}>
                    {f.hostname ?? f.agentId}
                  </button>
                  <button type="button" className="text-left uppercase hover:text-neon hover:underline" onClick={pivot('proto', f.proto)}>
                    {f.proto}
                  </button>
                  {endpoint(f, f.src, 'sport', f.sport)}
                  {endpoint(f, f.dst, 'dport', f.dport)}
                  <span className="text-right tabular-nums">{formatExact(f.packets)}</span>
                  <span className="text-right tabular-nums" title={`${formatExact(f.bytes)} bytes`}>
                    {formatBytes(f.bytes)}
                  </span>
                  <span className="text-right text-muted tabular-nums">{formatDuration(f.durationMs)}</span>
                  <span>
                    <LevelBadge level={f.level} />
                  </span>
                  <span className="truncate text-muted" title={l7(f)}>
                    {f.threat ? <span className="mr-1 text-danger">⚑ {f.threat}</span> : null}
                    {l7(f)}
                  </span>
                </div>
              );
            })}
          </div>
        </div>
        {footer}
      </div>
    </div>
  );
}
