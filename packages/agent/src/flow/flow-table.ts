import type { DecodedPacket } from '../decode/packet.js';
import { IpProto, looksLikeResponse } from '../decode/transport.js';
import { hash2, hash8, randomSeed } from './hash.js';

export interface FlowTableOptions {
  /** Concurrent flows held; when full the least recently seen flow is exported as 'evicted'. */
  maxFlows: number;
  /** A flow active this long is exported and continues as a new record; 0 disables. */
  activeTimeoutMs: number;
  /** UDP, ICMP and other protocols. */
  idleTimeoutMs: number;
  tcpNewIdleTimeoutMs: number;
  tcpEstablishedIdleTimeoutMs: number;
  /** After a FIN in one direction. */
  tcpClosingIdleTimeoutMs: number;
  /** After FINs both ways or a RST: brief, so trailing ACKs stay in the flow. */
  tcpClosedIdleTimeoutMs: number;
}

export const DEFAULT_FLOW_TABLE_OPTIONS: FlowTableOptions = Object.freeze({
  maxFlows: 1 << 20,
  activeTimeoutMs: 60_000,
  idleTimeoutMs: 15_000,
  tcpNewIdleTimeoutMs: 30_000,
  tcpEstablishedIdleTimeoutMs: 300_000,
  tcpClosingIdleTimeoutMs: 120_000,
  tcpClosedIdleTimeoutMs: 2_000,
});

/** Why a flow left the table; indices into FLOW_END_REASONS. */
export const EndReason = { IDLE: 0, ACTIVE: 1, FIN: 2, RST: 3, EVICTED: 4, END: 5 } as const;
export const FLOW_END_REASONS = ['idle', 'active', 'fin', 'rst', 'evicted', 'end'] as const;
export type FlowEndReasonName = (typeof FLOW_END_REASONS)[number];

/** Timer classes: one LRU list each, so the head of a list is always the next to idle out. */
const T_OTHER = 0;
const T_TCP_NEW = 1;
const T_TCP_ESTABLISHED = 2;
const T_TCP_CLOSING = 3;
const T_TCP_CLOSED = 4;
const TIMER_CLASSES = 5;

const FIN = 0x01;
const SYN = 0x02;
const RST = 0x04;
const ACK = 0x10;

/** Receives a flow as it leaves the table. Read it through the table's getters during the call. */
export type FlowExportHandler = (table: FlowTable, slot: number, reason: number) => void;

/**
 * Bidirectional flow table in struct-of-arrays form: no object per flow and no string
 * keys, so ingesting a packet allocates nothing. Endpoint A is the lower of the two
 * (address, port) pairs; `initiatorIsA` records which side started the flow.
 * Time comes from packet timestamps, so replaying a capture is deterministic.
 */
export class FlowTable {
  readonly options: FlowTableOptions;
  readonly capacity: number;
  active = 0;
  evicted = 0;
  created = 0;
  /** Latest packet time seen; expiry is judged against it. */
  nowMs = 0;

  private readonly bucketMask: number;
  /** Per table and secret, against hash flooding (chains of crafted flows in one bucket). */
  private readonly hashSeed = randomSeed();
  private readonly buckets: Int32Array;
  private readonly chainNext: Int32Array;
  // Key (canonical order). For IPv6, addrA/addrB index v6Words (8 words per flow: A then B).
  readonly addrA: Uint32Array;
  readonly addrB: Uint32Array;
  readonly ports: Uint32Array; // portA << 16 | portB
  readonly proto: Uint8Array;
  readonly family: Uint8Array;
  readonly vlan: Uint16Array;
  readonly initiatorIsA: Uint8Array;
  // State.
  readonly timerClass: Uint8Array;
  readonly finDirs: Uint8Array; // bit 0: FIN from A, bit 1: FIN from B
  readonly closeReason: Uint8Array;
  readonly flagsFromA: Uint8Array;
  readonly flagsFromB: Uint8Array;
  readonly l7State: Uint8Array; // owned by the L7 inspector
  // Counters and features.
  readonly firstMs: Float64Array;
  readonly lastMs: Float64Array;
  readonly packetsFromA: Uint32Array;
  readonly packetsFromB: Uint32Array;
  readonly bytesFromA: Float64Array;
  readonly bytesFromB: Float64Array;
  readonly payloadBytes: Float64Array;
  /** Frame sizes clamp at 65535 (TSO super-frames can be larger). */
  readonly sizeMin: Uint16Array;
  readonly sizeMax: Uint16Array;
  readonly sizeSumSq: Float64Array;
  readonly iatSumSq: Float64Array;
  readonly iatMin: Float32Array;
  readonly iatMax: Float32Array;
  readonly synCount: Uint16Array;
  readonly synAckCount: Uint16Array;
  readonly finCount: Uint16Array;
  readonly rstCount: Uint16Array;
  // Per-second activity, folded into host counters at each second boundary; a flow is on
  // the touched list while its secPackets is non-zero.
  readonly secPackets: Uint32Array;
  readonly secBytes: Uint32Array;
  private touched: Int32Array;
  private touchedCount = 0;

