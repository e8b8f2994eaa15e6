import { describe, expect, it } from 'vitest';
import { absoluteName, parseZoneRead, reverseName, staticNames } from '../../../src/knot/names.js';

// As knotc 3.2 prints `zone-read --`.
const ZONES = `[0.10.in-addr.arpa.] 0.10.in-addr.arpa. 3600 NS ns1.t.test.
[0.10.in-addr.arpa.] 5.1.0.10.in-addr.arpa. 3600 PTR pc.t.test.
[0.10.in-addr.arpa.] 7.0.0.10.in-addr.arpa. 3600 PTR nas.t.test.
[t.test.] t.test. 3600 NS ns1.t.test.
[t.test.] t.test. 3600 SOA ns1.t.test. h.t.test. 2 3600 900 1209600 300
[t.test.] t.test. 3600 A 10.0.0.2
[t.test.] ns1.t.test. 3600 A 10.0.0.1
[t.test.] pc.t.test. 300 A 10.0.1.5
[t.test.] pc.t.test. 300 DHCID AAEBOwjv8T5/JBQ5k8CuIR0xMqDx4G8CmqpLgPsE1dMk6rE=
[t.test.] nas.t.test. 3600 A 10.0.0.7
[t.test.] tv.t.test. 3600 A 10.0.0.8
`;

describe('static names from knotc zone-read', () => {
  it('parses every record line', () => {
    const records = parseZoneRead(ZONES);
    expect(records).toHaveLength(11);
    expect(records[1]).toEqual({ zone: '0.10.in-addr.arpa.', owner: '5.1.0.10.in-addr.arpa.', ttl: 3600, type: 'PTR', data: 'pc.t.test.' });
    expect(records[4]!.data).toBe('ns1.t.test. h.t.test. 2 3600 900 1209600 300');
  });

  it('lists A records without a DHCID, leaving out the apex and the name servers', () => {
    expect(staticNames(parseZoneRead(ZONES))).toEqual([
      { name: 'nas.t.test', address: '10.0.0.7', reverse: '7.0.0.10.in-addr.arpa' },
      { name: 'tv.t.test', address: '10.0.0.8', reverse: null },
    ]);
  });

  it('makes a label or a name inside the zone absolute, and refuses others', () => {
    expect(absoluteName('NAS', ['t.test.'])).toBe('nas.t.test.');
    expect(absoluteName('nas.t.test.', ['t.test.'])).toBe('nas.t.test.');
    expect(() => absoluteName('nas.other.test', ['t.test.'])).toThrow(/not inside a zone this server serves \(t\.test\.\)/);
    expect(() => absoluteName('t.test', ['t.test.'])).toThrow(/not inside a zone/);
    expect(() => absoluteName('bad_name', ['t.test.'])).toThrow(/is not a DNS name/);
    expect(reverseName('10.0.1.5')).toBe('5.1.0.10.in-addr.arpa.');
  });
});
