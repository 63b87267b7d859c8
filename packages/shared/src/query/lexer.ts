/**
 * Cuts a filter into tokens: parentheses, and/or/not (words or && || !), and whole terms
 * `field<op>value[,value...]`. A term is one token because its value grammar depends on the
 * field, which the parser resolves; the lexer only finds where each value begins and ends.
 */
import { QuerySyntaxError } from './errors.js';
import { parseAddressOrCidr } from './ip-address.js';
import { PROTOCOL_NAMES } from './fields.js';
import type { RawValue } from './values.js';

export const MAX_LIST_VALUES = 100;

export type TermOperator = 'eq' | 'ne' | 'lt' | 'le' | 'gt' | 'ge';

export interface TermToken {
  readonly type: 'term';
  readonly position: number;
  readonly length: number;
  readonly field: string;
  readonly operator: TermOperator;
  readonly operatorPosition: number;
  readonly operatorLength: number;
  readonly values: readonly RawValue[];
}

export interface SymbolToken {
  readonly type: 'lparen' | 'rparen' | 'and' | 'or' | 'not';
  readonly position: number;
  readonly length: number;
}

export type Token = TermToken | SymbolToken;

const KEYWORDS: Record<string, SymbolToken['type']> = { and: 'and', or: 'or', not: 'not' };

function isSpace(c: string): boolean {
  return c === ' ' || c === '\t' || c === '\n' || c === '\r' || /\s/.test(c);
}

function isControl(code: number): boolean {
  return code < 0x20 || code === 0x7f;
}

function isIdentifierChar(c: string, first: boolean): boolean {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c === '_' || (!first && c >= '0' && c <= '9');
}

function syntaxError(message: string, position: number, length = 1): QuerySyntaxError {
  return new QuerySyntaxError(`${message} at ${position}`, position, length);
}

/**
 * Tokens one at a time, so the parser meets errors in reading order: the first problem from
 * the left is the one reported, whether it is lexical or grammatical.
 */
export function* tokenize(input: string): Generator<Token, void, undefined> {
  const n = input.length;
  let i = 0;
  while (i < n) {
    const c = input[i];
    if (isSpace(c)) {
      i++;
      continue;
    }
    let token: Token;
    if (c === '(' || c === ')') {
      token = { type: c === '(' ? 'lparen' : 'rparen', position: i, length: 1 };
    } else if (c === '&' || c === '|') {
      if (input[i + 1] !== c) throw syntaxError(`unexpected "${c}" (did you mean "${c}${c}"?)`, i);
      token = { type: c === '&' ? 'and' : 'or', position: i, length: 2 };
    } else if (c === '!') {
      token = { type: 'not', position: i, length: 1 };
    } else if (isIdentifierChar(c, true)) {
      token = lexWord(input, i);
    } else if (c === '"') {
      throw syntaxError('a quoted value needs a field in front (field:"value")', i);
    } else {
      throw bareWordError(input, i);
    }
    i = token.position + token.length;
    yield token;
  }
}

/** An identifier: a keyword, or the field of a term when an operator follows. */
function lexWord(input: string, start: number): Token {
  let i = start + 1;
  while (i < input.length && isIdentifierChar(input[i], false)) i++;
  const word = input.slice(start, i);
  const operator = readOperator(input, i);
  if (operator) return lexTerm(input, start, word, i, operator);
  const keyword = KEYWORDS[word.toLowerCase()];
  if (keyword && (i === input.length || isSpace(input[i]) || input[i] === '(' || input[i] === ')' || input[i] === '!')) {
    return { type: keyword, position: start, length: i - start };
  }
  throw bareWordError(input, start);
}

