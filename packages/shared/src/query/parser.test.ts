import { describe, expect, it } from 'vitest';
import type { QueryNode, TermNode, TermValue } from './ast.js';
import { QuerySyntaxError } from './errors.js';
import { ValidationError } from '../errors.js';
import { parseQuery, safeParseQuery, QUERY_LIMITS } from './parser.js';

function term(query: string): TermNode {
  const ast = parseQuery(query);
  if (ast?.type !== 'term') throw new Error(`expected one term from ${query}, got ${JSON.stringify(ast)}`);
  return ast;
}

function values(query: string): readonly TermValue[] {
  return term(query).values;
}

/** A compact rendering of the tree, so structure tests read like the query. */
function shape(node: QueryNode | null): string {
  if (node === null) return 'null';
  switch (node.type) {
    case 'term':
      return node.field;
    case 'not':
      return `not(${shape(node.child)})`;
    default:
      return `${node.type}(${node.children.map(shape).join(' ')})`;
  }
}

function syntaxError(query: string): QuerySyntaxError {
  const result = safeParseQuery(query);
  if (result.ok) throw new Error(`expected ${JSON.stringify(query)} to be rejected, got ${JSON.stringify(result.ast)}`);
  return result.error;
}

describe('parser - structure', () => {
  it('returns null for an empty or blank query', () => {
    expect(parseQuery('')).toBeNull();
    expect(parseQuery('  \t\n ')).toBeNull();
  });

  it('reads the example from the brief', () => {
    const ast = parseQuery('proto:tcp and src:10.0.0.0/8 and dport:443 and not level:normal and country:DE and host:web-1');
    expect(shape(ast)).toBe('and(proto src dport not(level) country host)');
  });

  it('gives not > and > or precedence', () => {
    expect(shape(parseQuery('proto:tcp or proto:udp and dport:53'))).toBe('or(proto and(proto dport))');
    expect(shape(parseQuery('not proto:tcp and dport:53'))).toBe('and(not(proto) dport)');
    expect(shape(parseQuery('proto:tcp and dport:53 or sport:53'))).toBe('or(and(proto dport) sport)');
  });

  it('treats juxtaposition as and, binding tighter than or', () => {
    expect(shape(parseQuery('proto:tcp dport:443'))).toBe('and(proto dport)');
    expect(shape(parseQuery('proto:tcp dport:443 or proto:udp'))).toBe('or(and(proto dport) proto)');
  });

  it('accepts symbolic and case-insensitive operators', () => {
    const expected = 'or(and(proto not(dport)) sport)';
    expect(shape(parseQuery('proto:tcp && !dport:80 || sport:80'))).toBe(expected);
    expect(shape(parseQuery('proto:tcp AND NOT dport:80 Or sport:80'))).toBe(expected);
    expect(shape(parseQuery('proto:tcp&&!dport:80||sport:80'))).toBe(expected);
  });

  it('groups with parentheses and flattens same-operator nesting', () => {
    expect(shape(parseQuery('(proto:tcp or proto:udp) and dport:53'))).toBe('and(or(proto proto) dport)');
    expect(shape(parseQuery('proto:tcp and (dport:1 and (sport:2))'))).toBe('and(proto dport sport)');
    expect(shape(parseQuery('not (proto:tcp or proto:udp)'))).toBe('not(or(proto proto))');
    expect(shape(parseQuery('not(proto:tcp)'))).toBe('not(proto)');
    expect(shape(parseQuery('not not proto:tcp'))).toBe('not(not(proto))');
  });

  it('reads field!=value as not', () => {
    expect(shape(parseQuery('proto!=tcp'))).toBe('not(proto)');
  });

  it('records where each term is', () => {
    const ast = parseQuery('proto:tcp   dport:443');
    expect(ast?.type).toBe('and');
    const [first, second] = ast?.type === 'and' ? ast.children : [];
    expect(first).toMatchObject({ position: 0, length: 9 });
    expect(second).toMatchObject({ position: 12, length: 9 });
  });

  it('resolves aliases and field names case-insensitively', () => {
    expect(term('addr:1.2.3.4').field).toBe('ip');
    expect(term('agent:web-1').field).toBe('host');
    expect(term('PROTO:TCP').field).toBe('proto');
    expect(values('PROTO:TCP')).toEqual([{ type: 'text', value: 'tcp' }]);
  });
});

