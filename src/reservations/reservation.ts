import ipaddr from 'ipaddr.js';
import { KeaKnotError } from '../errors.js';

/**
 * One pinned IPv4 address, in Kea's own reservation shape (the keys Kea's `reservations`
 * list takes), so the generated config copies it as is. An IPv6 reservation would be a
 * type of its own (DUID, `ip-addresses`) in a list of its own, not extra optional keys here.
 */
export interface Reservation {
  /** Lower-case, colon separated, two digits an octet: 52:54:00:12:34:56. */
  readonly 'hw-address': string;
  /** Dotted-quad IPv4, no leading zeros. */
  readonly 'ip-address': string;
  /** One lower-case DNS label; the zone's domain is added by Kea (ddns-qualifying-suffix). */
  readonly hostname?: string;
}

/** What a user or a file gives: any MAC spelling, any host-name case. */
export interface ReservationInput {
  readonly 'hw-address': string;
  readonly 'ip-address': string;
  readonly hostname?: string | undefined;
}

const MAC = /^[0-9a-f]{1,2}([:-])[0-9a-f]{1,2}(\1[0-9a-f]{1,2}){4}$/i;
const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/i;

export const MAC_HINT = 'a MAC address is six hex octets separated by ":" or "-", e.g. 52:54:00:12:34:56';
export const HOSTNAME_HINT = 'a host name is one DNS label: 1-63 letters, digits and hyphens, not starting or ending with a hyphen, e.g. printer';

/**
 * 52-54-00-AB-C-1 -> 52:54:00:ab:0c:01; undefined if it is not an Ethernet MAC.
 * Single-digit octets are accepted because dhcpd writes them so; a multicast MAC (group
 * bit set) is refused because no network card has one: it is always a typo.
 */
export function normaliseMac(text: string): string | undefined {
  const trimmed = text.trim();
  if (!MAC.test(trimmed)) return undefined;
  const octets = trimmed.split(/[:-]/).map((octet) => octet.toLowerCase().padStart(2, '0'));
  if (parseInt(octets[0]!, 16) & 1) return undefined;
  return octets.join(':');
}

/** Printer -> printer; undefined if it is not one valid DNS label. */
export function normaliseHostname(text: string): string | undefined {
  return LABEL.test(text) ? text.toLowerCase() : undefined;
}

/** A dotted-quad IPv4 address (no leading zeros, no shorthand), or undefined. */
export function normaliseIpv4(text: string): string | undefined {
  const trimmed = text.trim();
  return ipaddr.IPv4.isValidFourPartDecimal(trimmed) ? ipaddr.IPv4.parse(trimmed).toString() : undefined;
}

/** Every problem of one input, each naming the field and the value; empty if it is valid. */
export function inputProblems(input: ReservationInput): string[] {
  const problems: string[] = [];
  if (normaliseMac(input['hw-address']) === undefined) problems.push(`hw-address ${JSON.stringify(input['hw-address'])} is not a network card's MAC; ${MAC_HINT}`);
  if (normaliseIpv4(input['ip-address']) === undefined) problems.push(`ip-address ${JSON.stringify(input['ip-address'])} is not an IPv4 address like 192.168.1.20`);
  if (input.hostname !== undefined && normaliseHostname(input.hostname) === undefined) problems.push(`hostname ${JSON.stringify(input.hostname)} is not valid; ${HOSTNAME_HINT}`);
  return problems;
}

/** Validates and normalises one input; E_USAGE naming every bad field otherwise. */
export function toReservation(input: ReservationInput): Reservation {
  const problems = inputProblems(input);
  if (problems.length > 0) {
    throw new KeaKnotError('E_USAGE', problems.length === 1 ? problems[0]! : `the reservation has ${problems.length} problems`, { details: problems.length === 1 ? [] : problems });
  }
  const hostname = input.hostname === undefined ? undefined : normaliseHostname(input.hostname);
  return { 'hw-address': normaliseMac(input['hw-address'])!, 'ip-address': normaliseIpv4(input['ip-address'])!, ...(hostname ? { hostname } : {}) };
}

/** Same MAC, address and name (both normalised). */
export function sameReservation(a: Reservation, b: Reservation): boolean {
  return a['hw-address'] === b['hw-address'] && a['ip-address'] === b['ip-address'] && a.hostname === b.hostname;
}

/** "52:54:00:12:34:56 192.168.1.20 (printer)": how messages name a reservation. */
export function describe(r: Reservation): string {
  return `${r['hw-address']} ${r['ip-address']}${r.hostname ? ` (${r.hostname})` : ''}`;
}
