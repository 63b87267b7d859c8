import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import { ErrorCode, NtaError } from '@nta/shared';
import { type CaptureStats, findPcapFd, KernelCounters, readSysfs, socketFds, sysfsNetPath } from './live-stats.js';
import { LinkType, type PacketSink } from './packet-sink.js';

export type { CaptureStats } from './live-stats.js';

/*
 * Live capture through `cap` 0.2.1 (libpcap). What its binding (src/binding.cc) gives JS,
 * and what this shell does about what it does not:
 * - 'packet' events carry only (copied length, truncated): no pcap timestamp and no original
 *   length. Timestamps are wall-clock at delivery: Date.now() sampled at open plus
 *   performance.now() deltas (monotonic, fractional ms). wireLen is capLen unless the packet
 *   hit the snap length, where it is read from the IPv4/IPv6 length field when present.
 * - snaplen 65535, promiscuous mode, immediate mode and a 1 s timeout are fixed. A smaller
 *   snapLen is honoured by copying less (the kernel still copies up to 65535 into the ring).
 *   Immediate mode makes libpcap use TPACKET_V2, whose ring has fixed frames of ~64 KiB for
 *   Ethernet with offloads and for lo: bufferBytes / 65616 packets can queue (2046 at 128 MiB).
 * - pcap_stats is not bound. The kernel counters it reads (PACKET_STATISTICS on the pcap
 *   socket) are read by a small perl helper that inherits the socket as fd 3; ifDropped is
 *   libpcap's own formula (rx_missed_errors + rx_fifo_errors from sysfs, since open).
 * - No Cap object may ever be garbage-collected. One whose open() threw aborts the process
 *   when collected (its destructor calls uv_poll_stop on a poll handle never initialised).
 *   One that was closed leaves its poll handle, never uv_close()d, linked in libuv's handle
 *   queue, so freeing it is a use-after-free (valgrind shows libuv writing into the freed
 *   248-byte object; vitest workers died of it). So every Cap is kept for the life of the
 *   process (`retain`: a few hundred bytes each), and the common failures (no device,
 *   interface down, no permission, bad filter) are caught before the real open, with a
 *   probe whose failed handle has a minimal ring.
 * - cap keeps a raw pointer to the JS Buffer it copies packets into but no reference to it:
 *   the Buffer must be kept alive by us for as long as the handle is open.
 */

/** The part of the `cap` module this file uses (it ships no types). */
interface CapHandle {
  open(device: string, filter: string, bufSize: number, buffer: Buffer): string;
  close(): boolean;
  on(event: 'packet', listener: (copiedLen: number, truncated: boolean) => void): unknown;
  removeAllListeners(event: 'packet'): unknown;
}
export interface CapDevice {
  name: string;
  description?: string;
  addresses: { addr?: string; netmask?: string; broadaddr?: string; dstaddr?: string }[];
  flags?: string;
}
interface CapModule {
  Cap: { new (): CapHandle; deviceList(): CapDevice[] };
}

export type CaptureFailure =
  | 'unavailable'
  | 'bad-option'
  | 'no-such-device'
  | 'interface-down'
  | 'permission-denied'
  | 'bad-filter'
  | 'unsupported-link-type'
  | 'other';

/** A live capture that could not start; the message says which interface and why. */
export class CaptureOpenError extends NtaError {
  readonly iface: string;
  readonly reason: CaptureFailure;
  constructor(iface: string, reason: CaptureFailure, detail: string, options: { cause?: unknown } = {}) {
    super(ErrorCode.CAPTURE_OPEN, `capture on ${JSON.stringify(iface)} failed: ${detail}`, options);
    this.iface = iface;
    this.reason = reason;
  }
}

let capModule: CapModule | undefined;
let capLoadError: unknown;

/** The native `cap` module, loaded on first use; throws if the addon is not built. */
export function loadCap(): CapModule {
  if (capModule) return capModule;
  if (capLoadError === undefined) {
    try {
      capModule = createRequire(import.meta.url)('cap') as CapModule;
      return capModule;
    } catch (err) {
      capLoadError = err;
    }
  }
  throw new NtaError(ErrorCode.CAPTURE_OPEN, `live capture unavailable: the cap addon did not load (${(capLoadError as Error).message})`, {
    cause: capLoadError,
  });
}

