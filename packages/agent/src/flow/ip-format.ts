/** Text forms of addresses held as 32-bit words (network order), for records and logs. */
export function formatIpv4(w: number): string {
  return `${w >>> 24}.${(w >>> 16) & 255}.${(w >>> 8) & 255}.${w & 255}`;
}

/** RFC 5952: lower-case hex, the longest run (2+) of zero groups as '::'. */
export function formatIpv6(w0: number, w1: number, w2: number, w3: number): string {
  const groups = [w0 >>> 16, w0 & 0xffff, w1 >>> 16, w1 & 0xffff, w2 >>> 16, w2 & 0xffff, w3 >>> 16, w3 & 0xffff];
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestStart < 0) return groups.map((g) => g.toString(16)).join(':');
  const head = groups.slice(0, bestStart).map((g) => g.toString(16)).join(':');
  const tail = groups.slice(bestStart + bestLen).map((g) => g.toString(16)).join(':');
  return `${head}::${tail}`;
}

export function protoName(ipProto: number): string {
  switch (ipProto) {
    case 1: return 'icmp';
    case 2: return 'igmp';
    case 6: return 'tcp';
    case 17: return 'udp';
    case 47: return 'gre';
    case 50: return 'esp';
    case 51: return 'ah';
    case 58: return 'icmpv6';
    case 89: return 'ospf';
    case 103: return 'pim';
    case 132: return 'sctp';
    default: return `ip-${ipProto}`;
  }
}

const TCP_FLAG_LETTERS = 'FSRPAUEC';
/** TCP flag bits as letters in tcpdump's order of bits: F S R P A U E C. */
export function tcpFlagsToString(flags: number): string {
  let out = '';
  for (let bit = 0; bit < 8; bit++) if (flags & (1 << bit)) out += TCP_FLAG_LETTERS[bit];
  return out;
}