describe('parser - values per field', () => {
  it('proto: names, ip-N and numbers', () => {
    expect(values('proto:udp')).toEqual([{ type: 'text', value: 'udp' }]);
    expect(values('proto:icmpv6')).toEqual([{ type: 'text', value: 'icmpv6' }]);
    expect(values('proto:ip-47')).toEqual([{ type: 'number', op: 'eq', value: 47 }]);
    expect(values('proto:6')).toEqual([{ type: 'number', op: 'eq', value: 6 }]);
    expect(values('proto:gre,esp,ah,igmp,ospf,pim,sctp').map((v) => (v.type === 'text' ? v.value : ''))).toEqual([
      'gre',
      'esp',
      'ah',
      'igmp',
      'ospf',
      'pim',
      'sctp',
    ]);
  });

  it('src/dst/ip: addresses and CIDRs, v4 and v6, host bits cleared', () => {
    expect(values('src:10.1.2.3')).toEqual([{ type: 'address', family: 4, address: '10.1.2.3', prefixLength: 32, exact: true }]);
    expect(values('dst:10.1.2.3/8')).toEqual([{ type: 'address', family: 4, address: '10.0.0.0', prefixLength: 8, exact: false }]);
    expect(values('ip:2001:DB8::1')).toEqual([{ type: 'address', family: 6, address: '2001:db8::1', prefixLength: 128, exact: true }]);
    expect(values('ip:2001:db8:ffff::/33')).toEqual([{ type: 'address', family: 6, address: '2001:db8:8000::', prefixLength: 33, exact: false }]);
    expect(values('ip:::/0')).toEqual([{ type: 'address', family: 6, address: '::', prefixLength: 0, exact: false }]);
    expect(values('src:::ffff:192.0.2.1')).toEqual([{ type: 'address', family: 6, address: '::ffff:c000:201', prefixLength: 128, exact: true }]);
    expect(values('src:10.0.0.0/8,192.168.0.0/16')).toHaveLength(2);
  });

  it('ports: single, range, list, comparisons', () => {
    expect(values('dport:443')).toEqual([{ type: 'number', op: 'eq', value: 443 }]);
    expect(values('port:1-1023')).toEqual([{ type: 'range', min: 1, max: 1023 }]);
    expect(values('dport:80,443,8000-8080')).toEqual([
      { type: 'number', op: 'eq', value: 80 },
      { type: 'number', op: 'eq', value: 443 },
      { type: 'range', min: 8000, max: 8080 },
    ]);
    expect(values('sport>1024')).toEqual([{ type: 'number', op: 'gt', value: 1024 }]);
    expect(values('sport:>=1024')).toEqual([{ type: 'number', op: 'ge', value: 1024 }]);
    expect(values('sport<1024')).toEqual([{ type: 'number', op: 'lt', value: 1024 }]);
    expect(values('sport:<=0')).toEqual([{ type: 'number', op: 'le', value: 0 }]);
    expect(values('dport:65535')).toEqual([{ type: 'number', op: 'eq', value: 65535 }]);
  });

  it('host: agent id or hostname with wildcards, case kept', () => {
    expect(values('host:Web-1')).toEqual([{ type: 'pattern', value: 'Web-1', wildcard: false, caseInsensitive: false }]);
    expect(values('host:web-*')).toEqual([{ type: 'pattern', value: 'web-*', wildcard: true, caseInsensitive: false }]);
  });

  it('level: names, lists and comparisons', () => {
    expect(values('level:malicious')).toEqual([{ type: 'number', op: 'eq', value: 2 }]);
    expect(values('level>=suspicious')).toEqual([{ type: 'number', op: 'ge', value: 1 }]);
    expect(values('level:>Normal')).toEqual([{ type: 'number', op: 'gt', value: 0 }]);
    expect(values('level:normal,malicious')).toEqual([
      { type: 'number', op: 'eq', value: 0 },
      { type: 'number', op: 'eq', value: 2 },
    ]);
  });

  it('country fields: ISO codes upper-cased, scope labels lower-cased', () => {
    expect(values('country:de')).toEqual([{ type: 'text', value: 'DE' }]);
    expect(values('srccountry:Private')).toEqual([{ type: 'text', value: 'private' }]);
    expect(values('dstcountry:link-local,US')).toEqual([
      { type: 'text', value: 'link-local' },
      { type: 'text', value: 'US' },
    ]);
  });

  it('asn fields, vlan, packets: integers with comparisons', () => {
    expect(values('asn:13335')).toEqual([{ type: 'number', op: 'eq', value: 13335 }]);
    expect(values('srcasn:AS3320')).toEqual([{ type: 'number', op: 'eq', value: 3320 }]);
    expect(values('dstasn:4294967295')).toEqual([{ type: 'number', op: 'eq', value: 4294967295 }]);
    expect(values('vlan:0-4095')).toEqual([{ type: 'range', min: 0, max: 4095 }]);
    expect(values('packets<10')).toEqual([{ type: 'number', op: 'lt', value: 10 }]);
    expect(values('packets>2k')).toEqual([{ type: 'number', op: 'gt', value: 2000 }]);
  });

  it('bytes: decimal and binary suffixes', () => {
    expect(values('bytes>1000000')).toEqual([{ type: 'number', op: 'gt', value: 1_000_000 }]);
    expect(values('bytes>=1M')).toEqual([{ type: 'number', op: 'ge', value: 1_000_000 }]);
    expect(values('bytes:>1.5k')).toEqual([{ type: 'number', op: 'gt', value: 1500 }]);
    expect(values('bytes>1.1k')).toEqual([{ type: 'number', op: 'gt', value: 1100 }]);
    expect(values('bytes>2G')).toEqual([{ type: 'number', op: 'gt', value: 2_000_000_000 }]);
    expect(values('bytes>1KiB')).toEqual([{ type: 'number', op: 'gt', value: 1024 }]);
    expect(values('bytes>2MiB')).toEqual([{ type: 'number', op: 'gt', value: 2 * 1024 * 1024 }]);
    expect(values('bytes<1GiB')).toEqual([{ type: 'number', op: 'lt', value: 1024 ** 3 }]);
    expect(values('bytes:1k-1M')).toEqual([{ type: 'range', min: 1000, max: 1_000_000 }]);
  });

  it('duration: ms, s, m, h; bare numbers are ms', () => {
    expect(values('duration>5s')).toEqual([{ type: 'number', op: 'gt', value: 5000 }]);
    expect(values('duration<250ms')).toEqual([{ type: 'number', op: 'lt', value: 250 }]);
    expect(values('duration>=2m')).toEqual([{ type: 'number', op: 'ge', value: 120_000 }]);
    expect(values('duration>1h')).toEqual([{ type: 'number', op: 'gt', value: 3_600_000 }]);
    expect(values('duration>1.5s')).toEqual([{ type: 'number', op: 'gt', value: 1500 }]);
    expect(values('duration:100')).toEqual([{ type: 'number', op: 'eq', value: 100 }]);
    expect(values('duration:1s-5s')).toEqual([{ type: 'range', min: 1000, max: 5000 }]);
  });

  it('dns, sni, httphost: lower-cased patterns with wildcards', () => {
    expect(values('dns:*.Example.COM')).toEqual([{ type: 'pattern', value: '*.example.com', wildcard: true, caseInsensitive: true }]);
    expect(values('sni:api.github.com')).toEqual([{ type: 'pattern', value: 'api.github.com', wildcard: false, caseInsensitive: true }]);
    expect(values('httphost:intranet*')).toEqual([{ type: 'pattern', value: 'intranet*', wildcard: true, caseInsensitive: true }]);
  });

  it('threat: true, false, or a feed name', () => {
    expect(values('threat:true')).toEqual([{ type: 'bool', value: true }]);
    expect(values('threat:FALSE')).toEqual([{ type: 'bool', value: false }]);
    expect(values('threat:firehol_level1')).toEqual([{ type: 'text', value: 'firehol_level1' }]);
  });

  it('endreason and family', () => {
    expect(values('endreason:rst,fin')).toEqual([
      { type: 'text', value: 'rst' },
      { type: 'text', value: 'fin' },
    ]);
    expect(values('family:6')).toEqual([{ type: 'number', op: 'eq', value: 6 }]);
  });
});

