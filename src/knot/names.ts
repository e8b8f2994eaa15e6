import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { KeaKnotError } from '../errors.js';
import { normaliseHostname, normaliseIpv4 } from '../reservations/reservation.js';
import { withoutSecrets } from '../setup/secrets.js';
import { runCommand } from '../supervisor/run-command.js';
import { knotc as knotcOn, parseZoneStatus } from './serving.js';

/** How to reach knotd: its control socket. */
export interface KnotAccess {
  readonly socket: string;
  readonly timeoutMs?: number;
}

/** One record of `knotc zone-read`; names are absolute, with the final dot. */
export interface ZoneRecord {
  readonly zone: string;
  readonly owner: string;
  readonly ttl: number;
  readonly type: string;
  readonly data: string;
}

/** A name added by hand (`kea-knot dns add`): an A record without DDNS's DHCID beside it. */
export interface StaticName {
  /** Absolute, without the final dot: printer.home.arpa. */
  readonly name: string;
  readonly address: string;
  /** The reverse name pointing back to it, if one does. */
  readonly reverse: string | null;
}

/** TTL of static names: they change only when someone changes them. */
const STATIC_TTL = 3600;

/** Parses `[home.arpa.] printer.home.arpa. 3600 A 10.0.0.5` lines. */
export function parseZoneRead(text: string): ZoneRecord[] {
  const records: ZoneRecord[] = [];
  for (const line of text.split('\n')) {
    const match = /^\[([^\]]+)\]\s+(\S+)\s+(\d+)\s+(\S+)\s+(.*)$/.exec(line.trim());
    if (match) records.push({ zone: match[1]!.toLowerCase(), owner: match[2]!.toLowerCase(), ttl: Number(match[3]), type: match[4]!, data: match[5]!.trim() });
  }
  return records;
}

function knotc(knot: KnotAccess, args: string[]): Promise<string> {
  return knotcOn(knot.socket, args, withoutSecrets(process.env), knot.timeoutMs ?? 10_000);
}

/** Every record of every zone knotd serves: one `knotc zone-read --`. */
export async function readZones(knot: KnotAccess): Promise<ZoneRecord[]> {
  return parseZoneRead(await knotc(knot, ['zone-read', '--']));
}

const isReverse = (zone: string) => /(^|\.)(in-addr|ip6)\.arpa\.$/.test(zone);

/** The PTR owner of an IPv4 address: 5.0.0.10.in-addr.arpa. */
export function reverseName(address: string): string {
  return `${address.split('.').reverse().join('.')}.in-addr.arpa.`;
}

/** The zone among `zones` that holds `name` (the longest suffix), or undefined. */
function zoneOf(name: string, zones: Iterable<string>): string | undefined {
  let best: string | undefined;
  for (const zone of zones) {
    if ((name === zone || name.endsWith(`.${zone}`)) && (best === undefined || zone.length > best.length)) best = zone;
  }
  return best;
}

/**
 * Static names: A records of the forward zones with no DHCID at the same name (DDNS writes
 * one beside every name it owns), leaving out the apex and the zone's name servers (setup's
 * glue), which are not the user's to remove.
 */
export function staticNames(records: readonly ZoneRecord[]): StaticName[] {
  const dhcid = new Set(records.filter((r) => r.type === 'DHCID').map((r) => r.owner));
  const servers = new Set(records.filter((r) => r.type === 'NS').map((r) => r.data.toLowerCase()));
  const ptrs = records.filter((r) => r.type === 'PTR');
  return records
    .filter((r) => r.type === 'A' && !isReverse(r.zone) && r.owner !== r.zone && !dhcid.has(r.owner) && !servers.has(r.owner))
    .map((r) => ({
      name: r.owner.replace(/\.$/, ''),
      address: r.data,
      reverse: ptrs.find((p) => p.owner === reverseName(r.data) && p.data.toLowerCase() === r.owner)?.owner.replace(/\.$/, '') ?? null,
    }));
}

