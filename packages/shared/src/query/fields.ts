/**
 * The filter language's field catalogue: one entry per field the console can autocomplete
 * and the parser accepts. Kinds decide how a value is read; compilers decide the columns.
 */

export const PROTOCOL_NAMES = ['tcp', 'udp', 'icmp', 'icmpv6', 'sctp', 'gre', 'esp', 'ah', 'igmp', 'ospf', 'pim'] as const;
export const LEVEL_NAMES = ['normal', 'suspicious', 'malicious'] as const;
/** Labels stored in the country columns for addresses that have no country (see AddressScope). */
export const SCOPE_LABELS = [
  'private',
  'loopback',
  'link-local',
  'multicast',
  'cgnat',
  'reserved',
  'documentation',
  'unspecified',
] as const;
export const END_REASONS = ['idle', 'active', 'fin', 'rst', 'evicted', 'end'] as const;

export const FIELD_NAMES = [
  'proto',
  'src',
  'dst',
  'ip',
  'sport',
  'dport',
  'port',
  'host',
  'level',
  'country',
  'srccountry',
  'dstcountry',
  'asn',
  'srcasn',
  'dstasn',
  'vlan',
  'bytes',
  'packets',
  'duration',
  'dns',
  'sni',
  'httphost',
  'threat',
  'endreason',
  'family',
] as const;
export type FieldName = (typeof FIELD_NAMES)[number];

/**
 * How a field's value is read: `integer`, `bytes` and `duration` are numbers with their own
 * suffixes; `pattern` is text with `*` wildcards; `enum` accepts only `values`.
 */
export type QueryFieldKind =
  | 'protocol'
  | 'address'
  | 'port'
  | 'host'
  | 'level'
  | 'country'
  | 'integer'
  | 'bytes'
  | 'duration'
  | 'pattern'
  | 'threat'
  | 'enum';

export interface QueryField {
  readonly name: FieldName;
  readonly aliases: readonly string[];
  readonly kind: QueryFieldKind;
  readonly description: string;
  readonly example: string;
  /** What autocomplete offers after `field:`; for `enum`, `level` and `protocol` names, what is accepted. */
  readonly values: readonly string[];
  /** Whether `<`, `<=`, `>`, `>=` and ranges `a-b` apply. */
  readonly ordered: boolean;
  /** Inclusive numeric bounds, for ordered fields. */
  readonly min?: number;
  readonly max?: number;
}

const MAX_SAFE = Number.MAX_SAFE_INTEGER;

