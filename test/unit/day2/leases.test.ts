import { describe, expect, it } from 'vitest';
import { describeLeases, poolOwners } from '../../../src/kea/leases.js';
import { parseZoneRead } from '../../../src/knot/names.js';
import { untilText } from '../../../src/cli/leases.js';

// A pair's pools as setup/ha.ts splits them, in config-get's shape.
const PAIR = { subnet4: [{ subnet: '10.0.0.0/16', pools: [
  { pool: '10.0.1.0 - 10.0.1.127', 'client-class': 'HA_pi1' },
  // config-get writes a range that is a prefix as the prefix.
  { pool: '10.0.1.128/25', 'client-class': 'HA_pi2' },
] }] };
const lease = (ip: string, extra: object = {}) => ({ 'ip-address': ip, 'hw-address': '52:54:00:00:00:01', cltt: 1_700_000_000, 'valid-lft': 3600, state: 0, ...extra });

describe('leases as shown', () => {
  it('says which peer gives an address from the split pools, none outside them or without a pair', () => {
    const owners = poolOwners(PAIR);
    const shown = describeLeases([lease('10.0.1.200'), lease('10.0.1.3'), lease('10.0.0.50')], owners, undefined);
    expect(shown.map((l) => [l.address, l.node])).toEqual([['10.0.0.50', null], ['10.0.1.3', 'pi1'], ['10.0.1.200', 'pi2']]);
    expect(poolOwners({ subnet4: [{ pools: [{ pool: '10.0.1.0 - 10.0.1.255' }] }] })).toEqual([]);
    // Kea 3.0's shape.
    expect(poolOwners({ subnet4: [{ pools: [{ pool: '10.0.1.0 - 10.0.1.9', 'client-classes': ['HA_pi2'] }] }] })).toEqual([{ start: 167772416, end: 167772425, node: 'pi2' }]);
  });

  it('marks the name present only when Knot answers it with the lease address', () => {
    const records = parseZoneRead('[t.test.] pc.t.test. 300 A 10.0.1.5\n[t.test.] old.t.test. 300 A 10.0.1.99\n');
    const shown = describeLeases([
      lease('10.0.1.5', { hostname: 'PC.t.test.' }),
      lease('10.0.1.6', { hostname: 'old.t.test.' }),
      lease('10.0.1.7'),
    ], [], records);
    expect(shown.map((l) => [l.hostname, l.dns])).toEqual([['pc.t.test', true], ['old.t.test', false], [null, false]]);
    expect(describeLeases([lease('10.0.1.5', { hostname: 'pc.t.test.' })], [], undefined)[0]!.dns).toBeNull();
  });

  it('gives the expiry in epoch ms and the state by name, and searches address, MAC and name', () => {
    const shown = describeLeases([lease('10.0.1.5', { hostname: 'pc.t.test', state: 1 }), lease('10.0.1.6', { 'hw-address': '52:54:00:ab:cd:ef' })], [], undefined, 'AB:CD');
    expect(shown).toEqual([{ address: '10.0.1.6', mac: '52:54:00:ab:cd:ef', hostname: null, dns: null, expires: 1_700_003_600_000, state: 'active', node: null }]);
    expect(describeLeases([lease('10.0.1.5', { state: 1 })], [], undefined)[0]!.state).toBe('declined');
  });

  it('lists DHCPv6 addresses after IPv4 ones, in order, matched against AAAA records however Knot spells them, without a node or delegated prefixes', () => {
    const owners = poolOwners(PAIR);
    const records = parseZoneRead('[t.test.] pc.t.test. 300 A 10.0.1.5\n[t.test.] pc.t.test. 300 AAAA 2001:db8:1:0:0:0:0:1000\n');
    const shown = describeLeases([
      lease('2001:db8:1::1000', { hostname: 'pc.t.test.', type: 'IA_NA' }),
      lease('2001:db8:1::ff', { type: 'IA_NA' }),
      lease('2001:db8:1:8000::', { type: 'IA_PD' }),
      lease('10.0.1.5', { hostname: 'pc.t.test.' }),
      lease('2001:db8:1::0:1001', { hostname: 'pc.t.test.', type: 'IA_NA' }),
    ], owners, records);
    expect(shown.map((l) => [l.address, l.dns, l.node])).toEqual([
      ['10.0.1.5', true, 'pi1'],
      ['2001:db8:1::ff', false, null],
      ['2001:db8:1::1000', true, null],
      ['2001:db8:1::1001', false, null],
    ]);
  });

  it('writes the time to expiry for people', () => {
    expect(untilText(3_900_000, 0)).toBe('in 1h 05m');
    expect(untilText(0, 300_000)).toBe('5m ago');
  });
});
