import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { importDnsmasq, readDnsmasqLines } from '../../../src/reservations/dnsmasq.js';

const fixture = (name: string) => readFileSync(new URL(`../../fixtures/import/${name}`, import.meta.url), 'utf8');
const one = (value: string) => importDnsmasq(`dhcp-host=${value}\n`);

describe('importing dnsmasq dhcp-host lines', () => {
  it('converts a router\'s dnsmasq.conf, listing what it cannot convert and what it changed', () => {
    expect(importDnsmasq(fixture('dnsmasq.conf'))).toEqual({
      reservations: [
        { 'hw-address': '00:11:22:33:44:55', 'ip-address': '192.168.1.10', hostname: 'nas' },
        { 'hw-address': 'aa:bb:cc:dd:ee:02', 'ip-address': '192.168.1.11', hostname: 'printer' },
        { 'hw-address': '00:1e:06:aa:bb:cc', 'ip-address': '192.168.1.12', hostname: 'tv' },
        { 'hw-address': '00:16:3e:11:22:33', 'ip-address': '192.168.1.20', hostname: 'laptop' },
        { 'hw-address': '00:20:e0:3b:13:ad', 'ip-address': '192.168.1.21', hostname: 'ap-garden' },
        { 'hw-address': '52:54:00:01:02:05', 'ip-address': '192.168.1.22', hostname: 'camera' },
        { 'hw-address': '52:54:00:01:02:09', 'ip-address': '192.168.1.23', hostname: 'quoted-name' },
        { 'hw-address': '00:1b:02:0c:04:0d', 'ip-address': '192.168.1.24', hostname: 'short-octets' },
      ],
      skipped: [
        { line: 16, text: 'dhcp-host=00:16:3e:11:22:33,00:16:3e:44:55:66,192.168.1.20,laptop',
          reason: '00:16:3e:44:55:66 shares 192.168.1.20 with 00:16:3e:11:22:33 on this line; a Kea reservation holds one MAC, so 192.168.1.20 went to 00:16:3e:11:22:33; reserve another address for 00:16:3e:44:55:66 if it needs one' },
        { line: 23, text: 'dhcp-host=id:01:02:03:04,192.168.1.30,phone',
          reason: 'matched by client identifier (id:01:02:03:04), not by MAC; reserve it by the device\'s MAC with kea-knot reserve' },
        { line: 24, text: 'dhcp-host=00:20:e0:3b:13:af,wap,infinite',
          reason: 'no fixed address: dnsmasq gives wap its address from /etc/hosts if it has one there; reserve that with kea-knot reserve MAC ADDRESS wap' },
        { line: 25, text: 'dhcp-host=00:20:e0:3b:13:*,192.168.1.40',
          reason: '00:20:e0:3b:13:* has wildcards; Kea reserves for exact MACs only' },
        { line: 26, text: 'dhcp-host=06-00:20:e0:3b:13:ae,192.168.1.41',
          reason: 'dnsmasq reads 06-00:20:e0:3b:13:ae as hardware type 0x6 with the address 00:20:e0:3b:13:ae, which is not Ethernet' },
        { line: 27, text: 'dhcp-host=52:54:00:01:02:03,192.168.1.42,ignore',
          reason: '"ignore": dnsmasq refuses DHCP to this host, which a Kea reservation cannot say' },
        { line: 28, text: 'dhcp-host=bert,192.168.1.43',
          reason: 'no MAC: dnsmasq gives 192.168.1.43 to the client that calls itself bert; Kea reservations need a MAC' },
        { line: 29, text: 'dhcp-host=52-54-00-01-02-04,192.168.1.44',
          reason: 'no MAC: dnsmasq reads 52-54-00-01-02-04 as a host name (a MAC needs colons); write 52:54:00:01:02:04 and import again' },
        { line: 30, text: 'dhcp-host=52:54:00:01:02:06,[2001:db8::6],ipv6-only',
          reason: 'IPv6 only ([2001:db8::6]); kea-knot reserves IPv4 addresses for now' },
        { line: 31, text: 'dhcp-host=52:54:00:01:02:07,192.168.1.45,my_pc',
          reason: 'host name "my_pc" is not valid: a host name is one DNS label: 1-63 letters, digits and hyphens, not starting or ending with a hyphen, e.g. printer; rename it in the source and import again' },
        { line: 32, text: 'dhcp-host=52:54:00:01:02:08,192.168.1.46,"unclosed',
          reason: 'a quote is not closed: dnsmasq refuses this line' },
        { line: 33, text: 'dhcp-host=01:00:5e:00:00:fb,192.168.1.47',
          reason: '01:00:5e:00:00:fb is not an Ethernet MAC (a multicast address)' },
        { line: 34, text: 'dhcp-host=zz:54:00:01:02:0a,192.168.1.48',
          reason: '"zz:54:00:01:02:0a" is not a hardware address (dnsmasq: bad hex constant)' },
        { line: 36, text: 'dhcp-hostsfile=/etc/dnsmasq-hosts.conf',
          reason: 'more dhcp-host entries are in that file: import it too' },
        { line: 37, text: 'conf-dir=/etc/dnsmasq.d/,*.conf',
          reason: 'more options are in that directory: import its files too if they have dhcp-host lines' },
      ],
      notes: [
        { line: 13, text: 'dhcp-host=AA:BB:CC:DD:EE:02,printer,192.168.1.11,infinite   # order of parts is free',
          note: 'lease time infinite not imported: Kea gives reserved hosts the subnet\'s lease time' },
        { line: 14, text: 'dhcp-host = 00:1e:06:aa:bb:cc , 192.168.1.12 , tv.lan , 12h',
          note: 'lease time 12h not imported: Kea gives reserved hosts the subnet\'s lease time' },
        { line: 14, text: 'dhcp-host = 00:1e:06:aa:bb:cc , 192.168.1.12 , tv.lan , 12h',
          note: 'host name tv.lan imported as tv: the domain comes from kea-knot\'s --domain' },
        { line: 18, text: 'dhcp-host=52:54:00:01:02:05,set:iot,tag:lan,id:*,192.168.1.22,camera,[::22],45m',
          note: 'set:iot not imported: kea-knot has no dnsmasq tags' },
        { line: 18, text: 'dhcp-host=52:54:00:01:02:05,set:iot,tag:lan,id:*,192.168.1.22,camera,[::22],45m',
          note: 'tag:lan not imported: dnsmasq used this entry only for requests tagged lan, Kea uses it for every request' },
        { line: 18, text: 'dhcp-host=52:54:00:01:02:05,set:iot,tag:lan,id:*,192.168.1.22,camera,[::22],45m',
          note: 'id:* not imported: Kea matches the reservation by MAC whatever client identifier is sent' },
        { line: 18, text: 'dhcp-host=52:54:00:01:02:05,set:iot,tag:lan,id:*,192.168.1.22,camera,[::22],45m',
          note: '[::22] not imported: kea-knot reserves IPv4 addresses for now' },
        { line: 18, text: 'dhcp-host=52:54:00:01:02:05,set:iot,tag:lan,id:*,192.168.1.22,camera,[::22],45m',
          note: 'lease time 45m not imported: Kea gives reserved hosts the subnet\'s lease time' },
      ],
    });
  });

  it('reads a dhcp-hostsfile, whose lines are dhcp-host values without the option name', () => {
    expect(importDnsmasq(fixture('dnsmasq-hosts.conf'))).toEqual({
      reservations: [
        { 'hw-address': '52:54:00:aa:00:01', 'ip-address': '192.168.1.80', hostname: 'kitchen' },
        { 'hw-address': '52:54:00:aa:00:02', 'ip-address': '192.168.1.81' },
        { 'hw-address': '52:54:00:aa:00:03', 'ip-address': '192.168.1.82', hostname: 'hall' },
      ],
      skipped: [],
      notes: [
        { line: 4, text: '52:54:00:aa:00:03,id:*,192.168.1.82,hall,infinite', note: 'id:* not imported: Kea matches the reservation by MAC whatever client identifier is sent' },
        { line: 4, text: '52:54:00:aa:00:03,id:*,192.168.1.82,hall,infinite', note: "lease time infinite not imported: Kea gives reserved hosts the subnet's lease time" },
      ],
    });
  });

  it('leaves out every entry of a clash, naming the other lines, and imports an exact repeat once', () => {
    const keep = 'not imported; keep one of them in the source and import again';
    expect(importDnsmasq(fixture('dnsmasq-conflicts.conf'))).toEqual({
      reservations: [
        { 'hw-address': '52:54:00:00:00:06', 'ip-address': '192.168.1.16', hostname: 'zeta' },
        { 'hw-address': '52:54:00:00:00:07', 'ip-address': '192.168.1.17', hostname: 'eta' },
      ],
      skipped: [
        { line: 2, text: 'dhcp-host=52:54:00:00:00:01,192.168.1.10,alpha', reason: `MAC 52:54:00:00:00:01 is also on line 3: ${keep}` },
        { line: 3, text: 'dhcp-host=52:54:00:00:00:01,192.168.1.11,beta', reason: `MAC 52:54:00:00:00:01 is also on line 2: ${keep}` },
        { line: 4, text: 'dhcp-host=52:54:00:00:00:02,192.168.1.12,gamma', reason: `address 192.168.1.12 is also on line 5: ${keep}` },
        { line: 5, text: 'dhcp-host=52:54:00:00:00:03,192.168.1.12,delta', reason: `address 192.168.1.12 is also on line 4: ${keep}` },
        { line: 6, text: 'dhcp-host=52:54:00:00:00:04,192.168.1.14,epsilon', reason: `host name epsilon is also on line 7: ${keep}` },
        { line: 7, text: 'dhcp-host=52:54:00:00:00:05,192.168.1.15,Epsilon', reason: `host name epsilon is also on line 6: ${keep}` },
        { line: 9, text: 'dhcp-host=52:54:00:00:00:06,192.168.1.16,zeta', reason: 'repeats line 8; imported once' },
      ],
      notes: [],
    });
  });

  it('names every clash of an entry that clashes twice, and all the lines of a clash of three', () => {
    const result = importDnsmasq([
      'dhcp-host=52:54:00:00:00:01,192.168.1.10,a',
      'dhcp-host=52:54:00:00:00:01,192.168.1.10,b',
      'dhcp-host=52:54:00:00:00:02,192.168.1.10,c',
    ].join('\n'));
    expect(result.reservations).toEqual([]);
    expect(result.skipped.map((s) => [s.line, s.reason])).toEqual([
      [1, 'MAC 52:54:00:00:00:01 is also on line 2; address 192.168.1.10 is also on lines 2, 3: not imported; keep one of them in the source and import again'],
      [2, 'MAC 52:54:00:00:00:01 is also on line 1; address 192.168.1.10 is also on lines 1, 3: not imported; keep one of them in the source and import again'],
      [3, 'address 192.168.1.10 is also on lines 1, 2: not imported; keep one of them in the source and import again'],
    ]);
  });

  it('takes the later address and name where a line gives two, as dnsmasq does', () => {
    expect(one('52:54:00:00:00:01,192.168.1.10,old,192.168.1.11,new')).toEqual({
      reservations: [{ 'hw-address': '52:54:00:00:00:01', 'ip-address': '192.168.1.11', hostname: 'new' }],
      skipped: [],
      notes: [
        { line: 1, text: 'dhcp-host=52:54:00:00:00:01,192.168.1.10,old,192.168.1.11,new', note: '192.168.1.10 replaced by 192.168.1.11, the later address, as dnsmasq does' },
        { line: 1, text: 'dhcp-host=52:54:00:00:00:01,192.168.1.10,old,192.168.1.11,new', note: 'host name old replaced by new, the later name, as dnsmasq does' },
      ],
    });
  });

  it.each([
    ['a bare number', '3600'],
    ['seconds', '90s'],
    ['weeks', '2w'],
    ['upper-case hours', '12H'],
  ])('reads %s as a lease time, not a host name', (_what, time) => {
    expect(one(`52:54:00:00:00:01,192.168.1.10,${time}`)).toMatchObject({
      reservations: [{ 'hw-address': '52:54:00:00:00:01', 'ip-address': '192.168.1.10' }],
      notes: [{ note: `lease time ${time} not imported: Kea gives reserved hosts the subnet's lease time` }],
    });
  });

  it.each([
    ['a client identifier next to the MAC', '52:54:00:00:00:01,id:01:52:54:00:00:00:01,192.168.1.10', 'id:01:52:54:00:00:00:01 not imported: the reservation matches the MAC only'],
    ['the old net: tag syntax', '52:54:00:00:00:01,net:red,192.168.1.10', 'net:red not imported: kea-knot has no dnsmasq tags'],
  ])('imports %s with a note', (_what, value, note) => {
    expect(one(value)).toEqual({ reservations: [{ 'hw-address': '52:54:00:00:00:01', 'ip-address': '192.168.1.10' }], skipped: [], notes: [{ line: 1, text: `dhcp-host=${value}`, note }] });
  });

  it.each([
    ['a MAC alone', '52:54:00:00:00:01', 'no fixed address'],
    ['a five-byte address after an ARP type', '52-54:00:01:02:03,192.168.1.10',
      'dnsmasq reads 52-54:00:01:02:03 as hardware type 0x52 with the address 54:00:01:02:03, which is not Ethernet; if 52-54:00:01:02:03 is a MAC, write it with colons'],
    ['a MAC of eight bytes', '52:54:00:01:02:03:04:05,192.168.1.10', '52:54:00:01:02:03:04:05 is not an Ethernet MAC (8 bytes, not 6)'],
    ['a half-wildcard byte', '52:54:00:01:02:0*,192.168.1.10', '"52:54:00:01:02:0*" is not a hardware address (dnsmasq: bad hex constant)'],
    ['an address alone', '192.168.1.10', 'no MAC: dnsmasq gives 192.168.1.10 to the client that calls itself (no name given); Kea reservations need a MAC'],
  ])('skips %s, saying why', (_what, value, reason) => {
    expect(one(value)).toEqual({ reservations: [], skipped: [{ line: 1, text: `dhcp-host=${value}`, reason }], notes: [] });
  });

  it('reads lines as dnsmasq does: quotes, escapes, comments only after whitespace, spaces around "="', () => {
    const { lines, problems } = readDnsmasqLines([
      '  # a comment',
      'dhcp-host = "52:54:00:00:00:01" , 192.168.1.10 # trailing comment',
      'dhcp-host=52:54:00:00:00:02,192.168.1.11,pc#2',
      'dhcp-host="with \\"escaped\\" quote"',
      'bogus-priv',
      '',
    ].join('\r\n'));
    expect(problems).toEqual([]);
    expect(lines).toEqual([
      { line: 2, text: 'dhcp-host = "52:54:00:00:00:01" , 192.168.1.10 # trailing comment', option: 'dhcp-host', value: '52:54:00:00:00:01 , 192.168.1.10' },
      { line: 3, text: 'dhcp-host=52:54:00:00:00:02,192.168.1.11,pc#2', option: 'dhcp-host', value: '52:54:00:00:00:02,192.168.1.11,pc#2' },
      { line: 4, text: 'dhcp-host="with \\"escaped\\" quote"', option: 'dhcp-host', value: 'with "escaped" quote' },
      { line: 5, text: 'bogus-priv', option: undefined, value: 'bogus-priv' },
    ]);
  });
});
