import ipaddr from 'ipaddr.js';
import { KeaKnotError } from '../errors.js';
import type { ZoneRecord } from '../knot/names.js';
import { parseSubnet } from '../reservations/operations.js';
import { toInt } from '../setup/ipv4.js';
import { keaCommand } from './control.js';

/** One lease as kea-knot shows it (CLI table, API, dashboard). */
export interface LeaseView {
  readonly address: string;
  readonly mac: string;
  /** The name Kea gave the lease (absolute, without the final dot), or null. */
  readonly hostname: string | null;
  /** Whether Knot answers the hostname's A (AAAA for IPv6) query with this address; null when Knot could not be read. */
  readonly dns: boolean | null;
  /** When the lease ends, epoch milliseconds. */
  readonly expires: number;
  readonly state: 'active' | 'declined' | 'expired';
  /** The HA peer whose half of the pool holds the address; null outside a pair, outside the split pools, and for IPv6 (no HA). */
  readonly node: string | null;
}

/** What lease4-get-all gives for one lease (the fields used here). */
export interface KeaLease4 {
  readonly 'ip-address': string;
  readonly 'hw-address'?: string;
  readonly hostname?: string;
  readonly cltt: number;
  readonly 'valid-lft': number;
  readonly state?: number;
}

/** What lease6-get-all gives for one lease: the same fields, and what it leases. */
export interface KeaLease6 extends KeaLease4 {
  /** IA_NA (an address) or IA_PD (a delegated prefix). */
  readonly type?: string;
}

/** The pools of config-get's Dhcp4, each with its HA client class if any. */
export interface PoolOwner {
  readonly start: number;
  readonly end: number;
  readonly node: string;
}

const STATES = ['active', 'declined', 'expired'] as const;
/** Kea's "nothing found" result. */
const EMPTY = 3;

/** A pool as config-get writes it: "first - last", or a prefix when the range is one (10.0.1.0/25). */
function poolRange(pool: string): { start: number; end: number } | undefined {
  const range = /^\s*([\d.]+)\s*-\s*([\d.]+)\s*$/.exec(pool);
  if (range) return { start: toInt(range[1]!), end: toInt(range[2]!) };
  if (!pool.includes('/')) return undefined;
  const { network, broadcast } = parseSubnet(pool.trim());
  return { start: network, end: broadcast };
}

/**
 * Which peer gives each address: a pair splits every pool in two halves, one per peer,
 * with client class HA_<peer> (setup/ha.ts splitPools). Empty without a pair.
 */
export function poolOwners(dhcp4: unknown): PoolOwner[] {
  const subnets = ((dhcp4 as { subnet4?: { pools?: { pool?: string; 'client-class'?: string; 'client-classes'?: string[] }[] }[] })?.subnet4) ?? [];
  return subnets.flatMap((subnet) => (subnet.pools ?? []).flatMap((p) => {
    // Kea 3.0 lists the pool's classes (client-classes); earlier ones name one (client-class).
    const node = [p['client-class'], ...(p['client-classes'] ?? [])].map((c) => /^HA_(.+)$/.exec(c ?? '')?.[1]).find(Boolean);
    const range = poolRange(p.pool ?? '');
    return node && range ? [{ ...range, node }] : [];
  }));
}

const isIpv6 = (address: string) => address.includes(':');
/** One spelling per address: Kea and Knot may write an IPv6 address differently. */
const canonical = (address: string) => (isIpv6(address) && ipaddr.IPv6.isValid(address) ? ipaddr.IPv6.parse(address).toString() : address);

/** IPv4 before IPv6, each in address order. */
function compareAddresses(a: string, b: string): number {
  if (isIpv6(a) !== isIpv6(b)) return isIpv6(a) ? 1 : -1;
  if (!isIpv6(a)) return toInt(a) - toInt(b);
  const [x, y] = [ipaddr.IPv6.parse(a).toByteArray(), ipaddr.IPv6.parse(b).toByteArray()];
  const i = x.findIndex((byte, k) => byte !== y[k]);
  return i < 0 ? 0 : x[i]! - y[i]!;
}

/**
 * Kea's leases (kea-dhcp4's and kea-dhcp6's addresses) as LeaseViews, matched against
 * Knot's records (one zone-read for them all; `records` undefined when Knot could not be
 * read) and against the pools' owners. `search` keeps the leases whose address, MAC or
 * name contains it (any case).
 */