  // LRU lists per timer class.
  private readonly lruPrev: Int32Array;
  private readonly lruNext: Int32Array;
  private readonly lruHead = new Int32Array(TIMER_CLASSES).fill(-1);
  private readonly lruTail = new Int32Array(TIMER_CLASSES).fill(-1);
  private readonly timeoutByClass: Float64Array;

  // Slot allocation: never-used slots in order (keeps touched memory compact), then reuse.
  private nextUnused = 0;
  private readonly freeSlots: Int32Array;
  private freeCount = 0;

  // IPv6 address words, allocated per IPv6 flow so IPv4 flows pay nothing for them.
  v6Words: Uint32Array;
  private v6Free: Int32Array;
  private v6FreeCount = 0;
  private v6NextUnused = 0;

  constructor(
    options: Partial<FlowTableOptions>,
    private readonly onExport: FlowExportHandler,
  ) {
    this.options = { ...DEFAULT_FLOW_TABLE_OPTIONS, ...options };
    const cap = Math.max(16, Math.floor(this.options.maxFlows));
    this.capacity = cap;
    let buckets = 16;
    while (buckets < cap) buckets *= 2;
    this.bucketMask = buckets - 1;
    // Buckets hold slot + 1 so that 0 means empty and the zeroed array needs no fill (its pages stay untouched until used).
    this.buckets = new Int32Array(buckets);
    this.chainNext = new Int32Array(cap);
    this.addrA = new Uint32Array(cap);
    this.addrB = new Uint32Array(cap);
    this.ports = new Uint32Array(cap);
    this.proto = new Uint8Array(cap);
    this.family = new Uint8Array(cap);
    this.vlan = new Uint16Array(cap);
    this.initiatorIsA = new Uint8Array(cap);
    this.timerClass = new Uint8Array(cap);
    this.finDirs = new Uint8Array(cap);
    this.closeReason = new Uint8Array(cap);
    this.flagsFromA = new Uint8Array(cap);
    this.flagsFromB = new Uint8Array(cap);
    this.l7State = new Uint8Array(cap);
    this.firstMs = new Float64Array(cap);
    this.lastMs = new Float64Array(cap);
    this.packetsFromA = new Uint32Array(cap);
    this.packetsFromB = new Uint32Array(cap);
    this.bytesFromA = new Float64Array(cap);
    this.bytesFromB = new Float64Array(cap);
    this.payloadBytes = new Float64Array(cap);
    this.sizeMin = new Uint16Array(cap);
    this.sizeMax = new Uint16Array(cap);
    this.sizeSumSq = new Float64Array(cap);
    this.iatSumSq = new Float64Array(cap);
    this.iatMin = new Float32Array(cap);
    this.iatMax = new Float32Array(cap);
    this.synCount = new Uint16Array(cap);
    this.synAckCount = new Uint16Array(cap);
    this.finCount = new Uint16Array(cap);
    this.rstCount = new Uint16Array(cap);
    this.secPackets = new Uint32Array(cap);
    this.secBytes = new Uint32Array(cap);
    this.touched = new Int32Array(1024);
    this.lruPrev = new Int32Array(cap);
    this.lruNext = new Int32Array(cap);
    this.freeSlots = new Int32Array(cap);
    this.v6Words = new Uint32Array(8 * 1024);
    this.v6Free = new Int32Array(1024);
    const o = this.options;
    this.timeoutByClass = Float64Array.from([
      o.idleTimeoutMs,
      o.tcpNewIdleTimeoutMs,
      o.tcpEstablishedIdleTimeoutMs,
      o.tcpClosingIdleTimeoutMs,
      o.tcpClosedIdleTimeoutMs,
    ]);
  }

