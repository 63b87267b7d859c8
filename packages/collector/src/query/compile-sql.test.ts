import { describe, expect, it } from 'vitest';
import { QUERY_FIELDS, parseQuery } from '@nta/shared';
import { compileFilterSql } from './compile-sql.js';

function compile(query: string, params: unknown[] = [], alias?: string): { sql: string; params: unknown[] } {
  const sql = compileFilterSql(parseQuery(query), params, alias === undefined ? {} : { alias });
  return { sql, params };
}

/** Every `$n` in the text, in order of appearance. */
function placeholders(sql: string): number[] {
  return [...sql.matchAll(/\$(\d+)/g)].map((m) => Number(m[1]));
}

describe('compile-sql - shape', () => {
  it('compiles no filter to TRUE and adds no parameters', () => {
    const params: unknown[] = [];
    expect(compileFilterSql(null, params)).toBe('TRUE');
    expect(params).toEqual([]);
  });

  it('continues numbering after parameters the caller already has', () => {
    const { sql, params } = compile('proto:tcp dport:443', ['2026-11-30T00:00:00Z', 100]);
    expect(params).toEqual(['2026-11-30T00:00:00Z', 100, 'tcp', 443]);
    expect(placeholders(sql)).toEqual([3, 4]);
  });

  it('uses one placeholder per value even when the value is compared with two columns', () => {
    const { sql, params } = compile('port:53 ip:10.0.0.0/8 country:de');
    expect(params).toEqual([53, '10.0.0.0/8', 'DE']);
    expect(sql).toBe(
      '((sport = $1::integer OR dport = $1::integer) AND (src <<= $2::inet OR dst <<= $2::inet) AND (src_country = $3::text OR dst_country = $3::text))',
    );
  });

  it('qualifies every flows column with the alias, and only those', () => {
    const { sql } = compile('host:web-1 and not src:1.2.3.4 and threat:true', [], 'f');
    expect(sql).toBe(
      "(f.agent_id IN (SELECT a.agent_id FROM agents a WHERE a.agent_id = $1::text OR a.hostname = $1::text) AND (f.src = $2::inet) IS NOT TRUE AND (f.threat IS NOT NULL AND f.threat <> ''))",
    );
  });

  it('refuses an alias that is not a plain identifier', () => {
    expect(() => compileFilterSql(null, [], { alias: 'f; DROP TABLE flows' })).toThrow('invalid table alias');
  });

  it('compiles lists to = ANY with an array parameter', () => {
    const { sql, params } = compile('dport:80,443,8000-8080 proto:tcp,udp');
    expect(params).toEqual([8000, 8080, [80, 443], ['tcp', 'udp']]);
    expect(sql).toBe('((dport = ANY($3::integer[]) OR dport BETWEEN $1::integer AND $2::integer) AND proto = ANY($4::text[]))');
  });

  it('compares protocol names with proto and numbers with ip_proto', () => {
    const { sql, params } = compile('proto:tcp,47,ip-253');
    expect(sql).toBe('(proto = $1::text OR ip_proto = ANY($2::smallint[]))');
    expect(params).toEqual(['tcp', [47, 253]]);
  });

  it('escapes LIKE metacharacters and turns * into %', () => {
    const { sql, params } = compile('host:web_* dns:"*100%\\\\x"');
    expect(params).toEqual(['web\\_%', '%100\\%\\\\x']);
    expect(sql).toContain("a.agent_id LIKE $1::text ESCAPE E'\\\\'");
    expect(sql).toContain("dns_query ILIKE $2::text ESCAPE E'\\\\'");
  });

  it('compiles comparisons, ranges and units to numbers', () => {
    const { sql, params } = compile('bytes>=1M duration:1s-5s level>=suspicious asn:AS4200000000');
    expect(params).toEqual([1_000_000, 1000, 5000, 1, 4_200_000_000]);
    expect(sql).toContain('bytes >= $1::bigint');
    expect(sql).toContain('duration_ms BETWEEN $2::double precision AND $3::double precision');
    expect(sql).toContain('level >= $4::smallint');
    expect(sql).toContain('(src_asn = $5::bigint OR dst_asn = $5::bigint)');
  });

  it('compiles every field of the catalogue', () => {
    for (const field of QUERY_FIELDS) {
      const params: unknown[] = [];
      const sql = compileFilterSql(parseQuery(field.example), params);
      expect(sql.length).toBeGreaterThan(0);
      expect(placeholders(sql).every((n) => n >= 1 && n <= params.length)).toBe(true);
    }
  });
});

describe('compile-sql - injection', () => {
  const attacks = [
    `dns:"x' OR 1=1 --"`,
    `host:"a%' or '1'='1"`,
    `host:"'; DROP TABLE flows;--"`,
    `sni:"\\\\'; DELETE FROM agents; --"`,
    `httphost:"$1::text) OR (TRUE"`,
    `dns:"*' UNION SELECT 1 --*"`,
  ];

  it.each(attacks)('%s ends up only in parameters', (query) => {
    const result = parseQuery(query);
    const params: unknown[] = [];
    const sql = compileFilterSql(result, params);
    expect(sql).not.toMatch(/DROP|DELETE|UNION|OR 1=1|'1'='1|--|TRUE/i);
    expect(sql).not.toContain(';');
    expect(params.length).toBeGreaterThan(0);
  });

  it('rejects the unquoted forms instead of compiling them', () => {
    expect(() => parseQuery("src:1.1.1.1'; DROP TABLE flows;--")).toThrow('invalid address');
    expect(() => parseQuery("host:a%' or '1'='1")).toThrow('is not a filter term');
    expect(() => parseQuery("threat:x'--")).toThrow('invalid threat value');
    expect(() => parseQuery(`country:"' OR ''='"`)).toThrow('invalid country');
  });
});