describe('parser - quoting', () => {
  it('reads quoted values with escapes', () => {
    expect(values('host:"my host"')).toEqual([{ type: 'pattern', value: 'my host', wildcard: false, caseInsensitive: false }]);
    expect(values('host:"a\\"b\\\\c"')).toEqual([{ type: 'pattern', value: 'a"b\\c', wildcard: false, caseInsensitive: false }]);
  });

  it('keeps and/or/parentheses inside quotes as text', () => {
    const ast = parseQuery('dns:"x or (y)" and proto:udp');
    expect(shape(ast)).toBe('and(dns proto)');
    const dns = ast?.type === 'and' ? ast.children[0] : undefined;
    expect(dns?.type === 'term' && dns.values[0]).toEqual({ type: 'pattern', value: 'x or (y)', wildcard: false, caseInsensitive: true });
  });

  it('reads lists of quoted values', () => {
    expect(values('host:"a b","c"')).toHaveLength(2);
  });

  it('does not treat a quoted dash as a range', () => {
    const error = syntaxError('dport:"1-2"');
    expect(error.message).toContain('invalid port "1-2"');
  });

  it('ends an unquoted value at ")"', () => {
    expect(shape(parseQuery('(proto:tcp)'))).toBe('proto');
  });
});

describe('parser - errors', () => {
  const cases: Array<[query: string, message: string, position: number, length: number]> = [
    ['prot:tcp', 'unknown field "prot" at 0 (did you mean "proto"?)', 0, 4],
    ['proto:tcp and dprot:80', 'unknown field "dprot" at 14 (did you mean "dport"?)', 14, 5],
    ['zzzzzzz:1', 'unknown field "zzzzzzz" at 0', 0, 7],
    ['src:10.0.0.0/33', 'invalid CIDR "10.0.0.0/33"', 4, 11],
    ['src:10.0.0.256', 'invalid address "10.0.0.256"', 4, 10],
    ['dst:2001:db8::/129', 'invalid CIDR "2001:db8::/129"', 4, 14],
    ['dst:1:2:3:4:5:6:7:8:9', 'invalid address', 4, 17],
    ['port:70000', 'port 70000 out of range 0-65535', 5, 5],
    ['dport:2000-1000', 'range "2000-1000" is reversed', 6, 9],
    ['dport:http', 'invalid port "http"', 6, 4],
    ['(proto:tcp or proto:udp', 'expected ")" at 23', 23, 0],
    ['(proto:tcp or proto:udp dport:1 src:1.1.1.1 dst:1.1.1.1 x:1', 'unknown field "x" at 56', 56, 1],
    ['proto:tcp and prot:udp 300.1.1.1', 'unknown field "prot" at 14', 14, 4],
    ['proto:tcp)', 'unexpected ")" at 9', 9, 1],
    ['()', 'empty parentheses at 0', 0, 2],
    ['proto:tcp and', 'expected a term after "and" at 13', 13, 0],
    ['proto:tcp or', 'expected a term after "or" at 12', 12, 0],
    ['not', 'expected a term', 3, 0],
    ['and proto:tcp', 'expected a term before "and" at 0', 0, 3],
    ['proto:tcp or or proto:udp', 'expected a term before "or" at 13', 13, 2],
    ['proto:', 'missing value for "proto" at 6', 6, 0],
    ['proto: tcp', 'missing value for "proto" at 6', 6, 0],
    ['dport:80,', 'empty value after ","', 9, 0],
    ['dport:80,,443', 'empty value after ","', 9, 0],
    ['host:"web-1', 'unterminated quoted value at 5', 5, 6],
    ['host:"a\\nb"', 'invalid escape "\\n"', 7, 2],
    ['host:ab"c"', 'unexpected quote inside a value', 7, 1],
    ['host:"a"b', 'unexpected "b" after value', 8, 1],
    ['"quoted"', 'a quoted value needs a field', 0, 1],
    ['tcp', '"tcp" is not a filter term (did you mean proto:tcp?)', 0, 3],
    ['10.0.0.1', 'did you mean ip:10.0.0.1?', 0, 8],
    ['proto:tcp & dport:80', 'unexpected "&" (did you mean "&&"?) at 10', 10, 1],
    ['proto:xyz', 'unknown protocol "xyz"', 6, 3],
    ['proto:256', 'protocol number 256 out of range 0-255', 6, 3],
    ['proto:ip-300', 'protocol number 300 out of range 0-255', 6, 6],
    ['proto>6', 'field "proto" does not take comparisons', 5, 1],
    ['src:>10.0.0.1', 'field "src" does not take comparisons', 3, 2],
    ['dport>80,443', 'a comparison takes one value, not a list', 9, 3],
    ['dport>1000-2000', 'a comparison takes one value, not the range', 6, 9],
    ['level:bad', 'unknown level "bad" (expected normal, suspicious, malicious)', 6, 3],
    ['country:DEU', 'invalid country "DEU"', 8, 3],
    ['country:', 'missing value for "country"', 8, 0],
    ['vlan:4096', 'vlan 4096 out of range 0-4095', 5, 4],
    ['asn:4294967296', 'asn 4294967296 out of range 0-4294967295', 4, 10],
    ['asn:1.5', 'asn "1.5" is not a whole number', 4, 3],
    ['bytes>1X', 'invalid size "1X"', 6, 2],
    ['bytes>0.5', 'bytes "0.5" is not a whole number', 6, 3],
    ['duration>5y', 'invalid duration "5y"', 9, 2],
    ['threat:"a b"', 'invalid threat value "a b"', 7, 5],
    ['endreason:timeout', 'unknown endreason "timeout" (expected idle, active, fin, rst, evicted, end)', 10, 7],
    ['family:5', 'invalid family "5" (expected 4 or 6)', 7, 1],
    ['host:a\u0000b', 'control character in value at 6', 6, 1],
    ['dns:"a\u0001"', 'control character in quoted value at 6', 6, 1],
  ];

  it.each(cases)('%j -> %s', (query, message, position, length) => {
    const error = syntaxError(query);
    expect(error).toBeInstanceOf(QuerySyntaxError);
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.statusCode).toBe(400);
    expect(error.message).toContain(message);
    expect({ position: error.position, length: error.length }).toEqual({ position, length });
  });

  it('parseQuery throws the same error that safeParseQuery returns', () => {
    expect(() => parseQuery('prot:tcp')).toThrow(QuerySyntaxError);
    expect(() => parseQuery('prot:tcp')).toThrow('did you mean "proto"?');
  });

  it('rejects a value longer than 255 characters', () => {
    expect(syntaxError(`dns:${'a'.repeat(256)}`).message).toContain('longer than 255');
  });
});

