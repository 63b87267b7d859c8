import type { FieldName } from './fields.js';

/**
 * The parsed filter. It is plain JSON (no classes, no functions), so it can be logged, sent
 * over a WebSocket and compiled anywhere; values are already validated and normalised
 * (countries upper-cased, case-insensitive patterns lower-cased, CIDRs masked).
 */
export type QueryNode = AndNode | OrNode | NotNode | TermNode;

export interface AndNode {
  readonly type: 'and';
  readonly children: readonly QueryNode[];
}

export interface OrNode {
  readonly type: 'or';
  readonly children: readonly QueryNode[];
}

export interface NotNode {
  readonly type: 'not';
  readonly child: QueryNode;
}

/** `field:v1,v2,...`: true when the field matches any of the values. */
export interface TermNode {
  readonly type: 'term';
  readonly field: FieldName;
  readonly values: readonly TermValue[];
  /** Where the term is in the query text (0-based), for highlighting. */
  readonly position: number;
  readonly length: number;
}

export type CompareOp = 'eq' | 'lt' | 'le' | 'gt' | 'ge';

export type TermValue = NumberValue | RangeValue | AddressValue | TextValue | PatternValue | BoolValue;

/** Ports, counts, sizes (bytes), durations (ms), levels (0-2), ASNs, VLANs, IP protocol numbers, family. */
export interface NumberValue {
  readonly type: 'number';
  readonly op: CompareOp;
  readonly value: number;
}

/** Inclusive at both ends. */
export interface RangeValue {
  readonly type: 'range';
  readonly min: number;
  readonly max: number;
}

/** An address (`exact`) or a network; `address` is the canonical text with host bits cleared. */
export interface AddressValue {
  readonly type: 'address';
  readonly family: 4 | 6;
  readonly address: string;
  readonly prefixLength: number;
  readonly exact: boolean;
}

/** Exact text: protocol names, countries and scope labels, end reasons, threat feed names. */
export interface TextValue {
  readonly type: 'text';
  readonly value: string;
}

/** Text with `*` wildcards (host, dns, sni, httphost). */
export interface PatternValue {
  readonly type: 'pattern';
  readonly value: string;
  readonly wildcard: boolean;
  readonly caseInsensitive: boolean;
}

/** threat:true / threat:false. */
export interface BoolValue {
  readonly type: 'bool';
  readonly value: boolean;
}