  /**
   * Adds one decoded IP packet (with ports already decoded) to its flow, creating the
   * flow when needed. Returns the flow's slot.
   */
  ingest(pkt: DecodedPacket, tsMs: number, wireLen: number): number {
    if (tsMs > this.nowMs) this.nowMs = tsMs;
    const proto = pkt.ipProto;
    const v6 = pkt.family === 6;
    // Canonical order: endpoint A is the lower (address, port).
    let fromA: boolean;
    if (v6) {
      const c = compare4(pkt.src0, pkt.src1, pkt.src2, pkt.src3, pkt.dst0, pkt.dst1, pkt.dst2, pkt.dst3);
      fromA = c < 0 || (c === 0 && pkt.sport <= pkt.dport);
    } else {
      fromA = pkt.src0 < pkt.dst0 || (pkt.src0 === pkt.dst0 && pkt.sport <= pkt.dport);
    }
    const ports = fromA ? ((pkt.sport << 16) | pkt.dport) >>> 0 : ((pkt.dport << 16) | pkt.sport) >>> 0;
    let h: number;
    if (v6) {
      h = fromA
        ? hash8(this.hashSeed, pkt.src0, pkt.src1, pkt.src2, pkt.src3, pkt.dst0, pkt.dst1, pkt.dst2, pkt.dst3, ports, proto | 0x600)
        : hash8(this.hashSeed, pkt.dst0, pkt.dst1, pkt.dst2, pkt.dst3, pkt.src0, pkt.src1, pkt.src2, pkt.src3, ports, proto | 0x600);
    } else {
      h = fromA ? hash2(this.hashSeed, pkt.src0, pkt.dst0, ports, proto) : hash2(this.hashSeed, pkt.dst0, pkt.src0, ports, proto);
    }
    const vlan = pkt.vlan;

    let slot = this.buckets[h & this.bucketMask] - 1;
    while (slot >= 0) {
      if (
        this.ports[slot] === ports &&
        this.proto[slot] === proto &&
        this.vlan[slot] === vlan &&
        this.sameAddresses(slot, v6, fromA, pkt)
      ) {
        break;
      }
      slot = this.chainNext[slot];
    }

    const flags = pkt.tcpFlags;
    if (slot >= 0) {
      if (
        (this.options.activeTimeoutMs > 0 && tsMs - this.firstMs[slot] >= this.options.activeTimeoutMs) ||
        (proto === IpProto.TCP && this.timerClass[slot] === T_TCP_CLOSED && (flags & (SYN | ACK)) === SYN)
      ) {
        // Long-lived flows are reported in pieces; a fresh SYN after a close reuses the ports.
        const reason = this.timerClass[slot] === T_TCP_CLOSED ? this.closeReason[slot] : EndReason.ACTIVE;
        this.exportAndRemove(slot, reason);
        slot = -1;
      }
    }
    if (slot < 0) slot = this.create(pkt, h, ports, fromA, v6, tsMs);
    this.update(slot, fromA, pkt, tsMs, wireLen);
    return slot;
  }

  private sameAddresses(slot: number, v6: boolean, fromA: boolean, pkt: DecodedPacket): boolean {
    if (!v6) {
      if (this.family[slot] !== 4) return false;
      return fromA
        ? this.addrA[slot] === pkt.src0 && this.addrB[slot] === pkt.dst0
        : this.addrA[slot] === pkt.dst0 && this.addrB[slot] === pkt.src0;
    }
    if (this.family[slot] !== 6) return false;
    const w = this.v6Words;
    const p = this.addrA[slot] * 8;
    return fromA
      ? w[p] === pkt.src0 && w[p + 1] === pkt.src1 && w[p + 2] === pkt.src2 && w[p + 3] === pkt.src3 &&
          w[p + 4] === pkt.dst0 && w[p + 5] === pkt.dst1 && w[p + 6] === pkt.dst2 && w[p + 7] === pkt.dst3
      : w[p] === pkt.dst0 && w[p + 1] === pkt.dst1 && w[p + 2] === pkt.dst2 && w[p + 3] === pkt.dst3 &&
          w[p + 4] === pkt.src0 && w[p + 5] === pkt.src1 && w[p + 6] === pkt.src2 && w[p + 7] === pkt.src3;
  }

