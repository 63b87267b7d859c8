/**
 * Compiles a filter's syntax tree into a function over StoredFlow, with the same meaning as
 * compileFilterSql: it decides which live flows a WebSocket subscriber receives, so it must
 * agree with what the same filter returns from the database. A missing value (no VLAN, no
 * country, no SNI) never matches, as SQL NULL does not; `not` of a non-match is a match.
 */
import type { FieldName, QueryNode, TermNode, TermValue } from '@nta/shared';
import type { StoredFlow } from '../types.js';
import { compileAddressMatcher } from './address-matcher.js';
import { compileWildcard, type TextMatcher } from './wildcard.js';

export type FlowPredicate = (flow: StoredFlow) => boolean;

type Read<T> = (flow: StoredFlow) => T | null | undefined;

type Binding =
  | { readonly kind: 'numeric'; readonly reads: readonly Read<number>[] }
  | { readonly kind: 'address' | 'text' | 'pattern'; readonly reads: readonly Read<string>[] }
  | { readonly kind: 'proto' | 'host' | 'threat' };

const numeric = (...reads: Read<number>[]): Binding => ({ kind: 'numeric', reads });
const address = (...reads: Read<string>[]): Binding => ({ kind: 'address', reads });
const text = (...reads: Read<string>[]): Binding => ({ kind: 'text', reads });
const pattern = (read: Read<string>): Binding => ({ kind: 'pattern', reads: [read] });

const src: Read<string> = (f) => f.src;
const dst: Read<string> = (f) => f.dst;
const sport: Read<number> = (f) => f.sport;
const dport: Read<number> = (f) => f.dport;
const srcCountry: Read<string> = (f) => f.srcCountry;
const dstCountry: Read<string> = (f) => f.dstCountry;
const srcAsn: Read<number> = (f) => f.srcAsn;
const dstAsn: Read<number> = (f) => f.dstAsn;

const BINDINGS: Record<FieldName, Binding> = {
  proto: { kind: 'proto' },
  src: address(src),
  dst: address(dst),
  ip: address(src, dst),
  sport: numeric(sport),
  dport: numeric(dport),
  port: numeric(sport, dport),
  host: { kind: 'host' },
  level: numeric((f) => f.level),
  country: text(srcCountry, dstCountry),
  srccountry: text(srcCountry),
  dstcountry: text(dstCountry),
  asn: numeric(srcAsn, dstAsn),
  srcasn: numeric(srcAsn),
  dstasn: numeric(dstAsn),
  vlan: numeric((f) => f.vlan),
  bytes: numeric((f) => f.bytes),
  packets: numeric((f) => f.packets),
  duration: numeric((f) => f.features.durationMs),
  dns: pattern((f) => f.l7?.dnsQuery),
  sni: pattern((f) => f.l7?.tlsSni),
  httphost: pattern((f) => f.l7?.httpHost),
  threat: { kind: 'threat' },
  endreason: text((f) => f.endReason),
  family: numeric((f) => f.family),
};

const matchAll: FlowPredicate = () => true;

/** A predicate for `ast` (always true for no filter). */
export function compileFilterPredicate(ast: QueryNode | null): FlowPredicate {
  return ast === null ? matchAll : compileNode(ast);
}

function compileNode(node: QueryNode): FlowPredicate {
  switch (node.type) {
    case 'and': {
      const children = node.children.map(compileNode);
      return (flow) => children.every((child) => child(flow));
    }
    case 'or': {
      const children = node.children.map(compileNode);
      return (flow) => children.some((child) => child(flow));
    }
    case 'not': {
      const child = compileNode(node.child);
      return (flow) => !child(flow);
    }
    case 'term':
      return compileTerm(node);
  }
}