describe('parser - limits', () => {
  it('rejects 10,000 nested parentheses with an error, not a stack overflow', () => {
    const error = syntaxError(`${'('.repeat(10_000)}proto:tcp${')'.repeat(10_000)}`);
    expect(error.message).toContain(`over the limit of ${QUERY_LIMITS.maxLength}`);
  });

  it('rejects nesting deeper than 32 within the length limit', () => {
    const deep = `${'('.repeat(900)}proto:tcp${')'.repeat(900)}`;
    expect(deep.length).toBeLessThanOrEqual(QUERY_LIMITS.maxLength);
    const error = syntaxError(deep);
    expect(error.message).toBe('nesting deeper than 32 levels at 32');
    expect(syntaxError(`${'not '.repeat(400)}proto:tcp`).message).toContain('nesting deeper than 32');
    expect(syntaxError(`${'!'.repeat(1900)}proto:tcp`).message).toContain('nesting deeper than 32');
  });

  it('accepts exactly 32 levels of nesting', () => {
    expect(shape(parseQuery(`${'('.repeat(32)}proto:tcp${')'.repeat(32)}`))).toBe('proto');
  });

  it('accepts 2000 characters and rejects 2001', () => {
    const pad = (n: number): string => `dns:${'a'.repeat(200)} `.repeat(n);
    const exact = `${pad(9)}dns:${'b'.repeat(2000 - pad(9).length - 4)}`;
    expect(exact).toHaveLength(2000);
    expect(parseQuery(exact)?.type).toBe('and');
    const error = syntaxError(`${exact} `);
    expect(error.position).toBe(2000);
  });

  it('rejects more than 200 terms', () => {
    expect(parseQuery(Array.from({ length: 200 }, () => 'vlan:1').join(' '))?.type).toBe('and');
    const error = syntaxError(Array.from({ length: 201 }, () => 'vlan:1').join(' '));
    expect(error.message).toBe(`more than 200 terms at ${200 * 7}`);
  });

  it('rejects lists longer than 100 values', () => {
    const list = (n: number): string => `dport:${Array.from({ length: n }, (_, i) => i).join(',')}`;
    expect(values(list(100))).toHaveLength(100);
    expect(syntaxError(list(101)).message).toContain('list longer than 100 values');
  });

  it('rejects a non-string query', () => {
    expect(() => parseQuery(42 as unknown as string)).toThrow(QuerySyntaxError);
  });
});

