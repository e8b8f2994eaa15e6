import { describe, expect, it } from 'vitest';
import { addReservation, addReservations, findConflicts, parseSubnet, removeReservation } from '../../../src/reservations/operations.js';
import type { Reservation } from '../../../src/reservations/reservation.js';
import { catchError } from './catch-error.js';

const subnet = parseSubnet('192.168.1.0/24');
const nas: Reservation = { 'hw-address': '52:54:00:00:00:01', 'ip-address': '192.168.1.10', hostname: 'nas' };
const printer: Reservation = { 'hw-address': '52:54:00:00:00:02', 'ip-address': '192.168.1.20', hostname: 'printer' };
const held: readonly Reservation[] = Object.freeze([printer, nas]);

describe('adding reservations', () => {
  it('returns a new list sorted by address and leaves the old one alone', () => {
    const tv: Reservation = { 'hw-address': '52:54:00:00:00:03', 'ip-address': '192.168.1.9' };
    const next = addReservation(held, tv, { subnet });
    expect(next).toEqual([tv, nas, printer]);
    expect(held).toEqual([printer, nas]);
  });

  it.each([
    ['a MAC that already has one', { 'hw-address': nas['hw-address'], 'ip-address': '192.168.1.11' }, 'hw-address',
      '52:54:00:00:00:01 already has a reservation (52:54:00:00:00:01 192.168.1.10 (nas)); unreserve it first to change it'],
    ['an address reserved for another MAC', { 'hw-address': '52:54:00:00:00:09', 'ip-address': '192.168.1.10' }, 'ip-address',
      '192.168.1.10 is already reserved for 52:54:00:00:00:01 192.168.1.10 (nas); pick another address'],
    ['a host name another reservation uses', { 'hw-address': '52:54:00:00:00:09', 'ip-address': '192.168.1.30', hostname: 'printer' }, 'hostname',
      'host name printer is already used by 52:54:00:00:00:02 192.168.1.20 (printer); pick another name'],
    ['an address outside the subnet', { 'hw-address': '52:54:00:00:00:09', 'ip-address': '192.168.2.10' }, 'outside',
      '192.168.2.10 is outside the subnet 192.168.1.0/24; reserve an address inside it'],
    ['the network address', { 'hw-address': '52:54:00:00:00:09', 'ip-address': '192.168.1.0' }, 'network',
      '192.168.1.0 is the network address of 192.168.1.0/24, which no host can use'],
    ['the broadcast address', { 'hw-address': '52:54:00:00:00:09', 'ip-address': '192.168.1.255' }, 'broadcast',
      '192.168.1.255 is the broadcast address of 192.168.1.0/24, which no host can use'],
    ['an exact copy', nas, 'same', '52:54:00:00:00:01 192.168.1.10 (nas) is already reserved exactly so; nothing to change'],
  ] as const)('refuses %s with E_USAGE and the reason', (_what, addition, kind, message) => {
    expect(findConflicts(held, [addition], { subnet })).toEqual([{ kind, reservation: addition, message }]);
    const error = catchError(() => addReservation(held, addition, { subnet }));
    expect(error.code).toBe('E_USAGE');
    expect(error.message).toBe(`cannot reserve: ${message}`);
    expect(held).toEqual([printer, nas]);
  });

  it('refuses an address in use without a reservation, except by the MAC that holds it', () => {
    const inUse = [{ 'ip-address': '192.168.1.150', what: 'leased to 52:54:00:00:00:07', 'hw-address': '52:54:00:00:00:07' }, { 'ip-address': '192.168.1.1', what: 'the router' }];
    const other: Reservation = { 'hw-address': '52:54:00:00:00:08', 'ip-address': '192.168.1.150' };
    expect(catchError(() => addReservation(held, other, { subnet, inUse })).message).toBe('cannot reserve: 192.168.1.150 is leased to 52:54:00:00:00:07; pick another address');
    expect(catchError(() => addReservation(held, { 'hw-address': '52:54:00:00:00:08', 'ip-address': '192.168.1.1' }, { subnet, inUse })).message).toBe('cannot reserve: 192.168.1.1 is the router; pick another address');
    const fromLease: Reservation = { 'hw-address': '52:54:00:00:00:07', 'ip-address': '192.168.1.150' };
    expect(addReservation(held, fromLease, { subnet, inUse })).toEqual([nas, printer, fromLease]);
  });

  it('lists every conflict of every addition, checking the additions against each other, and adds none', () => {
    const additions: Reservation[] = [
      { 'hw-address': '52:54:00:00:00:05', 'ip-address': '192.168.1.50', hostname: 'cam' },
      { 'hw-address': '52:54:00:00:00:06', 'ip-address': '192.168.1.50', hostname: 'cam' },
      { 'hw-address': '52:54:00:00:00:01', 'ip-address': '10.0.0.1', hostname: 'nas' },
    ];
    const error = catchError(() => addReservations(held, additions, { subnet }));
    expect(error.message).toBe('cannot reserve: 4 conflicts; nothing was changed');
    expect(error.details).toEqual([
      '192.168.1.50 is already reserved for 52:54:00:00:00:05 192.168.1.50 (cam); pick another address',
      'host name cam is already used by 52:54:00:00:00:05 192.168.1.50 (cam); pick another name',
      '10.0.0.1 is outside the subnet 192.168.1.0/24; reserve an address inside it',
      // nas keeping its own name is part of this MAC conflict, not a name clash of its own.
      '52:54:00:00:00:01 already has a reservation (52:54:00:00:00:01 192.168.1.10 (nas)); unreserve it first to change it',
    ]);
  });

  it('parses the subnet once, refusing what is not an IPv4 subnet', () => {
    expect(parseSubnet('10.1.0.0/16')).toEqual({ text: '10.1.0.0/16', network: 0x0a010000, broadcast: 0x0a01ffff });
    const error = catchError(() => parseSubnet('2001:db8::/64'));
    expect(error.code).toBe('E_CONFIG');
    expect(error.message).toBe('subnet "2001:db8::/64" is not an IPv4 subnet like 192.168.1.0/24');
  });
});

describe('removing a reservation', () => {
  it('removes by MAC in any spelling, or by address, returning a new list', () => {
    expect(removeReservation(held, '52-54-00-00-00-01')).toEqual({ reservations: [printer], removed: nas });
    expect(removeReservation(held, '192.168.1.20')).toEqual({ reservations: [nas], removed: printer });
    expect(held).toEqual([printer, nas]);
  });

  it('refuses an unknown MAC or address with E_NOT_FOUND, and text that is neither with E_USAGE', () => {
    const unknown = catchError(() => removeReservation(held, '52:54:00:00:00:99'));
    expect(unknown.code).toBe('E_NOT_FOUND');
    expect(unknown.message).toBe('no reservation for 52:54:00:00:00:99; `kea-knot reservations` lists them');
    expect(catchError(() => removeReservation(held, '192.168.1.99')).message).toBe('no reservation for 192.168.1.99; `kea-knot reservations` lists them');
    const neither = catchError(() => removeReservation(held, 'printer'));
    expect(neither.code).toBe('E_USAGE');
    expect(neither.message).toBe('"printer" is neither a MAC address (52:54:00:12:34:56) nor an IPv4 address (192.168.1.20)');
  });
});