const retained: unknown[] = [];
/** Keeps a Cap (and, for one that failed to open, its buffer) reachable for the life of the process. */
function retain(cap: CapHandle, buffer?: Buffer): void {
  retained.push(cap);
  if (buffer) retained.push(buffer);
}

/** cap's link type names (binding.cc) and a few spellings of later versions, as LINKTYPE_* numbers. */
const LINK_TYPE_BY_NAME: Record<string, number> = {
  NULL: LinkType.NULL,
  ETHERNET: LinkType.ETHERNET,
  RAW: LinkType.RAW,
  LINKTYPE_LINUX_SLL: LinkType.LINUX_SLL,
  LINUX_SLL: LinkType.LINUX_SLL,
  LINUX_SLL2: LinkType.LINUX_SLL2,
  LOOP: LinkType.LOOP,
  IPV4: LinkType.IPV4,
  IPV6: LinkType.IPV6,
  IEEE802_11_RADIO: 127,
};
const DECODED_LINK_TYPES = new Set<number>(Object.values(LinkType));

/**
 * Maps cap's link type string to a LINKTYPE_* number. cap names five DLTs and reports others
 * as "Unknown linktype N"; from 104 up a DLT equals its LINKTYPE (LINUX_SLL2 276, IPV4 228...).
 */
export function linkTypeFromCap(name: string): number | undefined {
  const known = LINK_TYPE_BY_NAME[name];
  if (known !== undefined) return known;
  const m = /^Unknown linktype (\d+)$/.exec(name);
  return m && Number(m[1]) >= 104 ? Number(m[1]) : undefined;
}

const CAP_NET_RAW = 13n;
/** Whether this process holds CAP_NET_RAW (root normally does); undefined off Linux. */
export function hasNetRawCapability(): boolean | undefined {
  try {
    const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    return m ? ((BigInt(`0x${m[1]}`) >> CAP_NET_RAW) & 1n) === 1n : undefined;
  } catch {
    return undefined;
  }
}

const IFF_UP = 0x1;
/** Checks that need no pcap handle: the addon loads, the device exists and is up, we may capture. */
function precheck(iface: string): CapModule {
  let cap: CapModule;
  try {
    cap = loadCap();
  } catch (err) {
    throw new CaptureOpenError(iface, 'unavailable', (err as Error).message, { cause: err });
  }
  const sys = sysfsNetPath(iface);
  if (sys !== undefined && existsSync(sys)) {
    const flags = readSysfs(`${sys}/flags`);
    if (flags !== undefined && (Number.parseInt(flags, 16) & IFF_UP) === 0) {
      throw new CaptureOpenError(iface, 'interface-down', 'interface is down');
    }
  } else if (existsSync('/sys/class/net')) {
    // Not a kernel interface here: it may still be a libpcap pseudo-device ("any", "nflog").
    let names: string[] | undefined;
    try {
      names = cap.Cap.deviceList().map((d) => d.name);
    } catch {
      // pcap_findalldevs failed: let the open itself report.
    }
    if (names && !names.includes(iface)) {
      throw new CaptureOpenError(iface, 'no-such-device', `no such device (available: ${names.join(', ') || 'none'})`);
    }
  }
  if (hasNetRawCapability() === false) throw permissionDenied(iface);
  return cap;
}

function permissionDenied(iface: string, cause?: unknown): CaptureOpenError {
  return new CaptureOpenError(iface, 'permission-denied', 'permission denied (live capture needs root or CAP_NET_RAW)', { cause });
}