describe('parser - hostile input', () => {
  it('keeps injection attempts as plain values or rejects them', () => {
    expect(syntaxError("src:1.1.1.1'; DROP TABLE flows;--").message).toContain('invalid address');
    expect(values('dns:"x\' OR 1=1 --"')).toEqual([{ type: 'pattern', value: "x' or 1=1 --", wildcard: false, caseInsensitive: true }]);
    // The unquoted value ends at the space, so the rest is read as more terms and rejected.
    expect(syntaxError("host:a%' or '1'='1").message).toContain(`"'1'='1" is not a filter term`);
    expect(values('host:"a%\' or \'1\'=\'1"')).toEqual([{ type: 'pattern', value: "a%' or '1'='1", wildcard: false, caseInsensitive: false }]);
  });

  it('never throws anything but QuerySyntaxError on random printable input', () => {
    const alphabet = 'abcdeprotsnhl:,-()"\\!&|<>=*./0123456789 \t';
    let seed = 12345;
    const next = (): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed;
    };
    for (let i = 0; i < 3000; i++) {
      const length = next() % 40;
      let query = '';
      for (let j = 0; j < length; j++) query += alphabet[next() % alphabet.length];
      const result = safeParseQuery(query);
      if (!result.ok) {
        expect(result.error.position).toBeGreaterThanOrEqual(0);
        expect(result.error.position).toBeLessThanOrEqual(query.length);
      }
    }
  });
});
