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

/*
 * Storage: three arrays with a fixed stride per slot instead of one array per field, so
 * a packet touches about four cache lines rather than twenty-odd (measured: the
 * field-per-array layout spent ~400 ns a packet in cache misses with 300k flows).
 *
 * key (32 bytes a slot; Uint32 and Int32 views of one buffer):
 *   0 addrA (IPv4, or IPv6 index into v6Words)  1 addrB  2 portA<<16|portB
 *   3 proto | family<<8 | vlan<<16             4 hash-chain next  5 LRU prev  6 LRU next
 *   7 state: initiatorIsA (bit 0), timer class (1-3), FIN directions (4-5), close reason (6-8), L7 state (16-23)
 * num (64 bytes; Float64 view, Uint16 view for the last 8 bytes):
 *   0 firstMs 1 lastMs 2 bytesFromA 3 bytesFromB 4 payloadBytes 5 sizeSumSq 6 iatSumSq
 *   7 = four 16-bit counters: SYN, SYN-ACK, FIN, RST (saturating)
 * cnt (32 bytes; Uint32 and Float32 views):
 *   0 packetsFromA 1 packetsFromB 2 secPackets 3 secBytes 4 iatMin (f32) 5 iatMax (f32)
 *   6 flagsFromA | flagsFromB<<8   7 sizeMin | sizeMax<<16
 */
const INITIAL_BUCKETS = 4096;
const KS = 8;
const K_A = 0, K_B = 1, K_PORTS = 2, K_META = 3, K_CHAIN = 4, K_PREV = 5, K_NEXT = 6, K_STATE = 7;
const NS = 8;
const N_FIRST = 0, N_LAST = 1, N_BYTES_A = 2, N_BYTES_B = 3, N_PAYLOAD = 4, N_SIZE_SQ = 5, N_IAT_SQ = 6;
const N_U16_COUNTERS = 28; // Uint16 index of word 7 within a slot's 32 Uint16s
const CS = 8;
const C_PKTS_A = 0, C_PKTS_B = 1, C_SEC_PKTS = 2, C_SEC_BYTES = 3, C_IAT_MIN = 4, C_IAT_MAX = 5, C_FLAGS = 6, C_SIZE = 7;

const ST_INITIATOR_A = 0x1;
const ST_TIMER_SHIFT = 1;
const ST_TIMER_MASK = 0x7 << ST_TIMER_SHIFT;
const ST_FIN_SHIFT = 4;
const ST_CLOSE_SHIFT = 6;
const ST_L7_SHIFT = 16;

/**
 * Bidirectional flow table in flat typed arrays: no object per flow and no string keys,
 * so ingesting a packet allocates nothing. Endpoint A is the lower of the two
 * (address, port) pairs; the state records which side started the flow.
 * Time comes from packet timestamps, so replaying a capture is deterministic.
 */
export class FlowTable {
  readonly options: FlowTableOptions;
  readonly capacity: number;
  active = 0;
  evicted = 0;
  /** Latest packet time seen; expiry is judged against it. */
  nowMs = 0;

  private bucketMask: number;
  /** Per table and secret, against hash flooding (chains of crafted flows in one bucket). */
  private readonly hashSeed = randomSeed();
  private buckets: Int32Array;
  private readonly key: Uint32Array;
  private readonly link: Int32Array;
  private readonly num: Float64Array;
  private readonly num16: Uint16Array;
  private readonly cnt: Uint32Array;
  private readonly cntF: Float32Array;
  /** IPv6 address words, allocated per IPv6 flow so IPv4 flows pay nothing for them. */
  v6Words: Uint32Array;
  private v6Free: Int32Array;
  private v6FreeCount = 0;
  private v6NextUnused = 0;

  private touched: Int32Array;
  private touchedCount = 0;
  private readonly lruHead = new Int32Array(TIMER_CLASSES).fill(-1);
  private readonly lruTail = new Int32Array(TIMER_CLASSES).fill(-1);
  private readonly timeoutByClass: Float64Array;

  // Slot allocation: never-used slots in order (keeps touched memory compact), then reuse
  // of freed slots, chained through their hash-chain link (no separate free list array).
  private nextUnused = 0;
  private freeHead = -1;

