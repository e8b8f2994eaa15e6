import ipaddr from 'ipaddr.js';
import { KeaKnotError } from '../errors.js';
import { fromInt, toInt } from '../setup/ipv4.js';
import { describe, normaliseIpv4, normaliseMac, sameReservation, type Reservation } from './reservation.js';

/** The IPv4 subnet reservations must fit, parsed once. */
export interface Subnet4 {
  readonly text: string;
  readonly network: number;
  readonly broadcast: number;
}

export function parseSubnet(text: string): Subnet4 {
  let parsed: [ipaddr.IPv4, number];
  try { parsed = ipaddr.IPv4.parseCIDR(text); } catch {
    throw new KeaKnotError('E_CONFIG', `subnet "${text}" is not an IPv4 subnet like 192.168.1.0/24`);
  }
  const size = 2 ** (32 - parsed[1]);
  const network = Math.floor(toInt(parsed[0].toString()) / size) * size;
  return { text: `${fromInt(network)}/${parsed[1]}`, network, broadcast: network + size - 1 };
}

/** An address that is taken without a reservation: a lease, the router, this server. */
export interface AddressInUse {
  readonly 'ip-address': string;
  /** Words after "<address> is ...": "leased to 52:54:00:aa:bb:cc", "the router". */
  readonly what: string;
  /** The MAC holding it, if any: that MAC may still reserve it (reserve --from-lease). */
  readonly 'hw-address'?: string;
}

export interface AddContext {
  readonly subnet: Subnet4;
  readonly inUse?: readonly AddressInUse[];
}

/**
 * Why an addition is refused. `same` is an exact copy of an existing reservation: a caller
 * re-running an import may treat it as done rather than as an error.
 */
export type ConflictKind = 'same' | 'hw-address' | 'ip-address' | 'hostname' | 'outside' | 'network' | 'broadcast' | 'in-use';

export interface Conflict {
  readonly kind: ConflictKind;
  readonly reservation: Reservation;
  readonly message: string;
}

/**
 * Every reason each addition cannot join `existing`, checking the additions against each
 * other too (in order: a later one conflicts with an earlier one). Empty if all fit.
 */
export function findConflicts(existing: readonly Reservation[], additions: readonly Reservation[], context: AddContext): Conflict[] {
  const conflicts: Conflict[] = [];
  const { subnet } = context;
  const held: Reservation[] = [...existing];
  for (const r of additions) {
    const found = (kind: ConflictKind, message: string) => conflicts.push({ kind, reservation: r, message });
    const before = conflicts.length;
    const address = toInt(r['ip-address']);
    const same = held.find((h) => sameReservation(h, r));
    if (same) {
      found('same', `${describe(r)} is already reserved exactly so; nothing to change`);
      continue;
    }
    if (address < subnet.network || address > subnet.broadcast) found('outside', `${r['ip-address']} is outside the subnet ${subnet.text}; reserve an address inside it`);
    else if (address === subnet.network) found('network', `${r['ip-address']} is the network address of ${subnet.text}, which no host can use`);
    else if (address === subnet.broadcast) found('broadcast', `${r['ip-address']} is the broadcast address of ${subnet.text}, which no host can use`);
    const byMac = held.find((h) => h['hw-address'] === r['hw-address']);
    if (byMac) found('hw-address', `${r['hw-address']} already has a reservation (${describe(byMac)}); unreserve it first to change it`);
    const byAddress = held.find((h) => h['ip-address'] === r['ip-address'] && h['hw-address'] !== r['hw-address']);
    if (byAddress) found('ip-address', `${r['ip-address']} is already reserved for ${describe(byAddress)}; pick another address`);
    const byName = r.hostname === undefined ? undefined : held.find((h) => h.hostname === r.hostname && h['hw-address'] !== r['hw-address']);
    if (byName) found('hostname', `host name ${r.hostname} is already used by ${describe(byName)}; pick another name`);
    const taken = context.inUse?.find((u) => u['ip-address'] === r['ip-address'] && u['hw-address'] !== r['hw-address']);
    if (taken) found('in-use', `${r['ip-address']} is ${taken.what}; pick another address`);
    if (conflicts.length === before) held.push(r);
  }
  return conflicts;
}

/** A reservation list in its canonical order: by address, so listings and the file read well. */
export function sortReservations(list: readonly Reservation[]): Reservation[] {
  return [...list].sort((a, b) => toInt(a['ip-address']) - toInt(b['ip-address']));
}

/** `existing` plus `additions` (a new list), or E_USAGE listing every conflict; nothing is half-added. */
export function addReservations(existing: readonly Reservation[], additions: readonly Reservation[], context: AddContext): Reservation[] {
  const conflicts = findConflicts(existing, additions, context);
  if (conflicts.length > 0) {
    const messages = conflicts.map((c) => c.message);
    throw new KeaKnotError('E_USAGE', conflicts.length === 1 ? `cannot reserve: ${messages[0]}` : `cannot reserve: ${conflicts.length} conflicts; nothing was changed`, { details: conflicts.length === 1 ? [] : messages });
  }
  return sortReservations([...existing, ...additions]);
}

export function addReservation(existing: readonly Reservation[], addition: Reservation, context: AddContext): Reservation[] {
  return addReservations(existing, [addition], context);
}

/**
 * Removes the reservation of a MAC (any spelling) or of an address. E_USAGE if the text is
 * neither, E_NOT_FOUND if nothing is reserved for it.
 */
export function removeReservation(existing: readonly Reservation[], macOrAddress: string): { reservations: Reservation[]; removed: Reservation } {
  const mac = normaliseMac(macOrAddress);
  const address = mac === undefined ? normaliseIpv4(macOrAddress) : undefined;
  if (mac === undefined && address === undefined) {
    throw new KeaKnotError('E_USAGE', `"${macOrAddress}" is neither a MAC address (52:54:00:12:34:56) nor an IPv4 address (192.168.1.20)`);
  }
  const removed = existing.find((r) => (mac !== undefined ? r['hw-address'] === mac : r['ip-address'] === address));
  if (!removed) {
    throw new KeaKnotError('E_NOT_FOUND', `no reservation for ${mac ?? address}; \`kea-knot reservations\` lists them`);
  }
  return { reservations: existing.filter((r) => r !== removed), removed };
}