export function describeLeases(leases: readonly KeaLease6[], owners: readonly PoolOwner[], records: readonly ZoneRecord[] | undefined, search?: string): LeaseView[] {
  const addresses = new Map<string, Set<string>>();
  for (const r of records ?? []) {
    if (r.type !== 'A' && r.type !== 'AAAA') continue;
    const set = addresses.get(r.owner) ?? new Set<string>();
    set.add(canonical(r.data));
    addresses.set(r.owner, set);
  }
  const needle = search?.trim().toLowerCase();
  return leases
    .filter((lease) => (lease.type ?? 'IA_NA') === 'IA_NA')
    .map((lease): LeaseView => {
      const address = canonical(lease['ip-address']);
      const hostname = lease.hostname ? lease.hostname.toLowerCase().replace(/\.$/, '') : null;
      const n = isIpv6(address) ? undefined : toInt(address);
      return {
        address,
        mac: lease['hw-address'] ?? '',
        hostname,
        dns: records === undefined ? null : hostname !== null && (addresses.get(`${hostname}.`)?.has(address) ?? false),
        expires: (lease.cltt + lease['valid-lft']) * 1000,
        state: STATES[lease.state ?? 0] ?? 'expired',
        node: n === undefined ? null : owners.find((o) => n >= o.start && n <= o.end)?.node ?? null,
      };
    })
    .filter((l) => !needle || [l.address, l.mac, l.hostname ?? ''].some((field) => field.includes(needle)))
    .sort((a, b) => compareAddresses(a.address, b.address));
}

/**
 * Every IPv4 lease of the kea-dhcp4 at `socket`. In a pair each node holds the leases of
 * both halves (HA keeps them in step), so one daemon answers for both pools.
 */
export async function keaLeases(socket: string): Promise<{ leases: KeaLease4[]; dhcp4: unknown }> {
  const [all, config] = await Promise.all([keaCommand(socket, 'lease4-get-all'), keaCommand(socket, 'config-get')]);
  if (all.result !== 0 && all.result !== EMPTY) {
    throw new KeaKnotError('E_IO', `kea-dhcp4 refused lease4-get-all (result ${all.result}): ${all.text ?? ''}; is libdhcp_lease_cmds.so in its hooks-libraries?`);
  }
  if (config.result !== 0) throw new KeaKnotError('E_IO', `kea-dhcp4 refused config-get (result ${config.result}): ${config.text ?? ''}`);
  return { leases: (all.arguments?.leases ?? []) as KeaLease4[], dhcp4: config.arguments?.Dhcp4 };
}

/** Every lease of the kea-dhcp6 at `socket` (no HA: the one daemon holds them all). */
export async function keaLeases6(socket: string): Promise<KeaLease6[]> {
  const all = await keaCommand(socket, 'lease6-get-all');
  if (all.result !== 0 && all.result !== EMPTY) {
    throw new KeaKnotError('E_IO', `kea-dhcp6 refused lease6-get-all (result ${all.result}): ${all.text ?? ''}; is libdhcp_lease_cmds.so in its hooks-libraries?`);
  }
  return (all.arguments?.leases ?? []) as KeaLease6[];
}

/** What `kea-knot leases`, GET /v1/leases and the dashboard's leases page show. */
export interface LeaseListing {
  readonly leases: LeaseView[];
  readonly dns: { readonly checked: boolean; readonly error?: string };
  /** Present while kea-dhcp6 runs: whether its leases could be read (they are listed then). */
  readonly dhcp6?: { readonly checked: boolean; readonly error?: string };
  /** Whether kea-dhcp4 runs in a pair (then leases name their node). */
  readonly ha: boolean;
}

/** A value, or what went wrong getting it: a part of the listing that may be missing. */
type Part<T> = { value: T } | { error: string };
const part = <T>(promise: Promise<T>): Promise<Part<T>> => promise.then((value) => ({ value }), (error: Error) => ({ error: error.message }));
const checked = (p: Part<unknown>) => ('error' in p ? { checked: false, error: p.error } : { checked: true });

/**
 * The leases of kea-dhcp4 and, when given its socket (it runs), kea-dhcp6, with whether
 * each name is in DNS. Only kea-dhcp4 must answer: Knot or kea-dhcp6 not answering leaves
 * `dns` or `dhcp6` unchecked, with the reason, instead of failing the whole listing.
 */
export async function listLeases(sockets: { dhcp4: string; dhcp6?: string }, zones: () => Promise<ZoneRecord[]>, search?: string): Promise<LeaseListing> {
  const [{ leases, dhcp4 }, leases6, dns] = await Promise.all([
    keaLeases(sockets.dhcp4),
    sockets.dhcp6 === undefined ? undefined : part(keaLeases6(sockets.dhcp6)),
    part(zones()),
  ]);
  const owners = poolOwners(dhcp4);
  const six = leases6 !== undefined && 'value' in leases6 ? leases6.value : [];
  return {
    leases: describeLeases([...leases, ...six], owners, 'value' in dns ? dns.value : undefined, search),
    dns: checked(dns),
    ...(leases6 === undefined ? {} : { dhcp6: checked(leases6) }),
    ha: owners.length > 0,
  };
}

/** The lease of one address, or undefined. */
export async function keaLease(socket: string, address: string): Promise<KeaLease4 | undefined> {
  const answer = await keaCommand(socket, 'lease4-get', { 'ip-address': address });
  if (answer.result === EMPTY) return undefined;
  if (answer.result !== 0) throw new KeaKnotError('E_IO', `kea-dhcp4 refused lease4-get of ${address} (result ${answer.result}): ${answer.text ?? ''}`);
  return answer.arguments as unknown as KeaLease4;
}
