/**
 * Reads one value of a term (`443`, `1000-2000`, `10.0.0.0/8`, `web-*`, `1.5M`) according
 * to its field's kind, and checks it: a bad value is a QuerySyntaxError located on it.
 */
import type { CompareOp, NumberValue, RangeValue, TermValue } from './ast.js';
import { QuerySyntaxError } from './errors.js';
import { END_REASONS, LEVEL_NAMES, PROTOCOL_NAMES, SCOPE_LABELS, type QueryField } from './fields.js';
import { parseAddressOrCidr } from './ip-address.js';

/** One value as the lexer cut it out of the query text. */
export interface RawValue {
  readonly text: string;
  readonly quoted: boolean;
  readonly position: number;
  readonly length: number;
}

const MAX_TEXT_LENGTH = 255;

export function parseTermValue(field: QueryField, op: CompareOp, raw: RawValue): TermValue {
  const fail: Fail = (message) => {
    throw new QuerySyntaxError(`${message} at ${raw.position}`, raw.position, raw.length);
  };
  if (raw.text.length === 0) fail(`empty value for "${field.name}"`);
  if (raw.text.length > MAX_TEXT_LENGTH) fail(`value for "${field.name}" is longer than ${MAX_TEXT_LENGTH} characters`);
  if (field.ordered) return parseOrdered(field, op, raw.text, raw.quoted, fail);
  return parseUnordered(field, raw.text, fail);
}

type Fail = (message: string) => never;

function parseOrdered(field: QueryField, op: CompareOp, text: string, quoted: boolean, fail: Fail): NumberValue | RangeValue {
  const dash = quoted ? -1 : text.indexOf('-', 1);
  if (dash < 0) return { type: 'number', op, value: parseBounded(field, text, fail) };
  if (op !== 'eq') fail(`a comparison takes one value, not the range "${text}"`);
  const min = parseBounded(field, text.slice(0, dash), fail);
  const max = parseBounded(field, text.slice(dash + 1), fail);
  if (min > max) fail(`range "${text}" is reversed (write ${text.slice(dash + 1)}-${text.slice(0, dash)})`);
  return { type: 'range', min, max };
}

function parseBounded(field: QueryField, text: string, fail: Fail): number {
  const value = parseNumberOfKind(field, text, fail);
  const min = field.min ?? 0;
  const max = field.max ?? Number.MAX_SAFE_INTEGER;
  if (value < min || value > max) fail(`${field.name} ${text} out of range ${describeBound(field, min)}-${describeBound(field, max)}`);
  return value;
}

function describeBound(field: QueryField, bound: number): string {
  return field.kind === 'level' ? LEVEL_NAMES[bound] : String(bound);
}

const DECIMAL = /^(\d+(?:\.\d+)?|\.\d+)([a-z]*)$/i;

const SIZE_FACTORS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1e3,
  kb: 1e3,
  m: 1e6,
  mb: 1e6,
  g: 1e9,
  gb: 1e9,
  t: 1e12,
  tb: 1e12,
  ki: 1024,
  kib: 1024,
  mi: 1024 ** 2,
  mib: 1024 ** 2,
  gi: 1024 ** 3,
  gib: 1024 ** 3,
  ti: 1024 ** 4,
  tib: 1024 ** 4,
};
const COUNT_FACTORS: Record<string, number> = { '': 1, k: 1e3, m: 1e6, g: 1e9 };
const DURATION_FACTORS_MS: Record<string, number> = { '': 1, ms: 1, s: 1e3, m: 60e3, h: 3600e3, d: 86400e3 };