function compileTerm(term: TermNode): FlowPredicate {
  const binding = BINDINGS[term.field];
  switch (binding.kind) {
    case 'numeric':
      return anyRead(binding.reads, compileNumeric(term.values));
    case 'address':
      return anyRead(binding.reads, anyOf(term.values.map((value) => compileAddressMatcher(asType(value, 'address')))));
    case 'text':
      return anyRead(binding.reads, compileTextSet(term.values));
    case 'pattern':
      return anyRead(binding.reads, compilePatterns(term.values));
    case 'proto':
      return compileProto(term.values);
    case 'host': {
      const matches = compilePatterns(term.values);
      return (flow) => matches(flow.agentId) || (typeof flow.hostname === 'string' && matches(flow.hostname));
    }
    case 'threat':
      return compileThreat(term.values);
  }
}

function asType<T extends TermValue['type']>(value: TermValue, type: T): Extract<TermValue, { type: T }> {
  if (value.type !== type) throw new Error(`unexpected ${value.type} value where ${type} was expected`);
  return value as Extract<TermValue, { type: T }>;
}

/** True when any of the flow's values (read by `reads`) is present and matches. */
function anyRead<T>(reads: readonly Read<T>[], matches: (value: T) => boolean): FlowPredicate {
  if (reads.length === 1) {
    const [read] = reads;
    return (flow) => {
      const value = read(flow);
      return value !== null && value !== undefined && matches(value);
    };
  }
  return (flow) =>
    reads.some((read) => {
      const value = read(flow);
      return value !== null && value !== undefined && matches(value);
    });
}

function anyOf<T>(matchers: readonly ((value: T) => boolean)[]): (value: T) => boolean {
  return matchers.length === 1 ? matchers[0] : (value) => matchers.some((matches) => matches(value));
}

function compileNumeric(values: readonly TermValue[]): (value: number) => boolean {
  const equal = new Set<number>();
  const others: ((value: number) => boolean)[] = [];
  for (const value of values) {
    if (value.type === 'range') {
      const { min, max } = value;
      others.push((x) => x >= min && x <= max);
      continue;
    }
    const { op, value: bound } = asType(value, 'number');
    if (op === 'eq') equal.add(bound);
    else if (op === 'lt') others.push((x) => x < bound);
    else if (op === 'le') others.push((x) => x <= bound);
    else if (op === 'gt') others.push((x) => x > bound);
    else others.push((x) => x >= bound);
  }
  if (equal.size > 0) others.unshift((x) => equal.has(x));
  return anyOf(others);
}

function compileTextSet(values: readonly TermValue[]): (value: string) => boolean {
  const texts = new Set(values.map((value) => asType(value, 'text').value));
  return (value) => texts.has(value);
}

/** Case-insensitive patterns are lower-cased by the parser; the flow's text is lowered here. */
function compilePatterns(values: readonly TermValue[]): TextMatcher {
  const matchers = values.map((value) => {
    const { value: pattern, caseInsensitive } = asType(value, 'pattern');
    const matches = compileWildcard(pattern);
    return caseInsensitive ? (text: string) => matches(text.toLowerCase()) : matches;
  });
  return anyOf(matchers);
}

function compileProto(values: readonly TermValue[]): FlowPredicate {
  const names = values.filter((value) => value.type === 'text');
  const numbers = values.filter((value) => value.type !== 'text');
  const byName = names.length > 0 ? anyRead<string>([(f) => f.proto], compileTextSet(names)) : undefined;
  const byNumber = numbers.length > 0 ? anyRead<number>([(f) => f.ipProto], compileNumeric(numbers)) : undefined;
  if (byName && byNumber) return (flow) => byName(flow) || byNumber(flow);
  return byName ?? byNumber ?? (() => false);
}

/** Feed names in the comma-separated `threat` column, compared like the SQL does. */
function threatFeeds(threat: string): string[] {
  return threat.toLowerCase().replaceAll(' ', '').split(',');
}

function compileThreat(values: readonly TermValue[]): FlowPredicate {
  const tests = values.map((value): FlowPredicate => {
    if (value.type === 'bool') {
      const listed = value.value;
      return (flow) => (flow.threat !== null && flow.threat !== undefined && flow.threat !== '') === listed;
    }
    const feed = asType(value, 'text').value;
    return (flow) => typeof flow.threat === 'string' && threatFeeds(flow.threat).includes(feed);
  });
  return tests.length === 1 ? tests[0] : (flow) => tests.some((test) => test(flow));
}
