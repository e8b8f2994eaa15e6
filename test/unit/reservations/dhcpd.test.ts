import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { importDhcpd } from '../../../src/reservations/dhcpd.js';
import { catchError } from './catch-error.js';

const fixture = (name: string) => readFileSync(new URL(`../../fixtures/import/${name}`, import.meta.url), 'utf8');

describe('importing ISC dhcpd host declarations', () => {
  it('converts the hosts of an office dhcpd.conf wherever they are declared', () => {
    expect(importDhcpd(fixture('dhcpd.conf'), 'dhcpd.conf')).toEqual({
      reservations: [
        { 'hw-address': '00:1b:a9:12:34:56', 'ip-address': '192.168.10.20', hostname: 'printer' },
        { 'hw-address': '00:11:32:0a:0b:0c', 'ip-address': '192.168.10.21', hostname: 'nas' },
        { 'hw-address': '3c:22:fb:01:02:03', 'ip-address': '192.168.10.22', hostname: 'boss-laptop' },
        { 'hw-address': '00:50:56:aa:bb:01', 'ip-address': '192.168.10.30', hostname: 'lab-scope' },
        { 'hw-address': '00:50:56:aa:bb:02', 'ip-address': '192.168.10.31' },
        { 'hw-address': '00:50:56:aa:bb:05', 'ip-address': '10.0.0.5', hostname: 'kiosk' },
      ],
      skipped: [
        { line: 36, text: 'host ups {',
          reason: 'fixed-address ups.office.example is a DNS name, which dhcpd looks up when it starts; reserve the address it resolves to with kea-knot reserve MAC ADDRESS' },
        { line: 40, text: 'host multihomed {',
          reason: 'several fixed addresses (192.168.10.33, 10.0.0.33): dhcpd gives the one of the network the host asks on; reserve the one of this subnet with kea-knot reserve' },
        { line: 56, text: 'host dynamic-only { hardware ethernet 00:50:56:aa:bb:06; }',
          reason: 'no fixed address: dhcpd gives this host an address from a pool' },
        { line: 57, text: 'host v6-only { hardware ethernet 00:50:56:aa:bb:07; fixed-address6 2001:db8::7; }',
          reason: 'IPv6 only (fixed-address6 2001:db8::7); kea-knot reserves IPv4 addresses for now' },
        { line: 58, text: 'host tokenring { hardware token-ring 00:50:56:aa:bb:08; fixed-address 192.168.10.40; }',
          reason: 'hardware token-ring 00:50:56:aa:bb:08 is not Ethernet; Kea reservations here are by Ethernet MAC' },
        { line: 59, text: 'host by-uid { option dhcp-client-identifier "kiosk-2"; fixed-address 192.168.10.41; }',
          reason: 'matched by client identifier, not by MAC; reserve it by the device\'s MAC with kea-knot reserve' },
        { line: 60, text: 'host gone { dynamic; hardware ethernet 00:50:56:aa:bb:09; fixed-address 192.168.10.42; deleted; }',
          reason: 'marked "deleted" (a host entry removed through OMAPI)' },
        { line: 61, text: 'host bad-name { hardware ethernet 00:50:56:aa:bb:0a; fixed-address 192.168.10.43; option host-name "bad_name"; }',
          reason: 'host name "bad_name" is not valid: a host name is one DNS label: 1-63 letters, digits and hyphens, not starting or ending with a hyphen, e.g. printer; rename it in the source and import again' },
      ],
      notes: [
        { line: 19, text: 'host nas { hardware ethernet 00:11:32:0a:0b:0c; fixed-address 192.168.10.21; }',
          note: 'host name nas taken from the host declaration (dhcpd had no option host-name for it)' },
        { line: 20, text: 'host "boss-laptop" {',
          note: 'ddns-hostname "boss" not imported: the reservation takes option host-name "Boss-Laptop.office.example" for both DHCP and DNS' },
        { line: 20, text: 'host "boss-laptop" {',
          note: 'host name Boss-Laptop.office.example imported as boss-laptop: the domain comes from kea-knot\'s --domain' },
        { line: 31, text: 'host lab-scope { hardware ethernet 00:50:56:aa:bb:01; fixed-address 192.168.10.30; }',
          note: 'host name lab-scope taken from the host declaration (dhcpd had no option host-name for it)' },
        { line: 32, text: 'host lab_switch {',
          note: 'imported without a host name: the declaration\'s name "lab_switch" is not a DNS label' },
      ],
    });
  });

  it('reports hosts that share a MAC or an address instead of choosing one', () => {
    const result = importDhcpd([
      'host a { hardware ethernet 52:54:00:00:00:01; fixed-address 192.168.1.10; }',
      'subnet 192.168.1.0 netmask 255.255.255.0 {',
      '  host b { hardware ethernet 52:54:00:00:00:01; fixed-address 192.168.1.11; }',
      '  host c { hardware ethernet 52:54:00:00:00:03; fixed-address 192.168.1.11; }',
      '}',
    ].join('\n'), 'dhcpd.conf');
    expect(result.reservations).toEqual([]);
    expect(result.skipped.map((s) => [s.line, s.reason])).toEqual([
      [1, 'MAC 52:54:00:00:00:01 is also on line 3: not imported; keep one of them in the source and import again'],
      [3, 'MAC 52:54:00:00:00:01 is also on line 1; address 192.168.1.11 is also on line 4: not imported; keep one of them in the source and import again'],
      [4, 'address 192.168.1.11 is also on line 3: not imported; keep one of them in the source and import again'],
    ]);
  });

  it('gives the declaration name without a note under use-host-decl-names, and turns it off again in an inner scope', () => {
    const result = importDhcpd([
      'use-host-decl-names on;',
      'host one { hardware ethernet 52:54:00:00:00:01; fixed-address 192.168.1.10; }',
      'group { use-host-decl-names off;',
      '  host two { hardware ethernet 52:54:00:00:00:02; fixed-address 192.168.1.11; } }',
    ].join('\n'), 'dhcpd.conf');
    expect(result.reservations.map((r) => r.hostname)).toEqual(['one', 'two']);
    expect(result.notes).toEqual([{ line: 4, text: 'host two { hardware ethernet 52:54:00:00:00:02; fixed-address 192.168.1.11; } }', note: 'host name two taken from the host declaration (dhcpd had no option host-name for it)' }]);
  });

  it.each([
    ['an unclosed brace', 'subnet 10.0.0.0 netmask 255.0.0.0 {\n  host a {\n    hardware ethernet 52:54:00:00:00:01;\n}\n', 'dhcpd.conf:1: the "{" here is never closed; add the missing "}"'],
    ['a stray brace', 'host a { fixed-address 10.0.0.1; }\n}\n', 'dhcpd.conf:2: this "}" closes no "{"; remove it or add the missing "{"'],
    ['an unclosed string', 'option domain-name "lan;\nhost a { }\n', 'dhcpd.conf:1: a string is not closed; dhcpd would refuse this file too: add the closing quote'],
  ])('refuses a file with %s, naming the line', (_what, text, message) => {
    const error = catchError(() => importDhcpd(text, 'dhcpd.conf'));
    expect(error.code).toBe('E_CONFIG');
    expect(error.message).toBe(message);
  });
});
