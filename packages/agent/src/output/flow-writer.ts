import type { FlowRecord } from '@nta/shared';
import { tcpFlagsToString } from '../flow/ip-format.js';

export type OutputFormat = 'ndjson' | 'csv' | 'none';

const CSV_COLUMNS = [
  'first_seen', 'last_seen', 'proto', 'src', 'sport', 'dst', 'dport',
  'packets_to_dst', 'packets_to_src', 'bytes_to_dst', 'bytes_to_src', 'packets', 'bytes',
  'tcp_flags_to_dst', 'tcp_flags_to_src', 'end_reason', 'vlan',
  'dns_query', 'dns_rcode', 'http_method', 'http_host', 'tls_sni', 'tls_alpn', 'flow_id',
] as const;

const FLUSH_AT_CHARS = 256 * 1024;

/**
 * Writes flows to a stream as NDJSON or CSV, buffering into large writes. `drain()`
 * resolves when the stream can take more, so a fast reader cannot outrun a slow pipe.
 */
export class FlowWriter {
  private pending = '';
  private lines = 0;

  constructor(
    private readonly format: OutputFormat,
    private readonly out: NodeJS.WritableStream,
  ) {
    if (format === 'csv') this.pending = CSV_COLUMNS.join(',') + '\n';
  }

  get written(): number {
    return this.lines;
  }

  write(flow: FlowRecord): void {
    if (this.format === 'none') return;
    this.pending += this.format === 'csv' ? toCsvRow(flow) : toNdjsonLine(flow);
    this.lines++;
    if (this.pending.length >= FLUSH_AT_CHARS) this.flushBuffer();
  }

  /** Flushes buffered lines; resolves once the stream is ready for more. */
  async drain(): Promise<void> {
    if (this.flushBuffer()) return;
    await new Promise<void>((resolve) => this.out.once('drain', resolve));
  }

  private flushBuffer(): boolean {
    if (this.pending.length === 0) return true;
    const ok = this.out.write(this.pending);
    this.pending = '';
    return ok;
  }
}

/** ISO 8601 when a Date can hold the time, the number of milliseconds otherwise. */
function isoTime(ms: number): string {
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? String(ms) : d.toISOString();
}

export function toNdjsonLine(flow: FlowRecord): string {
  const human = {
    firstSeen: isoTime(flow.firstSeenMs),
    lastSeen: isoTime(flow.lastSeenMs),
    proto: flow.proto,
    src: flow.src,
    sport: flow.sport,
    dst: flow.dst,
    dport: flow.dport,
    tcpFlags: tcpFlagsToString(flow.tcpFlagsToDst | flow.tcpFlagsToSrc),
  };
  return JSON.stringify({ ...human, ...flow }) + '\n';
}

function csvField(value: string | number | undefined): string {
  if (value === undefined) return '';
  const s = String(value);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function toCsvRow(f: FlowRecord): string {
  const l7 = f.l7;
  return [
    isoTime(f.firstSeenMs), isoTime(f.lastSeenMs), f.proto,
    f.src, f.sport, f.dst, f.dport,
    f.packetsToDst, f.packetsToSrc, f.bytesToDst, f.bytesToSrc, f.packets, f.bytes,
    tcpFlagsToString(f.tcpFlagsToDst), tcpFlagsToString(f.tcpFlagsToSrc), f.endReason, f.vlan,
    l7?.dnsQuery, l7?.dnsRcode, l7?.httpMethod, l7?.httpHost, l7?.tlsSni, l7?.tlsAlpn?.join(' '), f.flowId,
  ].map(csvField).join(',') + '\n';
}
