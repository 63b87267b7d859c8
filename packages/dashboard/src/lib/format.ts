/** Number, size, rate and time formatting for the console; exact figures go in titles. */

const UNITS = ['B', 'KB', 'MB', 'GB', 'TB', 'PB'];

/** 1536 -> "1.5 KB" (decimal steps of 1000, as network tools count). */
export function formatBytes(n: number): string {
  if (!Number.isFinite(n)) return '—';
  let v = Math.abs(n);
  let i = 0;
  while (v >= 1000 && i < UNITS.length - 1) {
    v /= 1000;
    i++;
  }
  const digits = i === 0 || v >= 100 ? 0 : v >= 10 ? 1 : 2;
  return `${n < 0 ? '-' : ''}${v.toFixed(digits)} ${UNITS[i]}`;
}

export function formatBits(bytesPerS: number): string {
  if (!Number.isFinite(bytesPerS)) return '—';
  const bits = bytesPerS * 8;
  const units = ['b/s', 'kb/s', 'Mb/s', 'Gb/s', 'Tb/s'];
  let v = bits;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${v.toFixed(v >= 100 || i === 0 ? 0 : 1)} ${units[i]}`;
}

/** 12345 -> "12.3k"; below 10,000 the exact figure. */
export function formatCount(n: number): string {
  if (!Number.isFinite(n)) return '—';
  const a = Math.abs(n);
  if (a < 10_000) return formatExact(n);
  if (a < 1e6) return `${(n / 1e3).toFixed(a < 1e5 ? 1 : 0)}k`;
  if (a < 1e9) return `${(n / 1e6).toFixed(a < 1e7 ? 2 : 1)}M`;
  if (a < 1e12) return `${(n / 1e9).toFixed(2)}G`;
  if (a < 1e15) return `${(n / 1e12).toFixed(2)}T`;
  return n.toExponential(2);
}

/** A window's length in words: "45 s", "3 min", "5 min". */
export function formatSpan(ms: number): string {
  if (ms < 90_000) return `${Math.max(1, Math.round(ms / 1000))} s`;
  return `${Math.round(ms / 60_000)} min`;
}

const exact = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 });
export function formatExact(n: number): string {
  return Number.isFinite(n) ? exact.format(n) : '—';
}

export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(s < 10 ? 2 : 1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${Math.round(s % 60)}s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h ${m % 60}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** Local wall-clock time "14:03:07" (with the date when it is not today). */
export function formatTime(t: string | number, now = Date.now()): string {
  const d = new Date(t);
  if (Number.isNaN(d.getTime())) return '—';
  const hms = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  const today = new Date(now);
  if (d.toDateString() === today.toDateString()) return hms;
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${hms}`;
}

/** "3 s ago", "5 min ago", "2 h ago". */
export function formatAgo(t: string | number, now = Date.now()): string {
  const ms = now - new Date(t).getTime();
  if (!Number.isFinite(ms)) return '—';
  if (ms < 1500) return 'just now';
  if (ms < 60_000) return `${Math.round(ms / 1000)} s ago`;
  if (ms < 3_600_000) return `${Math.round(ms / 60_000)} min ago`;
  if (ms < 172_800_000) return `${Math.round(ms / 3_600_000)} h ago`;
  return `${Math.round(ms / 86_400_000)} d ago`;
}

/** Axis label for a time bucket, precise enough for the span shown. */
export function formatAxisTime(ms: number, spanMs: number): string {
  const d = new Date(ms);
  if (spanMs <= 3 * 3_600_000) return `${pad(d.getHours())}:${pad(d.getMinutes())}${spanMs <= 600_000 ? `:${pad(d.getSeconds())}` : ''}`;
  if (spanMs <= 2 * 86_400_000) return `${pad(d.getHours())}:${pad(d.getMinutes())}`;
  return `${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}h`;
}

export function formatEndpoint(addr: string, port: number, proto: string): string {
  if (proto === 'icmp' || proto === 'icmpv6') return addr;
  return addr.includes(':') ? `[${addr}]:${port}` : `${addr}:${port}`;
}