interface Zones {
  readonly forward: string[];
  readonly reverse: string[];
  /** True on the DNS primary; a secondary's zones are transferred from it (read only here). */
  readonly primary: boolean;
}

async function zonesServed(knot: KnotAccess): Promise<Zones> {
  const zones = parseZoneStatus(await knotc(knot, ['zone-status']));
  const names = zones.map((z) => z.zone.toLowerCase());
  return { forward: names.filter((z) => !isReverse(z)), reverse: names.filter(isReverse), primary: zones.every((z) => z.role === 'master') };
}

/** "printer" or "printer.home.arpa" -> printer.home.arpa. in a forward zone; E_USAGE otherwise. */
export function absoluteName(name: string, forward: readonly string[]): string {
  const given = name.trim().toLowerCase().replace(/\.$/, '');
  const labels = given.split('.');
  if (labels.some((label) => normaliseHostname(label) === undefined)) {
    throw new KeaKnotError('E_USAGE', `"${name}" is not a DNS name: each label has 1-63 letters, digits and hyphens, not starting or ending with a hyphen, e.g. nas or nas.${(forward[0] ?? 'home.arpa.').replace(/\.$/, '')}`);
  }
  const absolute = `${given}.`;
  if (zoneOf(absolute, forward) !== undefined && !forward.includes(absolute)) return absolute;
  if (labels.length === 1 && forward.length === 1) return `${given}.${forward[0]}`;
  throw new KeaKnotError('E_USAGE', `"${name}" is not inside a zone this server serves (${forward.join(', ')}); give a single label or a name ending in one of them`);
}

/** One record to put in or take out; `absent` are the types that must not be at `owner` (DDNS's DHCID, a clashing record). */
interface Change {
  readonly zone: string;
  readonly action: 'set' | 'unset';
  readonly owner: string;
  readonly type: 'A' | 'PTR';
  readonly data?: string;
  readonly absent: readonly string[];
}

/**
 * On the primary: one knotc transaction over the zones touched (zone-begin, zone-set /
 * zone-unset, zone-commit); any failure aborts it, so knotd keeps the zones as they were.
 * Knot writes the committed change to its journal and zone file: it survives restarts.
 */
async function transaction(knot: KnotAccess, changes: readonly Change[]): Promise<void> {
  const zones = [...new Set(changes.map((c) => c.zone))];
  await knotc(knot, ['zone-begin', ...zones]);
  try {
    for (const c of changes) {
      await knotc(knot, c.action === 'set'
        ? ['zone-set', c.zone, c.owner, String(STATIC_TTL), c.type, c.data!]
        : ['zone-unset', c.zone, c.owner, c.type, ...(c.data === undefined ? [] : [c.data])]);
    }
    await knotc(knot, ['zone-commit', ...zones]);
  } catch (error) {
    await knotc(knot, ['zone-abort', ...zones]).catch(() => undefined);
    throw error;
  }
}

/** `knotc conf-read ITEM` as a map from each `name = value` line. */
async function confRead(knot: KnotAccess, item: string): Promise<Map<string, string>> {
  const lines = (await knotc(knot, ['conf-read', item])).split('\n');
  return new Map(lines.flatMap((line) => {
    const match = /^(\S+)\s*=\s*(.*)$/.exec(line.trim());
    return match ? [[match[1]!, match[2]!.trim()] as const] : [];
  }));
}

/**
 * On the secondary of a pair: a DNS UPDATE per zone to the primary, signed with the key its
 * zones take updates with (the pair's DDNS key, from this knotd's own configuration), so a
 * name given on either node lands on the primary, which sends it back here by NOTIFY and
 * IXFR (a node that was down gets it when it next checks the primary's SOA). The update's
 * prerequisites repeat the checks made on this node's copy, so a name DDNS took meanwhile
 * is still refused; each zone's update is applied whole or not at all.
 */
