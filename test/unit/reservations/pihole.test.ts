import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { importPihole } from '../../../src/reservations/pihole.js';
import { catchError } from './catch-error.js';

const fixture = (name: string) => readFileSync(new URL(`../../fixtures/import/${name}`, import.meta.url), 'utf8');

describe("importing Pi-hole's static leases", () => {
  it('converts v5 04-pihole-static-dhcp.conf, whose name-only entries have no address', () => {
    expect(importPihole(fixture('04-pihole-static-dhcp.conf'), '04-pihole-static-dhcp.conf')).toEqual({
      reservations: [
        { 'hw-address': '00:11:32:aa:bb:01', 'ip-address': '192.168.0.10', hostname: 'synology' },
        { 'hw-address': 'b8:27:eb:12:34:56', 'ip-address': '192.168.0.2', hostname: 'pihole' },
        { 'hw-address': 'dc:a6:32:00:00:01', 'ip-address': '192.168.0.11' },
      ],
      skipped: [{
        line: 4, text: 'dhcp-host=dc:a6:32:00:00:02,raspberry',
        reason: 'no fixed address: dnsmasq gives raspberry its address from /etc/hosts if it has one there; reserve that with kea-knot reserve MAC ADDRESS raspberry',
      }],
      notes: [],
    });
  });

  it('converts dhcp.hosts of a v6 pihole.toml, not the DNS hosts of [dns]', () => {
    expect(importPihole(fixture('pihole.toml'), 'pihole.toml')).toEqual({
      reservations: [
        { 'hw-address': '00:11:32:aa:bb:01', 'ip-address': '192.168.0.10', hostname: 'synology' },
        { 'hw-address': 'b8:27:eb:12:34:56', 'ip-address': '192.168.0.2', hostname: 'pihole' },
        { 'hw-address': 'dc:a6:32:00:00:01', 'ip-address': '192.168.0.11' },
        { 'hw-address': 'dc:a6:32:00:00:03', 'ip-address': '192.168.0.12', hostname: 'media-box' },
      ],
      skipped: [
        { line: 55, text: 'dc:a6:32:00:00:02,raspberry',
          reason: 'no fixed address: dnsmasq gives raspberry its address from /etc/hosts if it has one there; reserve that with kea-knot reserve MAC ADDRESS raspberry' },
      ],
      notes: [],
    });
  });

  it('reads a top-level dotted dhcp.hosts key and an empty or absent list', () => {
    expect(importPihole('dhcp.hosts = ["52:54:00:00:00:01,10.0.0.5,tv"]\n', 'pihole.toml').reservations).toEqual([{ 'hw-address': '52:54:00:00:00:01', 'ip-address': '10.0.0.5', hostname: 'tv' }]);
    expect(importPihole('[dhcp]\n  hosts = [ ]\n', 'pihole.toml')).toEqual({ reservations: [], skipped: [], notes: [] });
    expect(importPihole('[dhcp]\n  active = false\n', 'pihole.toml')).toEqual({ reservations: [], skipped: [], notes: [] });
  });

  it('lists an element that is not a string', () => {
    expect(importPihole('[dhcp]\nhosts = [\n  "52:54:00:00:00:01,10.0.0.5",\n  42\n]\n', 'pihole.toml').skipped)
      .toEqual([{ line: 4, text: '42', reason: 'not a string; Pi-hole writes each static lease as "MAC,IP,NAME"' }]);
  });

  it.each([
    ['an unclosed string', '[dhcp]\nhosts = [\n  "52:54:00:00:00:01,10.0.0.5\n]\n', 'pihole.toml:3: a string is not closed'],
    ['a missing comma', '[dhcp]\nhosts = [\n  "a"\n  "b"\n]\n', 'pihole.toml:4: expected "," or "]" in an array'],
    ['hosts that is not a list', '[dhcp]\nhosts = "52:54:00:00:00:01,10.0.0.5"\n', 'pihole.toml:2: dhcp.hosts is not an array'],
    ['an unclosed table header', '[dhcp]\nhosts = []\n[webserver\n', 'pihole.toml:3: a table header is not closed with "]"'],
  ])('refuses a pihole.toml with %s, naming the line', (_what, text, message) => {
    const error = catchError(() => importPihole(text, 'pihole.toml'));
    expect(error.code).toBe('E_CONFIG');
    expect(error.message).toBe(`${message}; this is not TOML that Pi-hole wrote: fix the line or import the v5 04-pihole-static-dhcp.conf instead`);
  });
});