/** Turns a libpcap message from cap.open into one clear error. */
function openFailure(iface: string, filter: string, err: unknown): CaptureOpenError {
  const msg = (err as Error).message ?? String(err);
  if (/no such device/i.test(msg)) return new CaptureOpenError(iface, 'no-such-device', 'no such device', { cause: err });
  if (/operation not permitted|permission|EPERM|EACCES/i.test(msg)) return permissionDenied(iface, err);
  if (/not up/i.test(msg)) return new CaptureOpenError(iface, 'interface-down', 'interface is down', { cause: err });
  if (filter !== '' && !/unable to set|socket|ioctl|mmap|activate/i.test(msg)) {
    return new CaptureOpenError(iface, 'bad-filter', `bad filter ${JSON.stringify(filter)}: ${msg}`, { cause: err });
  }
  return new CaptureOpenError(iface, 'other', msg, { cause: err });
}

/**
 * Opens and closes a handle with a minimal ring (and the filter, if any). If that fails, the
 * handle kept alive forever is small; the real open with a large ring then rarely fails.
 */
function probeOpen(cap: CapModule, iface: string, filter: string): void {
  const handle = new cap.Cap();
  const buffer = Buffer.alloc(64);
  try {
    handle.open(iface, filter, 1, buffer);
  } catch (err) {
    retain(handle, buffer);
    throw openFailure(iface, filter, err);
  }
  handle.close();
  retain(handle);
}

export type CanCaptureResult = { ok: true } | { ok: false; reason: CaptureFailure; message: string };

/** Whether live capture on `iface` is permitted here: prechecks plus a real open of a tiny ring (~10 ms). */
export function canCapture(iface: string): CanCaptureResult {
  try {
    probeOpen(precheck(iface), iface, '');
    return { ok: true };
  } catch (err) {
    if (err instanceof CaptureOpenError) return { ok: false, reason: err.reason, message: err.message };
    return { ok: false, reason: 'other', message: (err as Error).message };
  }
}

export interface LiveCaptureOptions {
  iface: string;
  /** BPF filter, compiled by libpcap (tcpdump syntax). */
  filter?: string;
  /** Bytes delivered per packet, 1..65535 (default 65535, the most cap can do). */
  snapLen?: number;
  /** Default true; false is refused: cap 0.2.1 always opens in promiscuous mode. */
  promiscuous?: boolean;
  /** Kernel ring size in bytes (default 128 MiB); see the note on ring frames above. */
  bufferBytes?: number;
  /** How often the kernel counters behind stats() are refreshed (default 1000 ms). */
  statsIntervalMs?: number;
}

export interface LiveCapture {
  readonly iface: string;
  /** LINKTYPE_* number of the packets delivered. */
  readonly linkType: number;
  /** cap's own name for it ('ETHERNET', 'LINKTYPE_LINUX_SLL', ...). */
  readonly linkTypeName: string;
  /** Counters as of the last refresh (at most statsIntervalMs old) plus live delivered/ifDropped. */
  stats(): CaptureStats;
  /** Reads the kernel counters now. */
  refreshStats(): Promise<CaptureStats>;
  /** The first error a sink threw, if any. */
  readonly lastSinkError: unknown;
  /** Stops capturing; idempotent, safe inside the sink. stats() keeps the last values. */
  close(): void;
}

const MIB = 1024 * 1024;
const CAP_SNAPLEN = 65535;