  private create(pkt: DecodedPacket, h: number, ports: number, fromA: boolean, v6: boolean, tsMs: number): number {
    if (this.active >= this.capacity) this.evictOldest();
    const slot = this.freeCount > 0 ? this.freeSlots[--this.freeCount] : this.nextUnused++;
    this.active++;
    this.created++;
    const bucket = h & this.bucketMask;
    this.chainNext[slot] = this.buckets[bucket] - 1;
    this.buckets[bucket] = slot + 1;
    this.ports[slot] = ports;
    this.proto[slot] = pkt.ipProto;
    this.vlan[slot] = pkt.vlan;
    if (v6) {
      const idx = this.allocV6();
      const w = this.v6Words;
      const p = idx * 8;
      if (fromA) {
        w[p] = pkt.src0; w[p + 1] = pkt.src1; w[p + 2] = pkt.src2; w[p + 3] = pkt.src3;
        w[p + 4] = pkt.dst0; w[p + 5] = pkt.dst1; w[p + 6] = pkt.dst2; w[p + 7] = pkt.dst3;
      } else {
        w[p] = pkt.dst0; w[p + 1] = pkt.dst1; w[p + 2] = pkt.dst2; w[p + 3] = pkt.dst3;
        w[p + 4] = pkt.src0; w[p + 5] = pkt.src1; w[p + 6] = pkt.src2; w[p + 7] = pkt.src3;
      }
      this.addrA[slot] = idx;
      this.addrB[slot] = idx;
      this.family[slot] = 6;
    } else {
      this.addrA[slot] = fromA ? pkt.src0 : pkt.dst0;
      this.addrB[slot] = fromA ? pkt.dst0 : pkt.src0;
      this.family[slot] = 4;
    }
    // The sender of the first packet initiated the flow, unless the packet is evidently a response.
    const senderInitiated = !looksLikeResponse(pkt);
    this.initiatorIsA[slot] = fromA === senderInitiated ? 1 : 0;
    this.finDirs[slot] = 0;
    this.closeReason[slot] = EndReason.IDLE;
    this.flagsFromA[slot] = 0;
    this.flagsFromB[slot] = 0;
    this.l7State[slot] = 0;
    this.firstMs[slot] = tsMs;
    this.lastMs[slot] = tsMs;
    this.packetsFromA[slot] = 0;
    this.packetsFromB[slot] = 0;
    this.bytesFromA[slot] = 0;
    this.bytesFromB[slot] = 0;
    this.payloadBytes[slot] = 0;
    this.sizeMin[slot] = 0xffff;
    this.sizeMax[slot] = 0;
    this.sizeSumSq[slot] = 0;
    this.iatSumSq[slot] = 0;
    this.iatMin[slot] = Infinity;
    this.iatMax[slot] = 0;
    this.synCount[slot] = 0;
    this.synAckCount[slot] = 0;
    this.finCount[slot] = 0;
    this.rstCount[slot] = 0;
    this.secPackets[slot] = 0;
    this.secBytes[slot] = 0;
    let timerClass = T_OTHER;
    if (pkt.ipProto === IpProto.TCP) timerClass = pkt.tcpFlags & SYN ? T_TCP_NEW : T_TCP_ESTABLISHED;
    this.timerClass[slot] = timerClass;
    this.lruAppend(slot, timerClass);
    return slot;
  }

