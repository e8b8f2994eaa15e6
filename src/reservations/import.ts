import { HOSTNAME_HINT, normaliseHostname, type Reservation } from './reservation.js';

/** Something in the source that did not become a reservation, and why. */
export interface Skipped {
  /** 1-based line of the entry in the source file. */
  readonly line: number;
  /** The entry as written (trimmed). */
  readonly text: string;
  readonly reason: string;
}

/** A reservation imported with something of its source dropped or changed. */
export interface Note {
  readonly line: number;
  readonly text: string;
  readonly note: string;
}

export interface ImportResult {
  /** In source order; not yet checked against a subnet or the reservations already held. */
  readonly reservations: Reservation[];
  /** In line order. */
  readonly skipped: Skipped[];
  /** In line order. */
  readonly notes: Note[];
}

/** One converted entry, before the entries are checked against each other. */
export interface Candidate {
  readonly line: number;
  readonly text: string;
  readonly reservation: Reservation;
  readonly notes: readonly string[];
}

/**
 * A source's host name as a reservation's: printer.lan -> printer (the domain is
 * kea-knot's own), with a note when a domain was dropped; `reason` if it is no DNS label.
 */
export function importHostname(raw: string): { hostname: string; note?: string } | { reason: string } {
  const [label, ...domain] = raw.replace(/\.$/, '').split('.');
  const hostname = normaliseHostname(label ?? '');
  if (hostname === undefined) return { reason: `host name "${raw}" is not valid: ${HOSTNAME_HINT}; rename it in the source and import again` };
  return domain.length > 0 ? { hostname, note: `host name ${raw} imported as ${hostname}: the domain comes from kea-knot's --domain` } : { hostname };
}

/**
 * Checks the candidates against each other. Entries that share a MAC, an address or a
 * host name are all left out and each is listed with the lines it clashes with: which one
 * is right is the user's call, not the importer's. An exact repeat of an earlier entry is
 * imported once, the repeat listed.
 */
export function finishImport(candidates: readonly Candidate[], skipped: readonly Skipped[]): ImportResult {
  const out: Skipped[] = [...skipped];
  const kept: Candidate[] = [];
  for (const c of candidates) {
    const earlier = kept.find((k) => sameReservation(k.reservation, c.reservation));
    if (earlier) out.push({ line: c.line, text: c.text, reason: `repeats line ${earlier.line}; imported once` });
    else kept.push(c);
  }
  const clash = new Map<Candidate, string[]>();
  const keys = [['hw-address', 'MAC'], ['ip-address', 'address'], ['hostname', 'host name']] as const;
  for (const [key, words] of keys) {
    const byValue = new Map<string, Candidate[]>();
    for (const c of kept) {
      const value = c.reservation[key];
      if (value !== undefined) byValue.set(value, [...(byValue.get(value) ?? []), c]);
    }
    for (const [value, group] of byValue) {
      if (group.length < 2) continue;
      for (const c of group) {
        const others = group.filter((o) => o !== c).map((o) => o.line);
        clash.set(c, [...(clash.get(c) ?? []), `${words} ${value} is also on line${others.length > 1 ? 's' : ''} ${others.join(', ')}`]);
      }
    }
  }
  const notes: Note[] = [];
  const reservations: Reservation[] = [];
  for (const c of kept) {
    const reasons = clash.get(c);
    if (reasons) out.push({ line: c.line, text: c.text, reason: `${reasons.join('; ')}: not imported; keep one of them in the source and import again` });
    else {
      reservations.push(c.reservation);
      for (const note of c.notes) notes.push({ line: c.line, text: c.text, note });
    }
  }
  return { reservations, skipped: out.sort((a, b) => a.line - b.line), notes: notes.sort((a, b) => a.line - b.line) };
}

function sameReservation(a: Reservation, b: Reservation): boolean {
  return a['hw-address'] === b['hw-address'] && a['ip-address'] === b['ip-address'] && a.hostname === b.hostname;
}

/** The formats `kea-knot import` reads. */
export const IMPORT_FORMATS = ['dnsmasq', 'pihole', 'dhcpd'] as const;
export type ImportFormat = (typeof IMPORT_FORMATS)[number];