  /** Set by the host counters: called for a flow's current-second activity when it leaves mid-second. */
  onLeaveMidSecond: ((table: FlowTable, slot: number, packets: number, bytes: number) => void) | undefined;

  constructor(
    options: Partial<FlowTableOptions>,
    private readonly onExport: FlowExportHandler,
  ) {
    this.options = { ...DEFAULT_FLOW_TABLE_OPTIONS, ...options };
    const cap = Math.max(16, Math.floor(this.options.maxFlows));
    this.capacity = cap;
    // Buckets hold slot + 1 so that 0 means empty. They grow with the flows held, not the
    // capacity: a bucket array sized to the live flows stays in cache (a 4 MiB one for a
    // million-flow capacity cost a cache miss on nearly every packet).
    this.buckets = new Int32Array(INITIAL_BUCKETS);
    this.bucketMask = INITIAL_BUCKETS - 1;
    const keyBuf = new ArrayBuffer(cap * KS * 4);
    this.key = new Uint32Array(keyBuf);
    this.link = new Int32Array(keyBuf);
    const numBuf = new ArrayBuffer(cap * NS * 8);
    this.num = new Float64Array(numBuf);
    this.num16 = new Uint16Array(numBuf);
    const cntBuf = new ArrayBuffer(cap * CS * 4);
    this.cnt = new Uint32Array(cntBuf);
    this.cntF = new Float32Array(cntBuf);
    this.touched = new Int32Array(1024);
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

  // ---- read access for record building, host counters and the L7 inspector ----
  family(slot: number): number { return (this.key[slot * KS + K_META] >>> 8) & 0xff; }
  proto(slot: number): number { return this.key[slot * KS + K_META] & 0xff; }
  vlan(slot: number): number { return this.key[slot * KS + K_META] >>> 16; }
  /** IPv4 address of endpoint A, or for IPv6 the index of its 8 words in v6Words. */
  addrA(slot: number): number { return this.key[slot * KS + K_A]; }
  addrB(slot: number): number { return this.key[slot * KS + K_B]; }
  ports(slot: number): number { return this.key[slot * KS + K_PORTS]; }
  initiatorIsA(slot: number): boolean { return (this.key[slot * KS + K_STATE] & ST_INITIATOR_A) !== 0; }
  l7State(slot: number): number { return (this.key[slot * KS + K_STATE] >>> ST_L7_SHIFT) & 0xff; }
  setL7State(slot: number, value: number): void {
    const i = slot * KS + K_STATE;
    this.key[i] = ((this.key[i] & ~(0xff << ST_L7_SHIFT)) | ((value & 0xff) << ST_L7_SHIFT)) >>> 0;
  }
  firstMs(slot: number): number { return this.num[slot * NS + N_FIRST]; }
  lastMs(slot: number): number { return this.num[slot * NS + N_LAST]; }
  bytesFromA(slot: number): number { return this.num[slot * NS + N_BYTES_A]; }
  bytesFromB(slot: number): number { return this.num[slot * NS + N_BYTES_B]; }
  payloadBytes(slot: number): number { return this.num[slot * NS + N_PAYLOAD]; }
  sizeSumSq(slot: number): number { return this.num[slot * NS + N_SIZE_SQ]; }
  iatSumSq(slot: number): number { return this.num[slot * NS + N_IAT_SQ]; }
  synCount(slot: number): number { return this.num16[slot * 32 + N_U16_COUNTERS]; }
  synAckCount(slot: number): number { return this.num16[slot * 32 + N_U16_COUNTERS + 1]; }
  finCount(slot: number): number { return this.num16[slot * 32 + N_U16_COUNTERS + 2]; }
  rstCount(slot: number): number { return this.num16[slot * 32 + N_U16_COUNTERS + 3]; }
  packetsFromA(slot: number): number { return this.cnt[slot * CS + C_PKTS_A]; }
  packetsFromB(slot: number): number { return this.cnt[slot * CS + C_PKTS_B]; }
  iatMin(slot: number): number { return this.cntF[slot * CS + C_IAT_MIN]; }
  iatMax(slot: number): number { return this.cntF[slot * CS + C_IAT_MAX]; }
  flagsFromA(slot: number): number { return this.cnt[slot * CS + C_FLAGS] & 0xff; }
  flagsFromB(slot: number): number { return (this.cnt[slot * CS + C_FLAGS] >>> 8) & 0xff; }
  sizeMin(slot: number): number { return this.cnt[slot * CS + C_SIZE] & 0xffff; }
  sizeMax(slot: number): number { return this.cnt[slot * CS + C_SIZE] >>> 16; }

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
    const meta = (proto | (pkt.family << 8) | (pkt.vlan << 16)) >>> 0;
    let h: number;
    if (v6) {
      h = fromA
        ? hash8(this.hashSeed, pkt.src0, pkt.src1, pkt.src2, pkt.src3, pkt.dst0, pkt.dst1, pkt.dst2, pkt.dst3, ports, proto | 0x600)
        : hash8(this.hashSeed, pkt.dst0, pkt.dst1, pkt.dst2, pkt.dst3, pkt.src0, pkt.src1, pkt.src2, pkt.src3, ports, proto | 0x600);
    } else {
      h = fromA ? hash2(this.hashSeed, pkt.src0, pkt.dst0, ports, proto) : hash2(this.hashSeed, pkt.dst0, pkt.src0, ports, proto);
    }

    const key = this.key;
    let slot = this.buckets[h & this.bucketMask] - 1;
    while (slot >= 0) {
      const k = slot * KS;
      if (key[k + K_PORTS] === ports && key[k + K_META] === meta && this.sameAddresses(k, v6, fromA, pkt)) break;
      slot = this.link[k + K_CHAIN];
    }

    const flags = pkt.tcpFlags;
    if (slot >= 0) {
      const timerClass = this.timerClass(slot);
      if (
        (this.options.activeTimeoutMs > 0 && tsMs - this.num[slot * NS + N_FIRST] >= this.options.activeTimeoutMs) ||
        (proto === IpProto.TCP && timerClass === T_TCP_CLOSED && (flags & (SYN | ACK)) === SYN)
      ) {
        // Long-lived flows are reported in pieces; a fresh SYN after a close reuses the ports.
        this.exportAndRemove(slot, timerClass === T_TCP_CLOSED ? this.closeReason(slot) : EndReason.ACTIVE);
        slot = -1;
      }
    }
    if (slot < 0) slot = this.create(pkt, h, ports, meta, fromA, v6, tsMs);
    this.update(slot, fromA, pkt, tsMs, wireLen);
    return slot;
  }