  private update(slot: number, fromA: boolean, pkt: DecodedPacket, tsMs: number, wireLen: number): void {
    const packets = this.packetsFromA[slot] + this.packetsFromB[slot];
    if (packets > 0) {
      let iat = tsMs - this.lastMs[slot];
      if (iat < 0) iat = 0; // out-of-order timestamps
      this.iatSumSq[slot] += iat * iat;
      if (iat < this.iatMin[slot]) this.iatMin[slot] = iat;
      if (iat > this.iatMax[slot]) this.iatMax[slot] = iat;
    }
    if (tsMs > this.lastMs[slot]) this.lastMs[slot] = tsMs;
    const flags = pkt.tcpFlags;
    if (fromA) {
      if (this.packetsFromA[slot] < 0xffffffff) this.packetsFromA[slot]++;
      this.bytesFromA[slot] += wireLen;
      this.flagsFromA[slot] |= flags;
    } else {
      if (this.packetsFromB[slot] < 0xffffffff) this.packetsFromB[slot]++;
      this.bytesFromB[slot] += wireLen;
      this.flagsFromB[slot] |= flags;
    }
    this.payloadBytes[slot] += pkt.payloadLen;
    const size = wireLen < 0xffff ? wireLen : 0xffff;
    if (size < this.sizeMin[slot]) this.sizeMin[slot] = size;
    if (size > this.sizeMax[slot]) this.sizeMax[slot] = size;
    this.sizeSumSq[slot] += wireLen * wireLen;

    // Per-second activity for host counters.
    if (this.secPackets[slot] === 0) {
      if (this.touchedCount === this.touched.length) {
        const grown = new Int32Array(this.touched.length * 2);
        grown.set(this.touched);
        this.touched = grown;
      }
      this.touched[this.touchedCount++] = slot;
    }
    this.secPackets[slot]++;
    this.secBytes[slot] += wireLen;

    let timerClass = this.timerClass[slot];
    if (pkt.ipProto === IpProto.TCP) {
      if (flags & SYN) {
        if (flags & ACK) {
          if (this.synAckCount[slot] < 0xffff) this.synAckCount[slot]++;
        } else if (this.synCount[slot] < 0xffff) this.synCount[slot]++;
      }
      if (flags & FIN && this.finCount[slot] < 0xffff) this.finCount[slot]++;
      if (flags & RST) {
        if (this.rstCount[slot] < 0xffff) this.rstCount[slot]++;
        if (timerClass !== T_TCP_CLOSED) this.closeReason[slot] = EndReason.RST;
        timerClass = T_TCP_CLOSED;
      } else if (flags & FIN) {
        this.finDirs[slot] |= fromA ? 1 : 2;
        if (this.finDirs[slot] === 3) {
          if (timerClass !== T_TCP_CLOSED) this.closeReason[slot] = EndReason.FIN;
          timerClass = T_TCP_CLOSED;
        } else if (timerClass !== T_TCP_CLOSED) {
          timerClass = T_TCP_CLOSING;
        }
      } else if (timerClass === T_TCP_NEW && (flags & (SYN | ACK)) === ACK) {
        timerClass = T_TCP_ESTABLISHED;
      }
    }
    // Move to the tail of its (possibly new) timer list.
    this.lruRemove(slot, this.timerClass[slot]);
    this.timerClass[slot] = timerClass;
    this.lruAppend(slot, timerClass);
  }

  /** Exports every flow idle past its timeout at `nowMs` (packet time, or the clock when live). */
  expire(nowMs: number): number {
    if (nowMs > this.nowMs) this.nowMs = nowMs;
    let exported = 0;
    for (let c = 0; c < TIMER_CLASSES; c++) {
      const timeout = this.timeoutByClass[c];
      let slot = this.lruHead[c];
      while (slot >= 0 && this.lastMs[slot] + timeout <= this.nowMs) {
        const next = this.lruNext[slot];
        this.exportAndRemove(slot, c === T_TCP_CLOSED ? this.closeReason[slot] : EndReason.IDLE);
        exported++;
        slot = next;
      }
    }
    return exported;
  }

  /** Exports every flow still in the table (end of a file, shutdown). */
  flushAll(reason: number = EndReason.END): number {
    let exported = 0;
    for (let c = 0; c < TIMER_CLASSES; c++) {
      while (this.lruHead[c] >= 0) {
        const slot = this.lruHead[c];
        this.exportAndRemove(slot, c === T_TCP_CLOSED ? this.closeReason[slot] : reason);
        exported++;
      }
    }
    return exported;
  }

  /**
   * Visits every flow active in the current second with its packets and bytes in that
   * second, then starts a new second. Flows that left the table during the second were
   * visited as they left.
   */
  rollSecond(visit: (table: FlowTable, slot: number, packets: number, bytes: number) => void): void {
    for (let i = 0; i < this.touchedCount; i++) {
      const slot = this.touched[i];
      // A slot can be listed twice when its flow left and the slot was reused in the same second.
      if (this.secPackets[slot] === 0) continue;
      visit(this, slot, this.secPackets[slot], this.secBytes[slot]);
      this.secPackets[slot] = 0;
      this.secBytes[slot] = 0;
    }
    this.touchedCount = 0;
  }

