import { describe, expect, it } from 'vitest';
import { catchError } from './catch-error.js';
import { normaliseHostname, normaliseIpv4, normaliseMac, toReservation } from '../../../src/reservations/reservation.js';

describe('normalising a reservation', () => {
  it.each([
    ['52:54:00:12:34:56', '52:54:00:12:34:56'],
    ['52:54:00:AB:CD:EF', '52:54:00:ab:cd:ef'],
    ['52-54-00-ab-cd-ef', '52:54:00:ab:cd:ef'],
    ['0:1b:2:c:4:d', '00:1b:02:0c:04:0d'],
    [' 52:54:00:12:34:56 ', '52:54:00:12:34:56'],
  ])('reads the MAC %s as %s', (text, mac) => {
    expect(normaliseMac(text)).toBe(mac);
  });

  it.each([
    ['mixed separators', '52:54-00:12:34:56'],
    ['five octets', '52:54:00:12:34'],
    ['seven octets', '52:54:00:12:34:56:78'],
    ['no separators', '525400123456'],
    ['a non-hex digit', '52:54:00:12:34:5g'],
    ['a three-digit octet', '52:54:00:12:34:567'],
    ['a multicast MAC', '01:00:5e:00:00:fb'],
    ['the broadcast MAC', 'ff:ff:ff:ff:ff:ff'],
  ])('refuses %s as a MAC', (_what, text) => {
    expect(normaliseMac(text)).toBeUndefined();
  });

  it('takes one DNS label as a host name, lower-cased', () => {
    expect(normaliseHostname('Printer-2')).toBe('printer-2');
    expect(normaliseHostname('a'.repeat(63))).toBe('a'.repeat(63));
    for (const bad of ['', '-printer', 'printer-', 'my_pc', 'printer.lan', 'a'.repeat(64), 'drucker-küche', 'two words']) {
      expect(normaliseHostname(bad), bad).toBeUndefined();
    }
  });

  it('takes dotted-quad IPv4 only', () => {
    expect(normaliseIpv4('192.168.1.20')).toBe('192.168.1.20');
    for (const bad of ['192.168.1.256', '192.168.001.20', '192.168.1', '0xc0.168.1.20', '2001:db8::1', '']) expect(normaliseIpv4(bad), bad).toBeUndefined();
  });

  it('normalises a valid input', () => {
    expect(toReservation({ 'hw-address': '52-54-00-AB-CD-EF', 'ip-address': '192.168.1.20', hostname: 'Printer' }))
      .toEqual({ 'hw-address': '52:54:00:ab:cd:ef', 'ip-address': '192.168.1.20', hostname: 'printer' });
    expect(toReservation({ 'hw-address': '52:54:00:ab:cd:ef', 'ip-address': '192.168.1.20' })).toEqual({ 'hw-address': '52:54:00:ab:cd:ef', 'ip-address': '192.168.1.20' });
  });

  it('refuses a bad input with E_USAGE, naming each field and its value', () => {
    const error = catchError(() => toReservation({ 'hw-address': '52:54:00:ab:cd', 'ip-address': '192.168.1.300', hostname: 'my_pc' }));
    expect(error.code).toBe('E_USAGE');
    expect(error.message).toBe('the reservation has 3 problems');
    expect(error.details).toEqual([
      'hw-address "52:54:00:ab:cd" is not a network card\'s MAC; a MAC address is six hex octets separated by ":" or "-", e.g. 52:54:00:12:34:56',
      'ip-address "192.168.1.300" is not an IPv4 address like 192.168.1.20',
      'hostname "my_pc" is not valid; a host name is one DNS label: 1-63 letters, digits and hyphens, not starting or ending with a hyphen, e.g. printer',
    ]);
    expect(catchError(() => toReservation({ 'hw-address': '52:54:00:ab:cd:ef', 'ip-address': '192.168.1.20', hostname: 'printer.lan' })).message)
      .toBe('hostname "printer.lan" is not valid; a host name is one DNS label: 1-63 letters, digits and hyphens, not starting or ending with a hyphen, e.g. printer');
  });
});