function parseNumberOfKind(field: QueryField, text: string, fail: Fail): number {
  switch (field.kind) {
    case 'port':
      if (!/^\d{1,10}$/.test(text)) fail(`invalid port "${text}" (expected 0-65535, a range like 1000-2000, or a list)`);
      return Number(text);
    case 'level': {
      const index = (LEVEL_NAMES as readonly string[]).indexOf(text.toLowerCase());
      if (index < 0) fail(`unknown level "${text}" (expected ${LEVEL_NAMES.join(', ')})`);
      return index;
    }
    case 'bytes':
      return wholeNumber(field, scaled(text, SIZE_FACTORS, fail, `invalid size "${text}" (use a number with k, M, G, KiB, MiB or GiB)`), text, fail);
    case 'duration':
      return scaled(text, DURATION_FACTORS_MS, fail, `invalid duration "${text}" (use a number with ms, s, m or h)`);
    default: {
      const digits = field.name.endsWith('asn') ? text.replace(/^as/i, '') : text;
      const value = scaled(digits, COUNT_FACTORS, fail, `invalid ${field.name} "${text}" (expected a whole number)`);
      return wholeNumber(field, value, text, fail);
    }
  }
}

function scaled(text: string, factors: Record<string, number>, fail: Fail, message: string): number {
  const match = DECIMAL.exec(text);
  const factor = match ? factors[match[2].toLowerCase()] : undefined;
  if (!match || factor === undefined) return fail(message);
  return Number(match[1]) * factor;
}

/** Decimal factors make `1.1k` 1100.0000000000002; anything that close is the whole number meant. */
function wholeNumber(field: QueryField, value: number, text: string, fail: Fail): number {
  const rounded = Math.round(value);
  if (Math.abs(value - rounded) > 1e-6 * Math.max(1, Math.abs(value))) fail(`${field.name} "${text}" is not a whole number`);
  return rounded;
}

function parseUnordered(field: QueryField, text: string, fail: Fail): TermValue {
  const lower = text.toLowerCase();
  switch (field.kind) {
    case 'protocol':
      return parseProtocol(lower, text, fail);
    case 'address': {
      const parsed = parseAddressOrCidr(text);
      return parsed.ok ? parsed.value : fail(parsed.message);
    }
    case 'host':
      return { type: 'pattern', value: text, wildcard: text.includes('*'), caseInsensitive: false };
    case 'pattern':
      return { type: 'pattern', value: lower, wildcard: lower.includes('*'), caseInsensitive: true };
    case 'country':
      if ((SCOPE_LABELS as readonly string[]).includes(lower)) return { type: 'text', value: lower };
      if (/^[a-z]{2}$/.test(lower)) return { type: 'text', value: lower.toUpperCase() };
      return fail(`invalid country "${text}" (expected ISO 3166 alpha-2 like DE, or one of ${SCOPE_LABELS.join(', ')})`);
    case 'threat':
      if (lower === 'true' || lower === 'false') return { type: 'bool', value: lower === 'true' };
      if (/^[a-z0-9][a-z0-9_.:-]{0,63}$/.test(lower)) return { type: 'text', value: lower };
      return fail(`invalid threat value "${text}" (expected true, false or a feed name)`);
    default:
      return parseEnum(field, lower, text, fail);
  }
}

function parseProtocol(lower: string, text: string, fail: Fail): TermValue {
  if ((PROTOCOL_NAMES as readonly string[]).includes(lower)) return { type: 'text', value: lower };
  const number = /^(?:ip-)?(\d{1,3})$/.exec(lower);
  if (number) {
    const value = Number(number[1]);
    if (value > 255) fail(`protocol number ${value} out of range 0-255`);
    return { type: 'number', op: 'eq', value };
  }
  return fail(`unknown protocol "${text}" (expected ${PROTOCOL_NAMES.join(', ')}, ip-N or 0-255)`);
}

function parseEnum(field: QueryField, lower: string, text: string, fail: Fail): TermValue {
  if (field.name === 'family') {
    if (lower === '4' || lower === '6') return { type: 'number', op: 'eq', value: Number(lower) };
    return fail(`invalid family "${text}" (expected 4 or 6)`);
  }
  if ((END_REASONS as readonly string[]).includes(lower)) return { type: 'text', value: lower };
  return fail(`unknown ${field.name} "${text}" (expected ${field.values.join(', ')})`);
}