  private sameAddresses(k: number, v6: boolean, fromA: boolean, pkt: DecodedPacket): boolean {
    const key = this.key;
    if (!v6) {
      return fromA
        ? key[k + K_A] === pkt.src0 && key[k + K_B] === pkt.dst0
        : key[k + K_A] === pkt.dst0 && key[k + K_B] === pkt.src0;
    }
    const w = this.v6Words;
    const p = key[k + K_A] * 8;
    return fromA
      ? w[p] === pkt.src0 && w[p + 1] === pkt.src1 && w[p + 2] === pkt.src2 && w[p + 3] === pkt.src3 &&
          w[p + 4] === pkt.dst0 && w[p + 5] === pkt.dst1 && w[p + 6] === pkt.dst2 && w[p + 7] === pkt.dst3
      : w[p] === pkt.dst0 && w[p + 1] === pkt.dst1 && w[p + 2] === pkt.dst2 && w[p + 3] === pkt.dst3 &&
          w[p + 4] === pkt.src0 && w[p + 5] === pkt.src1 && w[p + 6] === pkt.src2 && w[p + 7] === pkt.src3;
  }

  private timerClass(slot: number): number {
    return (this.key[slot * KS + K_STATE] & ST_TIMER_MASK) >>> ST_TIMER_SHIFT;
  }

  private closeReason(slot: number): number {
    return (this.key[slot * KS + K_STATE] >>> ST_CLOSE_SHIFT) & 0x7;
  }

