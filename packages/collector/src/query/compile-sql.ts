/**
 * Compiles a filter's syntax tree into a boolean SQL expression over `flows`. The only text
 * it writes is its own: column names from the map below, fixed operators and `$n`
 * placeholders. Every value from the query travels in `params`, so nothing a user types can
 * become SQL.
 *
 * Nullable columns (vlan, countries, ASNs, L7 names, threat) make SQL three-valued; `not`
 * compiles to `IS NOT TRUE`, so "unknown" counts as "no match" under negation exactly as it
 * does without, and the in-memory predicate can mirror it with plain booleans.
 */
import type { FieldName, QueryNode, TermNode, TermValue } from '@nta/shared';
import { toLikePattern } from './wildcard.js';

export interface CompileSqlOptions {
  /** Table alias of `flows` in the caller's query (`f` gives `f.src`). */
  alias?: string;
}

type SqlType = 'smallint' | 'integer' | 'bigint' | 'double precision';

interface NumericBinding {
  readonly kind: 'numeric';
  readonly columns: readonly string[];
  readonly sqlType: SqlType;
}

interface SimpleBinding {
  readonly kind: 'address' | 'text' | 'pattern';
  readonly columns: readonly string[];
}

type Binding = NumericBinding | SimpleBinding | { readonly kind: 'proto' | 'host' | 'threat' };

const numeric = (sqlType: SqlType, ...columns: string[]): NumericBinding => ({ kind: 'numeric', columns, sqlType });

const BINDINGS: Record<FieldName, Binding> = {
  proto: { kind: 'proto' },
  src: { kind: 'address', columns: ['src'] },
  dst: { kind: 'address', columns: ['dst'] },
  ip: { kind: 'address', columns: ['src', 'dst'] },
  sport: numeric('integer', 'sport'),
  dport: numeric('integer', 'dport'),
  port: numeric('integer', 'sport', 'dport'),
  host: { kind: 'host' },
  level: numeric('smallint', 'level'),
  country: { kind: 'text', columns: ['src_country', 'dst_country'] },
  srccountry: { kind: 'text', columns: ['src_country'] },
  dstcountry: { kind: 'text', columns: ['dst_country'] },
  // bigint: an ASN above 2^31 is a valid query value even though the column is integer.
  asn: numeric('bigint', 'src_asn', 'dst_asn'),
  srcasn: numeric('bigint', 'src_asn'),
  dstasn: numeric('bigint', 'dst_asn'),
  vlan: numeric('integer', 'vlan'),
  bytes: numeric('bigint', 'bytes'),
  packets: numeric('bigint', 'packets'),
  duration: numeric('double precision', 'duration_ms'),
  dns: { kind: 'pattern', columns: ['dns_query'] },
  sni: { kind: 'pattern', columns: ['tls_sni'] },
  httphost: { kind: 'pattern', columns: ['http_host'] },
  threat: { kind: 'threat' },
  endreason: { kind: 'text', columns: ['end_reason'] },
  family: numeric('smallint', 'family'),
};

const COMPARE_SQL = { eq: '=', lt: '<', le: '<=', gt: '>', ge: '>=' } as const;
/** E'\\' is one backslash whatever standard_conforming_strings says. */
const LIKE_ESCAPE = "ESCAPE E'\\\\'";
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * A boolean SQL expression for `ast` (TRUE for no filter). Placeholders continue from
 * `params.length`, and their values are appended to `params`.
 */
export function compileFilterSql(ast: QueryNode | null, params: unknown[], opts: CompileSqlOptions = {}): string {
  if (opts.alias !== undefined && !IDENTIFIER.test(opts.alias)) throw new Error(`invalid table alias: ${JSON.stringify(opts.alias)}`);
  if (ast === null) return 'TRUE';
  return new SqlCompiler(params, opts.alias).node(ast);
}

/** Turns one value into a condition on whichever column it is applied to. */
type ColumnCondition = (column: string) => string;

class SqlCompiler {
  constructor(
    private readonly params: unknown[],
    private readonly alias: string | undefined,
  ) {}

  node(node: QueryNode): string {
    switch (node.type) {
      case 'and':
      case 'or':
        return `(${node.children.map((child) => this.node(child)).join(node.type === 'and' ? ' AND ' : ' OR ')})`;
      case 'not':
        return `(${this.node(node.child)}) IS NOT TRUE`;
      case 'term':
        return this.term(node);
    }
  }

  private placeholder(value: unknown, cast: string): string {
    return `$${this.params.push(value)}::${cast}`;
  }

  private column(name: string): string {
    return this.alias ? `${this.alias}.${name}` : name;
  }

  private term(term: TermNode): string {
    const binding = BINDINGS[term.field];
    switch (binding.kind) {
      case 'numeric':
        return this.anyColumn(binding.columns, this.numericConditions(term.values, binding.sqlType));
      case 'address':
        return this.anyColumn(binding.columns, term.values.map((value) => this.addressCondition(value)));
      case 'text':
        return this.anyColumn(binding.columns, [this.textCondition(term.values)]);
      case 'pattern':
        return this.anyColumn(binding.columns, term.values.map((value) => this.patternCondition(value, 'ILIKE')));
      case 'proto':
        return this.proto(term.values);
      case 'host':
        return this.host(term.values);
      case 'threat':
        return this.threat(term.values);
    }
  }

