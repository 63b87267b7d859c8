import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/*
 * pcap_stats for cap 0.2.1, which does not bind it. On Linux, pcap_stats reads
 * getsockopt(PACKET_STATISTICS) on the capture socket (ps_recv, ps_drop) and the growth of
 * /sys/class/net/IF/statistics/rx_missed_errors + rx_fifo_errors since open (ps_ifdrop).
 * Node cannot call getsockopt, so a small perl process that inherits the socket as fd 3
 * makes the call. Neither /sys/.../rx_dropped nor `ss -m` drops (sk_drops, which the
 * TPACKET ring path does not count) is the same thing.
 */

/** /sys/class/net/IF, or undefined for a name that cannot be an interface. */
export function sysfsNetPath(iface: string): string | undefined {
  if (iface.length === 0 || iface.includes('/') || iface === '.' || iface === '..') return undefined;
  return `/sys/class/net/${iface}`;
}
export function readSysfs(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return undefined;
  }
}

export interface CaptureStats {
  /** libpcap ps_recv: packets that passed the filter, including dropped ones. On lo each packet counts twice (outgoing and incoming copies; libpcap discards the outgoing one). */
  received: number;
  /** libpcap ps_drop: packets the kernel dropped because the ring was full. */
  dropped: number;
  /** libpcap ps_ifdrop: growth of rx_missed_errors + rx_fifo_errors of the interface since open. */
  ifDropped: number;
  /** Packets handed to the sink. */
  delivered: number;
  /** Sink calls that threw (the capture carries on). */
  sinkErrors: number;
  /**
   * False when the kernel counters cannot be read (no perl, not Linux) or their reader failed:
   * received is then at least delivered, and dropped holds only what was read before.
   */
  kernelCounters: boolean;
}

/** fd -> socket inode, for the sockets this process has open. */
export function socketFds(): Map<number, string> {
  const out = new Map<number, string>();
  try {
    for (const fd of readdirSync('/proc/self/fd')) {
      try {
        const target = readlinkSync(`/proc/self/fd/${fd}`);
        if (target.startsWith('socket:[')) out.set(Number(fd), target.slice(8, -1));
      } catch {
        // closed meanwhile
      }
    }
  } catch {
    // no procfs
  }
  return out;
}

/** The packet socket that cap.open just created: new since `before`, listed in /proc/net/packet. */
export function findPcapFd(before: Map<number, string>): number | undefined {
  let packetInodes: Set<string>;
  try {
    const lines = readFileSync('/proc/net/packet', 'utf8').trim().split('\n').slice(1);
    packetInodes = new Set(lines.map((l) => l.trim().split(/\s+/)[8]));
  } catch {
    return undefined;
  }
  const found = [...socketFds()].filter(([fd, inode]) => before.get(fd) !== inode && packetInodes.has(inode));
  return found.length === 1 ? found[0][0] : undefined;
}

/**
 * getsockopt(fd 3, SOL_PACKET=263, PACKET_STATISTICS=6) for each line read, printing
 * "tp_packets tp_drops" (perl-base is Essential on Debian). The kernel zeroes these counters
 * on each read, as libpcap's pcap_stats does; we add them up as it does.
 */
const READ_STATS = `my $v = getsockopt($s, 263, 6); if (defined $v) { my ($p, $d) = unpack('LL', $v); print "$p $d\\n" } else { print "E $!\\n" }`;
const OPEN_FD3 = `open(my $s, '+<&=', 3) or die "fd 3: $!\\n"; $| = 1;`;
const STATS_HELPER = `${OPEN_FD3} while (defined(my $l = <STDIN>)) { ${READ_STATS} }`;
const STATS_ONCE = `${OPEN_FD3} ${READ_STATS}`;
const STATS_LINE = /^(\d+) (\d+)$/;

/** The kernel counters behind pcap_stats, read through a helper process that shares the socket. */
export class KernelCounters {
  private received = 0;
  private dropped = 0;
  private readings = 0;
  private failed = false;
  private helper: ChildProcess | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** One callback per request written to the helper, answered in order. */
  private readonly replies: (() => void)[] = [];
  private readonly ifDropBase: number;

  constructor(
    private readonly fd: number | undefined,
    private readonly iface: string,
    intervalMs: number,
  ) {
    this.ifDropBase = this.ifDrops();
    if (fd === undefined) {
      this.failed = true;
      return;
    }
    try {
      const helper = spawn('perl', ['-e', STATS_HELPER], { stdio: ['pipe', 'pipe', 'ignore', fd] });
      this.helper = helper;
      helper.on('error', () => this.fail());
      helper.on('exit', () => this.fail());
      helper.stdin?.on('error', () => this.fail());
      let pending = '';
      helper.stdout?.setEncoding('utf8');
      helper.stdout?.on('data', (chunk: string) => {
        pending += chunk;
        for (let nl = pending.indexOf('\n'); nl >= 0; nl = pending.indexOf('\n')) {
          this.add(pending.slice(0, nl));
          this.replies.shift()?.();
          pending = pending.slice(nl + 1);
        }
      });
      this.timer = setInterval(() => this.ask(() => {}), intervalMs);
      this.timer.unref();
      this.ask(() => {});
    } catch {
      this.fail();
    }
  }

  private add(line: string): void {
    const m = STATS_LINE.exec(line);
    if (!m) return this.fail();
    // u32 counters zeroed on each read: at one read a second they cannot wrap.
    this.received += Number(m[1]);
    this.dropped += Number(m[2]);
    this.readings++;
  }

  private ask(reply: () => void): void {
    if (this.helper === undefined || this.failed || this.replies.length > 8) return reply();
    this.replies.push(reply);
    this.helper.stdin?.write('\n');
  }

  refresh(): Promise<void> {
    return new Promise((resolve) => {
      const timeout = setTimeout(resolve, 2000);
      this.ask(() => {
        clearTimeout(timeout);
        resolve();
      });
    });
  }

  private fail(): void {
    if (this.helper === undefined) return; // stopped: the helper's exit is expected
    this.failed = true;
    for (const reply of this.replies.splice(0)) reply();
  }

  /**
   * One last synchronous read, then the helper is told to exit (it answers what it was asked
   * first, so no reading is lost). It holds a copy of the socket, which keeps the ring alive
   * until it exits: a timer kills it if it lingers.
   */
  stop(): void {
    clearInterval(this.timer);
    const helper = this.helper;
    this.helper = undefined;
    if (helper === undefined) return;
    if (!this.failed && this.fd !== undefined) {
      const r = spawnSync('perl', ['-e', STATS_ONCE], { stdio: ['ignore', 'pipe', 'ignore', this.fd], encoding: 'utf8', timeout: 2000 });
      if (r.status === 0) this.add(r.stdout.trim());
    }
    helper.stdin?.end();
    setTimeout(() => helper.kill('SIGKILL'), 1000).unref();
    for (const reply of this.replies.splice(0)) reply();
  }

  private ifDrops(): number {
    const base = sysfsNetPath(this.iface);
    if (base === undefined) return 0;
    const read = (name: string): number => Number(readSysfs(`${base}/statistics/${name}`) ?? 0) || 0;
    return read('rx_missed_errors') + read('rx_fifo_errors');
  }

  /** After a helper failure the kernel counts stop growing: received is then at least delivered. */
  snapshot(delivered: number, sinkErrors: number): CaptureStats {
    return {
      received: Math.max(this.received, delivered),
      dropped: this.dropped,
      ifDropped: Math.max(0, this.ifDrops() - this.ifDropBase),
      delivered,
      sinkErrors,
      kernelCounters: this.readings > 0 && !this.failed,
    };
  }
}