export function openLiveCapture(opts: LiveCaptureOptions, sink: PacketSink): LiveCapture {
  const { iface } = opts;
  const filter = opts.filter ?? '';
  const snapLen = opts.snapLen ?? CAP_SNAPLEN;
  const bufferBytes = opts.bufferBytes ?? 128 * MIB;
  if (!Number.isInteger(snapLen) || snapLen < 1 || snapLen > CAP_SNAPLEN) {
    throw new CaptureOpenError(iface, 'bad-option', `snapLen must be an integer from 1 to ${CAP_SNAPLEN} (cap opens libpcap with ${CAP_SNAPLEN}), got ${snapLen}`);
  }
  if (!Number.isInteger(bufferBytes) || bufferBytes < 1 || bufferBytes > 0x7fffffff) {
    throw new CaptureOpenError(iface, 'bad-option', `bufferBytes must be an integer from 1 to ${0x7fffffff}, got ${bufferBytes}`);
  }
  const statsIntervalMs = opts.statsIntervalMs ?? 1000;
  if (!Number.isInteger(statsIntervalMs) || statsIntervalMs < 10) {
    throw new CaptureOpenError(iface, 'bad-option', `statsIntervalMs must be an integer of at least 10, got ${statsIntervalMs}`);
  }
  if (opts.promiscuous === false) {
    throw new CaptureOpenError(iface, 'bad-option', 'promiscuous: false is not supported (cap 0.2.1 always opens in promiscuous mode)');
  }
  const cap = precheck(iface);
  if (filter !== '') probeOpen(cap, iface, filter);

  const handle = new cap.Cap();
  const buffer = Buffer.alloc(snapLen);
  const fdsBefore = socketFds();
  let linkTypeName: string;
  try {
    linkTypeName = handle.open(iface, filter, bufferBytes, buffer);
  } catch (err) {
    retain(handle, buffer);
    throw openFailure(iface, filter, err);
  }
  retain(handle);
  const linkType = linkTypeFromCap(linkTypeName);
  if (linkType === undefined || !DECODED_LINK_TYPES.has(linkType)) {
    handle.close();
    throw new CaptureOpenError(iface, 'unsupported-link-type', `link type ${linkTypeName} is not one the agent decodes`);
  }

  const counters = new KernelCounters(findPcapFd(fdsBefore), iface, statsIntervalMs);
  const wallAtOpen = Date.now();
  const monoAtOpen = performance.now();
  let delivered = 0;
  let sinkErrors = 0;
  let lastSinkError: unknown;
  let closed = false;

  handle.on('packet', (capLen: number, truncated: boolean) => {
    delivered++;
    const tsMs = wallAtOpen + (performance.now() - monoAtOpen);
    const wireLen = truncated || capLen >= CAP_SNAPLEN ? inferWireLen(linkType, buffer, capLen) : capLen;
    try {
      sink.packet(linkType, tsMs, buffer, 0, capLen, wireLen);
    } catch (err) {
      if (sinkErrors++ === 0) lastSinkError = err;
    }
  });

  const stats = (): CaptureStats => counters.snapshot(delivered, sinkErrors);
  return {
    iface,
    linkType,
    linkTypeName,
    stats,
    refreshStats: async () => {
      if (!closed) await counters.refresh();
      return stats();
    },
    get lastSinkError() {
      return lastSinkError;
    },
    close() {
      if (closed) return;
      closed = true;
      counters.stop();
      handle.close();
      // cap no longer touches the buffer; the handle itself stays retained.
      handle.removeAllListeners('packet');
    },
  };
}

/**
 * The original length of a packet cut at the snap length, from its IPv4 total length or IPv6
 * payload length; capLen when the headers do not say.
 */
export function inferWireLen(linkType: number, b: Uint8Array, capLen: number): number {
  let off: number;
  let etherType: number;
  if (linkType === LinkType.ETHERNET) {
    if (capLen < 14) return capLen;
    etherType = (b[12] << 8) | b[13];
    off = 14;
    while ((etherType === 0x8100 || etherType === 0x88a8) && off + 4 <= capLen) {
      etherType = (b[off + 2] << 8) | b[off + 3];
      off += 4;
    }
  } else if (linkType === LinkType.LINUX_SLL) {
    if (capLen < 16) return capLen;
    etherType = (b[14] << 8) | b[15];
    off = 16;
  } else if (linkType === LinkType.RAW || linkType === LinkType.IPV4 || linkType === LinkType.IPV6) {
    if (capLen < 1) return capLen;
    etherType = b[0] >> 4 === 4 ? 0x0800 : b[0] >> 4 === 6 ? 0x86dd : 0;
    off = 0;
  } else {
    return capLen;
  }
  if (etherType === 0x0800 && off + 4 <= capLen) return Math.max(capLen, off + ((b[off + 2] << 8) | b[off + 3]));
  if (etherType === 0x86dd && off + 6 <= capLen) {
    const payload = (b[off + 4] << 8) | b[off + 5];
    return payload === 0 ? capLen : Math.max(capLen, off + 40 + payload);
  }
  return capLen;
}