  /** Set by the host counters: called for a flow's current-second activity when it leaves mid-second. */
  onLeaveMidSecond: ((table: FlowTable, slot: number, packets: number, bytes: number) => void) | undefined;

  private evictOldest(): void {
    let oldest = -1;
    for (let c = 0; c < TIMER_CLASSES; c++) {
      const head = this.lruHead[c];
      if (head >= 0 && (oldest < 0 || this.lastMs[head] < this.lastMs[oldest])) oldest = head;
    }
    if (oldest >= 0) {
      this.evicted++;
      this.exportAndRemove(oldest, EndReason.EVICTED);
    }
  }

  private exportAndRemove(slot: number, reason: number): void {
    this.onExport(this, slot, reason);
    if (this.secPackets[slot] !== 0) {
      this.onLeaveMidSecond?.(this, slot, this.secPackets[slot], this.secBytes[slot]);
      this.secPackets[slot] = 0;
      this.secBytes[slot] = 0;
    }
    // Unlink from its hash chain.
    const bucket = this.slotHash(slot) & this.bucketMask;
    let cur = this.buckets[bucket] - 1;
    if (cur === slot) {
      this.buckets[bucket] = this.chainNext[slot] + 1;
    } else {
      while (cur >= 0) {
        const next = this.chainNext[cur];
        if (next === slot) {
          this.chainNext[cur] = this.chainNext[slot];
          break;
        }
        cur = next;
      }
    }
    this.lruRemove(slot, this.timerClass[slot]);
    if (this.family[slot] === 6) this.freeV6(this.addrA[slot]);
    this.family[slot] = 0;
    this.freeSlots[this.freeCount++] = slot;
    this.active--;
  }

  /** The slot's bucket hash, recomputed from its key (storing it would cost 4 bytes a flow). */
  private slotHash(slot: number): number {
    const ports = this.ports[slot];
    const proto = this.proto[slot];
    if (this.family[slot] === 4) return hash2(this.hashSeed, this.addrA[slot], this.addrB[slot], ports, proto);
    const w = this.v6Words;
    const p = this.addrA[slot] * 8;
    return hash8(this.hashSeed, w[p], w[p + 1], w[p + 2], w[p + 3], w[p + 4], w[p + 5], w[p + 6], w[p + 7], ports, proto | 0x600);
  }

  private lruAppend(slot: number, c: number): void {
    const tail = this.lruTail[c];
    this.lruPrev[slot] = tail;
    this.lruNext[slot] = -1;
    if (tail >= 0) this.lruNext[tail] = slot;
    else this.lruHead[c] = slot;
    this.lruTail[c] = slot;
  }

  private lruRemove(slot: number, c: number): void {
    const prev = this.lruPrev[slot];
    const next = this.lruNext[slot];
    if (prev >= 0) this.lruNext[prev] = next;
    else this.lruHead[c] = next;
    if (next >= 0) this.lruPrev[next] = prev;
    else this.lruTail[c] = prev;
  }

  private allocV6(): number {
    if (this.v6FreeCount > 0) return this.v6Free[--this.v6FreeCount];
    const idx = this.v6NextUnused++;
    if ((idx + 1) * 8 > this.v6Words.length) {
      const grown = new Uint32Array(this.v6Words.length * 2);
      grown.set(this.v6Words);
      this.v6Words = grown;
      const free = new Int32Array(this.v6Free.length * 2);
      free.set(this.v6Free);
      this.v6Free = free;
    }
    return idx;
  }

  private freeV6(idx: number): void {
    this.v6Free[this.v6FreeCount++] = idx;
  }
}

function compare4(a0: number, a1: number, a2: number, a3: number, b0: number, b1: number, b2: number, b3: number): number {
  if (a0 !== b0) return a0 < b0 ? -1 : 1;
  if (a1 !== b1) return a1 < b1 ? -1 : 1;
  if (a2 !== b2) return a2 < b2 ? -1 : 1;
  if (a3 !== b3) return a3 < b3 ? -1 : 1;
  return 0;
}