  private create(pkt: DecodedPacket, h: number, ports: number, meta: number, fromA: boolean, v6: boolean, tsMs: number): number {
    if (this.active >= this.capacity) this.evictOldest();
    if (this.active >= this.bucketMask) this.growBuckets();
    let slot: number;
    if (this.freeHead >= 0) {
      slot = this.freeHead;
      this.freeHead = this.link[slot * KS + K_CHAIN];
    } else {
      slot = this.nextUnused++;
    }
    this.active++;
    const key = this.key;
    const k = slot * KS;
    const bucket = h & this.bucketMask;
    this.link[k + K_CHAIN] = this.buckets[bucket] - 1;
    this.buckets[bucket] = slot + 1;
    key[k + K_PORTS] = ports;
    key[k + K_META] = meta;
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
      key[k + K_A] = idx;
      key[k + K_B] = idx;
    } else {
      key[k + K_A] = fromA ? pkt.src0 : pkt.dst0;
      key[k + K_B] = fromA ? pkt.dst0 : pkt.src0;
    }
    // The sender of the first packet initiated the flow, unless the packet is evidently a response.
    const senderInitiated = !looksLikeResponse(pkt);
    let timerClass = T_OTHER;
    if (pkt.ipProto === IpProto.TCP) timerClass = pkt.tcpFlags & SYN ? T_TCP_NEW : T_TCP_ESTABLISHED;
    key[k + K_STATE] = (fromA === senderInitiated ? ST_INITIATOR_A : 0) | (timerClass << ST_TIMER_SHIFT) | (EndReason.IDLE << ST_CLOSE_SHIFT);
    const n = slot * NS;
    const num = this.num;
    num[n + N_FIRST] = tsMs;
    num[n + N_LAST] = tsMs;
    num[n + N_BYTES_A] = 0;
    num[n + N_BYTES_B] = 0;
    num[n + N_PAYLOAD] = 0;
    num[n + N_SIZE_SQ] = 0;
    num[n + N_IAT_SQ] = 0;
    num[n + 7] = 0; // the four 16-bit TCP counters
    const c = slot * CS;
    const cnt = this.cnt;
    cnt[c + C_PKTS_A] = 0;
    cnt[c + C_PKTS_B] = 0;
    cnt[c + C_SEC_PKTS] = 0;
    cnt[c + C_SEC_BYTES] = 0;
    this.cntF[c + C_IAT_MIN] = Infinity;
    this.cntF[c + C_IAT_MAX] = 0;
    cnt[c + C_FLAGS] = 0;
    cnt[c + C_SIZE] = 0xffff;
    this.lruAppend(slot, timerClass);
    return slot;
  }

  private update(slot: number, fromA: boolean, pkt: DecodedPacket, tsMs: number, wireLen: number): void {
    const num = this.num;
    const cnt = this.cnt;
    const n = slot * NS;
    const c = slot * CS;
    if (cnt[c + C_PKTS_A] + cnt[c + C_PKTS_B] > 0) {
      let iat = tsMs - num[n + N_LAST];
      if (iat < 0) iat = 0; // out-of-order timestamps
      num[n + N_IAT_SQ] += iat * iat;
      const cntF = this.cntF;
      if (iat < cntF[c + C_IAT_MIN]) cntF[c + C_IAT_MIN] = iat;
      if (iat > cntF[c + C_IAT_MAX]) cntF[c + C_IAT_MAX] = iat;
    }
    if (tsMs > num[n + N_LAST]) num[n + N_LAST] = tsMs;
    const flags = pkt.tcpFlags;
    if (fromA) {
      if (cnt[c + C_PKTS_A] < 0xffffffff) cnt[c + C_PKTS_A]++;
      num[n + N_BYTES_A] += wireLen;
      cnt[c + C_FLAGS] |= flags;
    } else {
      if (cnt[c + C_PKTS_B] < 0xffffffff) cnt[c + C_PKTS_B]++;
      num[n + N_BYTES_B] += wireLen;
      cnt[c + C_FLAGS] |= flags << 8;
    }
    num[n + N_PAYLOAD] += pkt.payloadLen;
    num[n + N_SIZE_SQ] += wireLen * wireLen;
    const size = wireLen < 0xffff ? wireLen : 0xffff;
    const sizes = cnt[c + C_SIZE];
    const sizeMin = sizes & 0xffff;
    const sizeMax = sizes >>> 16;
    if (size < sizeMin || size > sizeMax) cnt[c + C_SIZE] = ((size < sizeMin ? size : sizeMin) | ((size > sizeMax ? size : sizeMax) << 16)) >>> 0;

    // Per-second activity for host counters.
    if (cnt[c + C_SEC_PKTS] === 0) {
      if (this.touchedCount === this.touched.length) {
        const grown = new Int32Array(this.touched.length * 2);
        grown.set(this.touched);
        this.touched = grown;
      }
      this.touched[this.touchedCount++] = slot;
    }
    cnt[c + C_SEC_PKTS]++;
    cnt[c + C_SEC_BYTES] += wireLen;

    const k = slot * KS;
    const state = this.key[k + K_STATE];
    const oldClass = (state & ST_TIMER_MASK) >>> ST_TIMER_SHIFT;
    let timerClass = oldClass;
    let finDirs = (state >>> ST_FIN_SHIFT) & 0x3;
    let closeReason = (state >>> ST_CLOSE_SHIFT) & 0x7;
    if (pkt.ipProto === IpProto.TCP && flags !== 0) {
      const u16 = this.num16;
      const t = slot * 32 + N_U16_COUNTERS;
      if (flags & SYN) {
        if (flags & ACK) {
          if (u16[t + 1] < 0xffff) u16[t + 1]++;
        } else if (u16[t] < 0xffff) u16[t]++;
      }
      if (flags & FIN && u16[t + 2] < 0xffff) u16[t + 2]++;
      if (flags & RST) {
        if (u16[t + 3] < 0xffff) u16[t + 3]++;
        if (timerClass !== T_TCP_CLOSED) closeReason = EndReason.RST;
        timerClass = T_TCP_CLOSED;
      } else if (flags & FIN) {
        finDirs |= fromA ? 1 : 2;
        if (finDirs === 3) {
          if (timerClass !== T_TCP_CLOSED) closeReason = EndReason.FIN;
          timerClass = T_TCP_CLOSED;
        } else if (timerClass !== T_TCP_CLOSED) {
          timerClass = T_TCP_CLOSING;
        }
      } else if (timerClass === T_TCP_NEW && (flags & (SYN | ACK)) === ACK) {
        timerClass = T_TCP_ESTABLISHED;
      }
      this.key[k + K_STATE] =
        ((state & ~(ST_TIMER_MASK | (0x3 << ST_FIN_SHIFT) | (0x7 << ST_CLOSE_SHIFT))) |
          (timerClass << ST_TIMER_SHIFT) | (finDirs << ST_FIN_SHIFT) | (closeReason << ST_CLOSE_SHIFT)) >>> 0;
    }
    // Move to the tail of its (possibly new) timer list; a flow already there stays put.
    if (timerClass !== oldClass || this.lruTail[oldClass] !== slot) {
      this.lruRemove(slot, oldClass);
      this.lruAppend(slot, timerClass);
    }
  }

  /** Exports every flow idle past its timeout at `nowMs` (packet time, or the clock when live). */
  expire(nowMs: number): number {
    if (nowMs > this.nowMs) this.nowMs = nowMs;
    let exported = 0;
    for (let c = 0; c < TIMER_CLASSES; c++) {
      const timeout = this.timeoutByClass[c];
      let slot = this.lruHead[c];
      while (slot >= 0 && this.num[slot * NS + N_LAST] + timeout <= this.nowMs) {
        const next = this.link[slot * KS + K_NEXT];
        this.exportAndRemove(slot, c === T_TCP_CLOSED ? this.closeReason(slot) : EndReason.IDLE);
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
        this.exportAndRemove(slot, c === T_TCP_CLOSED ? this.closeReason(slot) : reason);
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
    const cnt = this.cnt;
    for (let i = 0; i < this.touchedCount; i++) {
      const c = this.touched[i] * CS;
      // A slot can be listed twice when its flow left and the slot was reused in the same second.
      if (cnt[c + C_SEC_PKTS] === 0) continue;
      visit(this, this.touched[i], cnt[c + C_SEC_PKTS], cnt[c + C_SEC_BYTES]);
      cnt[c + C_SEC_PKTS] = 0;
      cnt[c + C_SEC_BYTES] = 0;
    }
    this.touchedCount = 0;
  }

  private evictOldest(): void {
    let oldest = -1;
    for (let c = 0; c < TIMER_CLASSES; c++) {
      const head = this.lruHead[c];
      if (head >= 0 && (oldest < 0 || this.num[head * NS + N_LAST] < this.num[oldest * NS + N_LAST])) oldest = head;
    }
    if (oldest >= 0) {
      this.evicted++;
      this.exportAndRemove(oldest, EndReason.EVICTED);
    }
  }

  private exportAndRemove(slot: number, reason: number): void {
    this.onExport(this, slot, reason);
    const c = slot * CS;
    if (this.cnt[c + C_SEC_PKTS] !== 0) {
      this.onLeaveMidSecond?.(this, slot, this.cnt[c + C_SEC_PKTS], this.cnt[c + C_SEC_BYTES]);
      this.cnt[c + C_SEC_PKTS] = 0;
      this.cnt[c + C_SEC_BYTES] = 0;
    }
    // Unlink from its hash chain.
    const link = this.link;
    const k = slot * KS;
    const bucket = this.slotHash(slot) & this.bucketMask;
    let cur = this.buckets[bucket] - 1;
    if (cur === slot) {
      this.buckets[bucket] = link[k + K_CHAIN] + 1;
    } else {
      while (cur >= 0) {
        const next = link[cur * KS + K_CHAIN];
        if (next === slot) {
          link[cur * KS + K_CHAIN] = link[k + K_CHAIN];
          break;
        }
        cur = next;
      }
    }
    this.lruRemove(slot, this.timerClass(slot));
    if (this.family(slot) === 6) this.freeV6(this.key[k + K_A]);
    this.key[k + K_META] = 0;
    link[k + K_CHAIN] = this.freeHead;
    this.freeHead = slot;
    this.active--;
  }

  /** Doubles the bucket array and re-chains every live flow (amortised: rare, O(flows)). */
  private growBuckets(): void {
    const size = (this.bucketMask + 1) * 2;
    const buckets = new Int32Array(size);
    const mask = size - 1;
    const link = this.link;
    for (let slot = 0; slot < this.nextUnused; slot++) {
      if (this.key[slot * KS + K_META] === 0) continue; // free slot
      const bucket = this.slotHash(slot) & mask;
      link[slot * KS + K_CHAIN] = buckets[bucket] - 1;
      buckets[bucket] = slot + 1;
    }
    this.buckets = buckets;
    this.bucketMask = mask;
  }

  /** The slot's bucket hash, recomputed from its key (storing it would cost 4 bytes a flow). */
  private slotHash(slot: number): number {
    const k = slot * KS;
    const ports = this.key[k + K_PORTS];
    const proto = this.key[k + K_META] & 0xff;
    if (this.family(slot) === 4) return hash2(this.hashSeed, this.key[k + K_A], this.key[k + K_B], ports, proto);
    const w = this.v6Words;
    const p = this.key[k + K_A] * 8;
    return hash8(this.hashSeed, w[p], w[p + 1], w[p + 2], w[p + 3], w[p + 4], w[p + 5], w[p + 6], w[p + 7], ports, proto | 0x600);
  }

  private lruAppend(slot: number, c: number): void {
    const link = this.link;
    const tail = this.lruTail[c];
    link[slot * KS + K_PREV] = tail;
    link[slot * KS + K_NEXT] = -1;
    if (tail >= 0) link[tail * KS + K_NEXT] = slot;
    else this.lruHead[c] = slot;
    this.lruTail[c] = slot;
  }

  private lruRemove(slot: number, c: number): void {
    const link = this.link;
    const prev = link[slot * KS + K_PREV];
    const next = link[slot * KS + K_NEXT];
    if (prev >= 0) link[prev * KS + K_NEXT] = next;
    else this.lruHead[c] = next;
    if (next >= 0) link[next * KS + K_PREV] = prev;
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