export const QUERY_FIELDS: readonly QueryField[] = [
  {
    name: 'proto',
    aliases: ['protocol'],
    kind: 'protocol',
    description: 'Transport protocol by name, ip-N, or IP protocol number 0-255',
    example: 'proto:tcp',
    values: PROTOCOL_NAMES,
    ordered: false,
  },
  address('src', [], 'Source (initiator) address or CIDR', 'src:10.0.0.0/8'),
  address('dst', [], 'Destination (responder) address or CIDR', 'dst:2001:db8::/32'),
  address('ip', ['addr'], 'Either end of the flow, address or CIDR', 'ip:192.168.1.10'),
  port('sport', ['srcport'], 'Source port (ICMP: type); ranges, lists, comparisons', 'sport:>=1024'),
  port('dport', ['dstport'], 'Destination port (ICMP: code); ranges, lists, comparisons', 'dport:80,443'),
  port('port', [], 'Either port of the flow', 'port:1-1023'),
  {
    name: 'host',
    aliases: ['agent', 'hostname'],
    kind: 'host',
    description: 'Agent id or hostname that captured the flow; * wildcards',
    example: 'host:web-*',
    values: [],
    ordered: false,
  },
  {
    name: 'level',
    aliases: [],
    kind: 'level',
    description: 'Verdict of the scoring: normal < suspicious < malicious',
    example: 'level>=suspicious',
    values: LEVEL_NAMES,
    ordered: true,
    min: 0,
    max: 2,
  },
  country('country', [], 'Country of either end: ISO 3166 alpha-2 or address scope', 'country:DE'),
  country('srccountry', [], 'Country of the source: ISO 3166 alpha-2 or address scope', 'srccountry:private'),
  country('dstcountry', [], 'Country of the destination: ISO 3166 alpha-2 or address scope', 'dstcountry:US'),
  integer('asn', [], 'Autonomous system number of either end (AS prefix optional)', 'asn:13335', 4_294_967_295),
  integer('srcasn', [], 'Autonomous system number of the source', 'srcasn:AS3320', 4_294_967_295),
  integer('dstasn', [], 'Autonomous system number of the destination', 'dstasn:15169', 4_294_967_295),
  integer('vlan', [], '802.1Q VLAN id', 'vlan:100', 4095),
  {
    name: 'bytes',
    aliases: [],
    kind: 'bytes',
    description: 'Bytes in both directions; suffixes k/M/G (x1000) and KiB/MiB/GiB (x1024)',
    example: 'bytes>1M',
    values: [],
    ordered: true,
    min: 0,
    max: MAX_SAFE,
  },
  integer('packets', ['pkts'], 'Packets in both directions; suffixes k/M/G', 'packets<10', MAX_SAFE),
  {
    name: 'duration',
    aliases: ['dur'],
    kind: 'duration',
    description: 'Flow duration; units ms, s, m, h (bare numbers are ms)',
    example: 'duration>5s',
    values: [],
    ordered: true,
    min: 0,
    max: MAX_SAFE,
  },
  pattern('dns', ['dnsquery'], 'DNS query name; * wildcards, case-insensitive', 'dns:*.example.com'),
  pattern('sni', ['tlssni'], 'TLS server name (SNI); * wildcards, case-insensitive', 'sni:*.google.com'),
  pattern('httphost', ['http'], 'HTTP Host header; * wildcards, case-insensitive', 'httphost:api.*'),
  {
    name: 'threat',
    aliases: [],
    kind: 'threat',
    description: 'Listed by threat intelligence: true, false, or a feed name',
    example: 'threat:firehol_level1',
    values: ['true', 'false'],
    ordered: false,
  },
  {
    name: 'endreason',
    aliases: [],
    kind: 'enum',
    description: 'Why the flow record was emitted',
    example: 'endreason:rst',
    values: END_REASONS,
    ordered: false,
  },
  {
    name: 'family',
    aliases: [],
    kind: 'enum',
    description: 'IP version: 4 or 6',
    example: 'family:6',
    values: ['4', '6'],
    ordered: false,
  },
];

function address(name: FieldName, aliases: string[], description: string, example: string): QueryField {
  return { name, aliases, kind: 'address', description, example, values: [], ordered: false };
}

function port(name: FieldName, aliases: string[], description: string, example: string): QueryField {
  return { name, aliases, kind: 'port', description, example, values: [], ordered: true, min: 0, max: 65535 };
}

function country(name: FieldName, aliases: string[], description: string, example: string): QueryField {
  return { name, aliases, kind: 'country', description, example, values: SCOPE_LABELS, ordered: false };
}

function integer(name: FieldName, aliases: string[], description: string, example: string, max: number): QueryField {
  return { name, aliases, kind: 'integer', description, example, values: [], ordered: true, min: 0, max };
}

function pattern(name: FieldName, aliases: string[], description: string, example: string): QueryField {
  return { name, aliases, kind: 'pattern', description, example, values: [], ordered: false };
}

const byName = new Map<string, QueryField>();
for (const field of QUERY_FIELDS) {
  byName.set(field.name, field);
  for (const alias of field.aliases) byName.set(alias, field);
}

/** The field called `name` or one of its aliases, case-insensitively. */
export function findQueryField(name: string): QueryField | undefined {
  return byName.get(name.toLowerCase());
}

/** The known field name or alias closest to a misspelt one, if any is close enough to suggest. */
export function closestFieldName(name: string): string | undefined {
  const lower = name.toLowerCase();
  let best: string | undefined;
  let bestDistance = Math.max(1, Math.min(2, Math.floor(lower.length / 3)));
  for (const candidate of byName.keys()) {
    const distance = editDistance(lower, candidate);
    if (distance <= bestDistance && (best === undefined || distance < bestDistance)) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/** Edit distance counting a swap of neighbours as one edit (`dprot` is one away from `dport`). */
function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2) return 3;
  let beforePrevious: number[] = [];
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      let best = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, beforePrevious[j - 2] + 1);
      current.push(best);
    }
    beforePrevious = previous;
    previous = current;
  }
  return previous[b.length];
}