async function forwardedUpdate(knot: KnotAccess, changes: readonly Change[]): Promise<void> {
  const zones = [...new Set(changes.map((c) => c.zone))];
  const master = (await confRead(knot, `zone[${zones[0]}].master`)).get(`zone[${zones[0]}].master`);
  const address = master && (await confRead(knot, `remote[${master}].address`)).get(`remote[${master}].address`)?.split(/\s+/)[0];
  const updateAcl = [...(await confRead(knot, 'acl')).entries()].find(([name, value]) => /^acl\[[^\]]+\]\.action$/.test(name) && value.split(/\s+/).includes('update'))?.[0];
  const keyName = updateAcl && (await confRead(knot, updateAcl.replace(/\.action$/, '.key'))).get(updateAcl.replace(/\.action$/, '.key'));
  const secret = keyName && (await confRead(knot, `key[${keyName}].secret`)).get(`key[${keyName}].secret`);
  if (!address || !keyName || !secret) {
    throw new KeaKnotError('E_CONFIG', `this knotd is a secondary, but its configuration names no primary with an update key for ${zones[0]} (zone master, remote address, an acl with action update and its key); run kea-knot setup, or change the name on the primary`);
  }
  const [host, port = '53'] = address.split('@') as [string, string?];
  const script = [`server ${host} ${port}`, `key hmac-sha256:${keyName} ${secret}`];
  for (const zone of zones) {
    script.push(`zone ${zone}`);
    for (const c of changes.filter((x) => x.zone === zone)) {
      for (const type of c.absent) script.push(`prereq nxrrset ${c.owner} ${type}`);
      script.push(c.action === 'set' ? `update add ${c.owner} ${STATIC_TTL} ${c.type} ${c.data}` : `update delete ${c.owner} ${c.type}${c.data === undefined ? '' : ` ${c.data}`}`);
    }
    script.push('send');
  }
  // The key goes in a private file, not on a command line anyone may read in /proc.
  const dir = await mkdtemp(path.join(tmpdir(), 'kea-knot-update-'));
  try {
    const file = path.join(dir, 'update');
    await writeFile(file, `${script.join('\n')}\n`, { mode: 0o600 });
    const result = await runCommand(['knsupdate', file], { env: withoutSecrets(process.env), timeoutMs: knot.timeoutMs ?? 10_000 });
    if (result.code !== 0) {
      const rcode = /error '(\w+)'|status: (\w+)/.exec(result.output);
      const why = rcode?.[1] ?? rcode?.[2];
      throw new KeaKnotError(why === 'YXRRSET' || why === 'NXRRSET' ? 'E_CONFLICT' : 'E_IO', why === 'YXRRSET'
        ? `the primary (${host}) holds a record that this node's copy of the zone did not show yet (a DHCP client took the name meanwhile?); nothing was changed there. Look again with kea-knot dns and retry`
        : `the primary (${host}) did not take the update: ${result.output.trim().split('\n').pop() ?? `knsupdate exited ${result.code}`}`);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function applyChanges(knot: KnotAccess, zones: Zones, changes: readonly Change[]): Promise<void> {
  return zones.primary ? transaction(knot, changes) : forwardedUpdate(knot, changes);
}

function ddnsOwned(name: string): KeaKnotError {
  return new KeaKnotError('E_CONFLICT', `${name.replace(/\.$/, '')} belongs to a DHCP client (kea-dhcp-ddns wrote it, with a DHCID record); nothing was changed. Pick another name, or give that device its name with kea-knot reserve MAC ADDRESS NAME`);
}

/**
 * Adds NAME -> ADDRESS and its PTR (when the address is in a reverse zone served here) in
 * one transaction on the primary (from a secondary: a signed update sent to the primary). Refused (nothing changed) when the name belongs to DDNS,
 * holds another address or other records, or the address already points to another name.
 * The same name and address again changes nothing. A later DHCP client asking for the same
 * name gets no DNS record: Kea's conflict resolution finds no DHCID of its own there.
 */
export async function addStaticName(knot: KnotAccess, name: string, addressText: string): Promise<{ changed: boolean; name: StaticName }> {
  const address = normaliseIpv4(addressText);
  if (address === undefined) throw new KeaKnotError('E_USAGE', `"${addressText}" is not an IPv4 address like 192.168.1.20`);
  const zones = await zonesServed(knot);
  const owner = absoluteName(name, zones.forward);
  const forwardZone = zoneOf(owner, zones.forward)!;
  const ptrOwner = reverseName(address);
  const reverseZone = zoneOf(ptrOwner, zones.reverse);
  const records = await readZones(knot);
  const at = records.filter((r) => r.owner === owner);
  const shown = owner.replace(/\.$/, '');
  if (at.some((r) => r.type === 'DHCID')) throw ddnsOwned(owner);
  const others = at.filter((r) => r.type !== 'A');
  if (others.length > 0) throw new KeaKnotError('E_CONFLICT', `${shown} already has ${others.map((r) => `${r.type} ${r.data}`).join(', ')}; nothing was changed. Pick another name`);
  const held = at.filter((r) => r.type === 'A').map((r) => r.data);
  if (held.length > 0 && !held.includes(address)) throw new KeaKnotError('E_CONFLICT', `${shown} is already ${held.join(', ')}; nothing was changed. Remove it first (kea-knot dns remove ${shown})`);
  const ptr = records.filter((r) => r.owner === ptrOwner && r.type === 'PTR');
  const otherPtr = ptr.find((r) => r.data.toLowerCase() !== owner);
  if (otherPtr) throw new KeaKnotError('E_CONFLICT', `${address} already points back to ${otherPtr.data.replace(/\.$/, '')} (its PTR); nothing was changed. Remove that name first, or pick another address`);
  const reverse = reverseZone === undefined ? null : ptrOwner.replace(/\.$/, '');
  const result = { name: shown, address, reverse };
  const needA = held.length === 0;
  const needPtr = reverseZone !== undefined && ptr.length === 0;
  if (!needA && !needPtr) return { changed: false, name: result };
  await applyChanges(knot, zones, [
    ...(needA ? [{ zone: forwardZone, action: 'set', owner, type: 'A', data: address, absent: ['DHCID', 'A', 'CNAME'] } as const] : []),
    ...(needPtr ? [{ zone: reverseZone!, action: 'set', owner: ptrOwner, type: 'PTR', data: owner, absent: ['PTR'] } as const] : []),
  ]);
  return { changed: true, name: result };
}

/** Removes a static name and the PTRs pointing to it; a DDNS-owned name is refused, an unknown one is E_NOT_FOUND. */
export async function removeStaticName(knot: KnotAccess, name: string): Promise<StaticName[]> {
  const zones = await zonesServed(knot);
  const owner = absoluteName(name, zones.forward);
  const records = await readZones(knot);
  if (records.some((r) => r.owner === owner && r.type === 'DHCID')) throw ddnsOwned(owner);
  const removed = staticNames(records).filter((s) => `${s.name}.` === owner);
  if (removed.length === 0) throw new KeaKnotError('E_NOT_FOUND', `${owner.replace(/\.$/, '')} is not a static name; kea-knot dns lists them`);
  const ptrs = records.filter((r) => r.type === 'PTR' && r.data.toLowerCase() === owner && isReverse(r.zone));
  await applyChanges(knot, zones, [
    { zone: zoneOf(owner, zones.forward)!, action: 'unset', owner, type: 'A', absent: ['DHCID'] },
    ...ptrs.map((r) => ({ zone: r.zone, action: 'unset', owner: r.owner, type: 'PTR', data: r.data, absent: [] } as const)),
  ]);
  return removed;
}