  /** `(c1 cond1 OR c1 cond2 OR c2 cond1 ...)`: the term matches if any column matches any value. */
  private anyColumn(columns: readonly string[], conditions: readonly ColumnCondition[]): string {
    const parts = columns.flatMap((name) => conditions.map((condition) => condition(this.column(name))));
    return parts.length === 1 ? parts[0] : `(${parts.join(' OR ')})`;
  }

  private numericConditions(values: readonly TermValue[], sqlType: SqlType): ColumnCondition[] {
    const equal: number[] = [];
    const conditions: ColumnCondition[] = [];
    for (const value of values) {
      if (value.type === 'number' && value.op === 'eq') {
        equal.push(value.value);
      } else if (value.type === 'number') {
        const operator = COMPARE_SQL[value.op];
        const p = this.placeholder(value.value, sqlType);
        conditions.push((column) => `${column} ${operator} ${p}`);
      } else if (value.type === 'range') {
        const low = this.placeholder(value.min, sqlType);
        const high = this.placeholder(value.max, sqlType);
        conditions.push((column) => `${column} BETWEEN ${low} AND ${high}`);
      } else {
        throw new Error(`unexpected ${value.type} value for a numeric field`);
      }
    }
    if (equal.length === 1) {
      const p = this.placeholder(equal[0], sqlType);
      conditions.unshift((column) => `${column} = ${p}`);
    } else if (equal.length > 1) {
      const p = this.placeholder(equal, `${sqlType}[]`);
      conditions.unshift((column) => `${column} = ANY(${p})`);
    }
    return conditions;
  }

  private addressCondition(value: TermValue): ColumnCondition {
    if (value.type !== 'address') throw new Error(`unexpected ${value.type} value for an address field`);
    if (value.exact) {
      const p = this.placeholder(value.address, 'inet');
      return (column) => `${column} = ${p}`;
    }
    const p = this.placeholder(`${value.address}/${value.prefixLength}`, 'inet');
    return (column) => `${column} <<= ${p}`;
  }

  private textCondition(values: readonly TermValue[]): ColumnCondition {
    const texts = values.map((value) => {
      if (value.type !== 'text') throw new Error(`unexpected ${value.type} value for a text field`);
      return value.value;
    });
    if (texts.length === 1) {
      const p = this.placeholder(texts[0], 'text');
      return (column) => `${column} = ${p}`;
    }
    const p = this.placeholder(texts, 'text[]');
    return (column) => `${column} = ANY(${p})`;
  }

  private patternCondition(value: TermValue, operator: 'LIKE' | 'ILIKE'): ColumnCondition {
    if (value.type !== 'pattern') throw new Error(`unexpected ${value.type} value for a pattern field`);
    if (!value.wildcard && operator === 'LIKE') {
      const p = this.placeholder(value.value, 'text');
      return (column) => `${column} = ${p}`;
    }
    const p = this.placeholder(toLikePattern(value.value), 'text');
    return (column) => `${column} ${operator} ${p} ${LIKE_ESCAPE}`;
  }

  /** Names compare with the `proto` column; numbers (and ip-N) with `ip_proto`. */
  private proto(values: readonly TermValue[]): string {
    const names = values.filter((value) => value.type === 'text');
    const numbers = values.filter((value) => value.type === 'number');
    const parts: string[] = [];
    if (names.length > 0) parts.push(this.textCondition(names)(this.column('proto')));
    if (numbers.length > 0) parts.push(this.anyColumn(['ip_proto'], this.numericConditions(numbers, 'smallint')));
    return parts.length === 1 ? parts[0] : `(${parts.join(' OR ')})`;
  }

  /** The agent's id or its current hostname in `agents`; exact with `=`, wildcards with LIKE. */
  private host(values: readonly TermValue[]): string {
    const conditions = values.map((value) => this.patternCondition(value, 'LIKE'));
    const where = ['a.agent_id', 'a.hostname'].flatMap((column) => conditions.map((condition) => condition(column))).join(' OR ');
    return `${this.column('agent_id')} IN (SELECT a.agent_id FROM agents a WHERE ${where})`;
  }

  /** `threat` holds comma-separated feed names, or NULL/empty when nothing lists the flow. */
  private threat(values: readonly TermValue[]): string {
    const threat = this.column('threat');
    const parts = values.map((value) => {
      if (value.type === 'bool') return value.value ? `(${threat} IS NOT NULL AND ${threat} <> '')` : `(${threat} IS NULL OR ${threat} = '')`;
      if (value.type !== 'text') throw new Error(`unexpected ${value.type} value for threat`);
      const p = this.placeholder(value.value, 'text');
      return `${p} = ANY(string_to_array(replace(lower(${threat}), ' ', ''), ','))`;
    });
    return parts.length === 1 ? parts[0] : `(${parts.join(' OR ')})`;
  }
}
