import { describe, expect, it } from 'vitest';
import { parseAddressOrCidr } from './ip-address.js';

// The address parser itself is tested against Node in ../net/ip-text.test.ts.

describe('ip-address - parseAddressOrCidr', () => {
  it('clears host bits and marks exact addresses', () => {
    expect(parseAddressOrCidr('192.168.77.1/20')).toEqual({
      ok: true,
      value: { type: 'address', family: 4, address: '192.168.64.0', prefixLength: 20, exact: false },
    });
    expect(parseAddressOrCidr('10.0.0.1/0')).toMatchObject({ ok: true, value: { address: '0.0.0.0', prefixLength: 0 } });
    expect(parseAddressOrCidr('2001:db8:abcd:1234::1/50')).toMatchObject({ ok: true, value: { family: 6, address: '2001:db8:abcd::', prefixLength: 50 } });
    expect(parseAddressOrCidr('2001:db8:abcd:ffff::1/52')).toMatchObject({ ok: true, value: { address: '2001:db8:abcd:f000::' } });
  });

  it('normalises an exact address to its canonical text', () => {
    expect(parseAddressOrCidr('2001:DB8:0:0:0:0:0:1')).toEqual({
      ok: true,
      value: { type: 'address', family: 6, address: '2001:db8::1', prefixLength: 128, exact: true },
    });
    expect(parseAddressOrCidr('::ffff:10.0.0.1')).toMatchObject({ ok: true, value: { family: 6, address: '::ffff:a00:1', exact: true } });
  });

  it.each(['10.0.0.0/33', '10.0.0.0/', '10.0.0.0/08', '10.0.0.0/-1', '::/129', '10.0.0.0/8/8', 'x/8'])('rejects %j', (text) => {
    expect(parseAddressOrCidr(text)).toEqual({ ok: false, message: `invalid CIDR "${text}"` });
  });

  it.each(['010.0.0.1', 'fe80::1%eth0', '1.2.3', ''])('rejects the address %j', (text) => {
    expect(parseAddressOrCidr(text)).toEqual({ ok: false, message: `invalid address "${text}"` });
  });
});
