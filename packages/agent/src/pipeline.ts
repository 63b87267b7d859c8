import type { FlowRecord, HostSecond } from '@nta/shared';
import type { PacketSink } from './capture/packet-sink.js';
import { decodePacket, DecodedPacket, SKIP_REASON_COUNT, SkipReason, skipCountsToRecord } from './decode/index.js';
import { agentSeed, materializeFlow } from './flow/flow-record.js';
import { EndReason, FlowTable, type FlowTableOptions } from './flow/flow-table.js';
import { HostCounters } from './flow/host-counters.js';
import { L7Inspector } from './flow/l7-inspector.js';

export interface PipelineOptions {
  agentId: string;
  flowTable?: Partial<FlowTableOptions>;
  /** Look for DNS/HTTP/TLS hints in the first packets of each flow. */
  l7Hints?: boolean;
}

export interface PipelineHandlers {
  onFlow(flow: FlowRecord): void;
  onHostSecond?(second: HostSecond): void;
}

export interface PipelineStats {
  packets: number;
  bytes: number;
  flows: number;
  activeFlows: number;
  evictedFlows: number;
  skipped: Record<string, number>;
}

/** The last instant a Date can hold; a flow record's times must be in [0, this]. */
const MAX_TIME_MS = 8.64e15;
/** Packet time stepping back this far is a clock reset, or the end of a run of damaged timestamps. */
const CLOCK_RESET_MS = 3_600_000;

/**
 * decode -> flow table -> host counters -> records: the agent's pure core, fed by any
 * packet source. Nothing here reads the clock; time is the packets' own.
 */
export class FlowPipeline implements PacketSink {
  private readonly pkt = new DecodedPacket();
  private readonly table: FlowTable;
  private readonly host: HostCounters;
  private readonly l7: L7Inspector | undefined;
  private readonly seed: number;
  private readonly skipped = new Float64Array(SKIP_REASON_COUNT);
  private packets = 0;
  private bytes = 0;
  private flows = 0;
  /** The next second boundary in packet time; expiry runs once per second of capture. */
  private nextTickMs = -Infinity;

  constructor(options: PipelineOptions, private readonly handlers: PipelineHandlers) {
    this.seed = agentSeed(options.agentId);
    this.l7 = options.l7Hints === false ? undefined : new L7Inspector();
    this.table = new FlowTable(options.flowTable ?? {}, (table, slot, reason) => {
      this.flows++;
      this.handlers.onFlow(materializeFlow(table, slot, reason, this.seed, this.l7?.take(slot)));
    });
    this.host = new HostCounters(this.table, (second) => this.handlers.onHostSecond?.(second));
  }

  packet(linkType: number, tsMs: number, buf: Uint8Array, off: number, capLen: number, wireLen: number): void {
    this.packets++;
    this.bytes += wireLen;
    if (!(tsMs >= 0 && tsMs <= MAX_TIME_MS)) {
      this.skipped[SkipReason.BAD_TIMESTAMP]++;
      return;
    }
    if (tsMs >= this.nextTickMs) this.tick(tsMs);
    else if (tsMs < this.nextTickMs - CLOCK_RESET_MS) this.resetClock(tsMs);
    const pkt = this.pkt;
    const reason = decodePacket(linkType, buf, off, capLen, pkt);
    if (reason !== SkipReason.NONE) {
      this.skipped[reason]++;
      this.host.count(pkt.family !== 0 ? pkt.ipProto : -1, wireLen);
      return;
    }
    this.host.count(pkt.ipProto, wireLen);
    const slot = this.table.ingest(pkt, tsMs, wireLen);
    if (this.l7 !== undefined) this.l7.inspect(this.table, slot, pkt, buf);
  }

  /** Advances time without a packet (live capture on a quiet link): rolls seconds, expires flows. */
  tick(nowMs: number): void {
    this.host.advance(nowMs);
    this.table.expire(nowMs);
    this.nextTickMs = (Math.floor(nowMs / 1000) + 1) * 1000;
  }

  /**
   * Time went far back: a clock step, or the packets after one damaged far-future timestamp.
   * Flows and the current second end here; otherwise expiry and host seconds would wait for
   * packet time to catch up with the bad timestamp, holding everything meanwhile.
   */
  private resetClock(nowMs: number): void {
    this.host.flush();
    this.table.flushAll(EndReason.IDLE);
    this.table.nowMs = nowMs;
    this.tick(nowMs);
  }

  /** Exports everything still held: end of a file, or shutdown. */
  finish(): void {
    this.host.flush();
    this.table.flushAll();
  }

  stats(): PipelineStats {
    return {
      packets: this.packets,
      bytes: this.bytes,
      flows: this.flows,
      activeFlows: this.table.active,
      evictedFlows: this.table.evicted,
      skipped: skipCountsToRecord(this.skipped),
    };
  }
}
