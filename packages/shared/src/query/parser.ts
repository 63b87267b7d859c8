/**
 * Recursive-descent parser for the filter language. Precedence: not > and > or;
 * juxtaposition is and. Limits are checked before they can cost anything: the input length
 * first, then nesting depth while descending, so 10,000 parentheses are an error, never a
 * stack overflow.
 */
import type { CompareOp, QueryNode, TermNode } from './ast.js';
import { QuerySyntaxError } from './errors.js';
import { closestFieldName, findQueryField } from './fields.js';
import { MAX_LIST_VALUES, tokenize, type TermOperator, type TermToken, type Token } from './lexer.js';
import { parseTermValue } from './values.js';

export const QUERY_LIMITS = {
  maxLength: 2000,
  maxDepth: 32,
  maxTerms: 200,
  maxListValues: MAX_LIST_VALUES,
} as const;

export type QueryParseResult = { ok: true; ast: QueryNode | null } | { ok: false; error: QuerySyntaxError };

/**
 * The filter's syntax tree, or null for an empty (whitespace-only) query, which means "no
 * filter". Throws QuerySyntaxError with the position of the problem.
 */
export function parseQuery(input: string): QueryNode | null {
  if (typeof input !== 'string') throw new QuerySyntaxError('query must be a string', 0, 0);
  if (input.length > QUERY_LIMITS.maxLength) {
    throw new QuerySyntaxError(
      `query is ${input.length} characters long, over the limit of ${QUERY_LIMITS.maxLength}`,
      QUERY_LIMITS.maxLength,
      input.length - QUERY_LIMITS.maxLength,
    );
  }
  const parser = new Parser(tokenize(input), input.length);
  return parser.isEmpty() ? null : parser.parse();
}

/** parseQuery as a value, for loops that must not throw (WebSocket subscriptions). */
export function safeParseQuery(input: string): QueryParseResult {
  try {
    return { ok: true, ast: parseQuery(input) };
  } catch (error) {
    if (error instanceof QuerySyntaxError) return { ok: false, error };
    throw error;
  }
}

const COMPARISONS: Record<Exclude<TermOperator, 'eq' | 'ne'>, CompareOp> = { lt: 'lt', le: 'le', gt: 'gt', ge: 'ge' };

function describe(token: Token): string {
  switch (token.type) {
    case 'lparen':
      return '"("';
    case 'rparen':
      return '")"';
    case 'term':
      return `term "${token.field}"`;
    default:
      return `"${token.type}"`;
  }
}

class Parser {
  /** Tokens read so far; the lexer runs only as far as the parser has looked. */
  private readonly tokens: Token[] = [];
  private index = 0;
  private depth = 0;
  private terms = 0;

  constructor(
    private readonly source: Iterator<Token, void, undefined>,
    private readonly inputLength: number,
  ) {}

  isEmpty(): boolean {
    return this.peek() === undefined;
  }

  parse(): QueryNode {
    const node = this.parseOr();
    const extra = this.peek();
    if (extra) throw this.error(`unexpected ${describe(extra)}`, extra.position, extra.length);
    return node;
  }

  private parseOr(): QueryNode {
    const children = [this.parseAnd()];
    while (this.peek()?.type === 'or') {
      this.index++;
      children.push(this.parseAnd());
    }
    return children.length === 1 ? children[0] : { type: 'or', children: flatten('or', children) };
  }

  private parseAnd(): QueryNode {
    const children = [this.parseUnary()];
    while (true) {
      const next = this.peek();
      if (next?.type === 'and') {
        this.index++;
      } else if (next?.type !== 'term' && next?.type !== 'lparen' && next?.type !== 'not') {
        break;
      }
      children.push(this.parseUnary());
    }
    return children.length === 1 ? children[0] : { type: 'and', children: flatten('and', children) };
  }

  private parseUnary(): QueryNode {
    const token = this.peek();
    if (!token) {
      const previous = this.tokens[this.index - 1];
      const after = previous && previous.type !== 'term' && previous.type !== 'rparen' ? ` after ${describe(previous)}` : '';
      throw this.error(`expected a term${after}`, this.inputLength, 0);
    }
    switch (token.type) {
      case 'term':
        this.index++;
        return this.buildTerm(token);
      case 'not': {
        this.index++;
        this.enter(token);
        const child = this.parseUnary();
        this.depth--;
        return { type: 'not', child };
      }
      case 'lparen': {
        this.index++;
        this.enter(token);
        if (this.peek()?.type === 'rparen') throw this.error('empty parentheses', token.position, 2);
        const inner = this.parseOr();
        const close = this.peek();
        if (close?.type !== 'rparen') {
          const at = close ? close.position : this.inputLength;
          const message = `expected ")" at ${at} (to close "(" at ${token.position})`;
          throw new QuerySyntaxError(message, at, close ? close.length : 0);
        }
        this.index++;
        this.depth--;
        return inner;
      }
      case 'rparen':
        throw this.error('unexpected ")"', token.position, 1);
      default:
        throw this.error(`expected a term before ${describe(token)}`, token.position, token.length);
    }
  }

  private enter(token: Token): void {
    this.depth++;
    if (this.depth > QUERY_LIMITS.maxDepth) {
      throw this.error(`nesting deeper than ${QUERY_LIMITS.maxDepth} levels`, token.position, token.length);
    }
  }

  private buildTerm(token: TermToken): QueryNode {
    this.terms++;
    if (this.terms > QUERY_LIMITS.maxTerms) throw this.error(`more than ${QUERY_LIMITS.maxTerms} terms`, token.position, token.length);
    const field = findQueryField(token.field);
    if (!field) {
      const closest = closestFieldName(token.field);
      const hint = closest ? ` (did you mean "${closest}"?)` : '';
      const message = `unknown field "${token.field}" at ${token.position}${hint}`;
      throw new QuerySyntaxError(message, token.position, token.field.length);
    }
    let op: CompareOp = 'eq';
    if (token.operator !== 'eq' && token.operator !== 'ne') {
      if (!field.ordered) {
        throw this.error(`field "${field.name}" does not take comparisons (use ":")`, token.operatorPosition, token.operatorLength);
      }
      if (token.values.length > 1) {
        const second = token.values[1];
        throw this.error('a comparison takes one value, not a list', second.position, second.length);
      }
      op = COMPARISONS[token.operator];
    }
    const term: TermNode = {
      type: 'term',
      field: field.name,
      values: token.values.map((raw) => parseTermValue(field, op, raw)),
      position: token.position,
      length: token.length,
    };
    return token.operator === 'ne' ? { type: 'not', child: term } : term;
  }

  private peek(): Token | undefined {
    if (this.index === this.tokens.length) {
      const next = this.source.next();
      if (!next.done) this.tokens.push(next.value);
    }
    return this.tokens[this.index];
  }

  private error(message: string, position: number, length: number): QuerySyntaxError {
    return new QuerySyntaxError(`${message} at ${position}`, position, length);
  }
}

/** `a and (b and c)` is `and[a, b, c]`: same meaning, flatter SQL. */
function flatten(type: 'and' | 'or', children: QueryNode[]): QueryNode[] {
  return children.flatMap((child) => (child.type === type ? child.children : [child]));
}
