/**
 * Whether an address is inside the organisation's own space: private, loopback, link-local,
 * CGNAT, multicast and other non-routable ranges (RFC 1918, 6598, 4193, 4291). The upload
 * detector watches only traffic to addresses outside these. Text in, no allocation-heavy parsing:
 * only the leading octets are read.
 */
export function isInternalAddress(addr: string): boolean {
  if (addr.includes(':')) return isInternalV6(addr);
  const firstDot = addr.indexOf('.');
  const a = Number(addr.slice(0, firstDot));
  const b = Number(addr.slice(firstDot + 1, addr.indexOf('.', firstDot + 1)));
  if (a === 10 || a === 127 || a === 0) return true;
  if (a === 172 && b >= 16 && b <= 31) return true;
  if (a === 192 && b === 168) return true;
  if (a === 169 && b === 254) return true;
  if (a === 100 && b >= 64 && b <= 127) return true;
  return a >= 224; // multicast, reserved, broadcast
}

function isInternalV6(addr: string): boolean {
  const lower = addr.toLowerCase();
  if (lower === '::1' || lower === '::') return true;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  if (mapped !== null) return isInternalAddress(mapped[1]);
  const firstWord = Number.parseInt(lower.split(':', 1)[0] || '0', 16);
  if ((firstWord & 0xfe00) === 0xfc00) return true; // fc00::/7 unique local
  if ((firstWord & 0xffc0) === 0xfe80) return true; // fe80::/10 link-local
  return (firstWord & 0xff00) === 0xff00; // ff00::/8 multicast
}
