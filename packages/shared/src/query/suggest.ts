/**
 * Autocomplete for the console's filter box: field names while a field is being typed,
 * enumerated values after `field:` (or `field>=`, or after a comma in a list). Pure: it
 * looks only at the text and the cursor.
 */
import { QUERY_FIELDS, findQueryField, type QueryField } from './fields.js';

export interface QuerySuggestion {
  /** What to show. */
  readonly label: string;
  readonly detail: string;
  /** What to put in place of input[from, to). */
  readonly insert: string;
}

export interface QuerySuggestions {
  readonly from: number;
  readonly to: number;
  readonly items: readonly QuerySuggestion[];
}

const KEYWORDS = [
  { label: 'and', detail: 'both sides must match' },
  { label: 'or', detail: 'either side may match' },
  { label: 'not', detail: 'the next term must not match' },
];

const VALUE_DETAILS: Record<string, string> = {
  tcp: 'IP protocol 6',
  udp: 'IP protocol 17',
  icmp: 'IP protocol 1',
  icmpv6: 'IP protocol 58',
  sctp: 'IP protocol 132',
  gre: 'IP protocol 47',
  esp: 'IP protocol 50',
  ah: 'IP protocol 51',
  igmp: 'IP protocol 2',
  ospf: 'IP protocol 89',
  pim: 'IP protocol 103',
  normal: 'scored as ordinary traffic',
  suspicious: 'flagged for a look',
  malicious: 'flagged as an attack or listed threat',
  private: 'RFC 1918 / ULA address',
  loopback: '127.0.0.0/8, ::1',
  'link-local': '169.254.0.0/16, fe80::/10',
  multicast: '224.0.0.0/4, ff00::/8',
  cgnat: '100.64.0.0/10',
  reserved: 'reserved address space',
  documentation: 'documentation ranges (TEST-NET, 2001:db8::/32)',
  unspecified: '0.0.0.0, ::',
  true: 'listed by any threat feed',
  false: 'not listed by any threat feed',
  idle: 'no packets for the idle timeout',
  active: 'cut by the active timeout',
  fin: 'TCP closed with FIN',
  rst: 'TCP reset',
  evicted: 'evicted from a full flow table',
  end: 'capture ended',
  '4': 'IPv4',
  '6': 'IPv6',
};

const TERM_START = /^([A-Za-z_][A-Za-z0-9_]*)(:>=|:<=|:>|:<|>=|<=|!=|:|=|>|<)/;

function isBoundary(c: string): boolean {
  return c === '(' || c === ')' || /\s/.test(c);
}

export function suggest(input: string, cursor: number): QuerySuggestions {
  const text = typeof input === 'string' ? input : '';
  const at = Number.isFinite(cursor) ? Math.min(Math.max(0, Math.trunc(cursor)), text.length) : text.length;
  if (insideQuotes(text, at)) return { from: at, to: at, items: [] };
  let start = at;
  while (start > 0 && !isBoundary(text[start - 1])) start--;
  while (start < at && (text[start] === '!' || text[start] === '&' || text[start] === '|')) start++;
  const word = text.slice(start, at);
  const term = TERM_START.exec(word);
  if (term) {
    const field = findQueryField(term[1]);
    const valueStart = start + term[0].length;
    const from = Math.max(valueStart, text.lastIndexOf(',', at - 1) + 1);
    const to = extend(text, at, (c) => isBoundary(c) || c === ',');
    return { from, to, items: field ? suggestValues(field, text.slice(from, at)) : [] };
  }
  const to = extend(text, at, (c) => !/[A-Za-z0-9_]/.test(c));
  return { from: start, to, items: suggestFields(word) };
}

function extend(text: string, from: number, stop: (c: string) => boolean): number {
  let end = from;
  while (end < text.length && !stop(text[end])) end++;
  return end;
}

/** Whether the cursor sits inside an unterminated "..." value. */
function insideQuotes(text: string, at: number): boolean {
  let inside = false;
  for (let i = 0; i < at; i++) {
    if (inside && text[i] === '\\') i++;
    else if (text[i] === '"') inside = !inside;
  }
  return inside;
}

function suggestValues(field: QueryField, prefix: string): QuerySuggestion[] {
  const lower = prefix.toLowerCase();
  return field.values
    .filter((value) => value.startsWith(lower))
    .map((value) => ({ label: value, detail: VALUE_DETAILS[value] ?? field.description, insert: value }));
}

function suggestFields(prefix: string): QuerySuggestion[] {
  const lower = prefix.toLowerCase();
  // Fields whose own name matches come before those found through an alias.
  const byName = QUERY_FIELDS.filter((field) => field.name.startsWith(lower));
  const byAlias = QUERY_FIELDS.filter((field) => !field.name.startsWith(lower) && field.aliases.some((alias) => alias.startsWith(lower)));
  const fields = [...byName, ...byAlias].map((field) => ({
    label: field.name,
    detail: `${field.description} (e.g. ${field.example})`,
    insert: `${field.name}:`,
  }));
  const keywords = lower.length === 0 ? [] : KEYWORDS.filter((keyword) => keyword.label.startsWith(lower)).map((keyword) => ({ ...keyword, insert: keyword.label }));
  return [...fields, ...keywords];
}