function readOperator(input: string, i: number): { operator: TermOperator; length: number } | undefined {
  const two = input.slice(i, i + 2);
  const three = input.slice(i, i + 3);
  if (three === ':>=') return { operator: 'ge', length: 3 };
  if (three === ':<=') return { operator: 'le', length: 3 };
  if (two === ':>') return { operator: 'gt', length: 2 };
  if (two === ':<') return { operator: 'lt', length: 2 };
  if (two === '>=') return { operator: 'ge', length: 2 };
  if (two === '<=') return { operator: 'le', length: 2 };
  if (two === '!=') return { operator: 'ne', length: 2 };
  const one = input[i];
  if (one === ':' || one === '=') return { operator: 'eq', length: 1 };
  if (one === '>') return { operator: 'gt', length: 1 };
  if (one === '<') return { operator: 'lt', length: 1 };
  return undefined;
}

function lexTerm(
  input: string,
  start: number,
  field: string,
  operatorPosition: number,
  op: { operator: TermOperator; length: number },
): TermToken {
  const values: RawValue[] = [];
  let i = operatorPosition + op.length;
  while (true) {
    if (i >= input.length || isSpace(input[i]) || input[i] === ')' || input[i] === ',' || startsOperator(input, i)) {
      const message = values.length === 0 ? `missing value for "${field}"` : 'empty value after ","';
      throw syntaxError(message, i, 0);
    }
    const value = input[i] === '"' ? readQuoted(input, i) : readUnquoted(input, i);
    values.push(value);
    if (values.length > MAX_LIST_VALUES) throw syntaxError(`list longer than ${MAX_LIST_VALUES} values`, value.position, value.length);
    i = value.position + value.length;
    if (input[i] !== ',') break;
    i++;
  }
  if (i < input.length && !isSpace(input[i]) && input[i] !== ')' && !startsOperator(input, i)) {
    throw syntaxError(`unexpected "${input[i]}" after value (put a space between terms)`, i);
  }
  return { type: 'term', position: start, length: i - start, field, operator: op.operator, operatorPosition, operatorLength: op.length, values };
}

function startsOperator(input: string, i: number): boolean {
  const two = input.slice(i, i + 2);
  return two === '&&' || two === '||';
}

function readQuoted(input: string, start: number): RawValue {
  let text = '';
  let i = start + 1;
  while (i < input.length) {
    const c = input[i];
    if (c === '"') return { text, quoted: true, position: start, length: i + 1 - start };
    if (isControl(c.charCodeAt(0))) throw syntaxError('control character in quoted value', i);
    if (c === '\\') {
      const next = input[i + 1];
      if (next !== '"' && next !== '\\') throw syntaxError(`invalid escape "\\${next ?? ''}" (only \\" and \\\\)`, i, 2);
      text += next;
      i += 2;
    } else {
      text += c;
      i++;
    }
  }
  throw syntaxError('unterminated quoted value', start, input.length - start);
}

function readUnquoted(input: string, start: number): RawValue {
  let i = start;
  while (i < input.length) {
    const c = input[i];
    if (isSpace(c) || c === ')' || c === ',' || startsOperator(input, i)) break;
    if (c === '"') throw syntaxError('unexpected quote inside a value (quote the whole value)', i);
    if (isControl(c.charCodeAt(0))) throw syntaxError('control character in value', i);
    i++;
  }
  return { text: input.slice(start, i), quoted: false, position: start, length: i - start };
}

/** A word where a term should be; the hint guesses the field the user meant. */
function bareWordError(input: string, start: number): QuerySyntaxError {
  let end = start;
  while (end < input.length && !isSpace(input[end]) && input[end] !== '(' && input[end] !== ')') end++;
  if (end === start) end = start + 1;
  const word = input.slice(start, end);
  let hint = 'write field:value, e.g. proto:tcp';
  if ((PROTOCOL_NAMES as readonly string[]).includes(word.toLowerCase())) hint = `did you mean proto:${word}?`;
  else if (parseAddressOrCidr(word).ok) hint = `did you mean ip:${word}?`;
  const shown = word.length > 40 ? `${word.slice(0, 40)}...` : word;
  const printable = Array.from(shown, (ch) => (isControl(ch.charCodeAt(0)) ? '?' : ch)).join('');
  return syntaxError(`"${printable}" is not a filter term (${hint})`, start, end - start);
}
