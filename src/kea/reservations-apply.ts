import { readFileSync } from 'node:fs';
import { readFile, stat, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { KeaKnotError } from '../errors.js';
import { writeFileAtomic } from '../reservations/atomic-write.js';
import { importDhcpd } from '../reservations/dhcpd.js';
import { importDnsmasq } from '../reservations/dnsmasq.js';
import { parseReservationsFile, serializeReservations } from '../reservations/file.js';
import type { ImportResult, Note, Skipped } from '../reservations/import.js';
import { findConflicts, parseSubnet, removeReservation, sortReservations, type AddressInUse, type Conflict } from '../reservations/operations.js';
import { importPihole } from '../reservations/pihole.js';
import { describe, normaliseHostname, normaliseIpv4, sameReservation, toReservation, type Reservation, type ReservationInput } from '../reservations/reservation.js';
import { keaLease, keaLeases, type KeaLease4 } from './leases.js';

/** The three files: kea-dhcp4.conf, kea-knot's store, and the Kea list the conf includes. */
export interface ReservationFiles {
  readonly conf: string;
  readonly store: string;
  readonly include: string;
}

/** The running kea-dhcp4: its control socket, and the supervisor's reload of it (check, config-reload, serving, restore). */
export interface ReservationContext {
  readonly files: ReservationFiles;
  readonly socket: string;
  readonly reload: () => Promise<unknown>;
}

import type { ImportFormat } from '../reservations/import.js';
export { IMPORT_FORMATS, type ImportFormat } from '../reservations/import.js';

export interface ImportOutcome {
  readonly dryRun: boolean;
  /** True when the reservations were written and Kea took them. */
  readonly changed: boolean;
  /** New reservations (added, or that would be with dryRun). */
  readonly added: Reservation[];
  /** Entries reserved exactly so already (re-running an import). */
  readonly already: Reservation[];
  readonly skipped: Skipped[];
  readonly notes: Note[];
}

const INCLUDE = /"reservations"\s*:\s*<\?include\s+"([^"]+)"\s*\?>/;
const CONTEXT_INCLUDE = /"user-context"\s*:\s*<\?include\s+"([^"]+)"\s*\?>/;
const ANY_INCLUDE = /<\?include\s+"[^"]+"\s*\?>/g;
const MARKER = '__kea_knot_reservations_include__';
const CONTEXT_MARKER = '__kea_knot_context_include__';
const KEPT_MARKER = '__kea_knot_kept_include__';

/**
 * Which change the reservations are at: epoch ms of the last change and the node that made
 * it (ties between the two nodes of a pair go to the greater name). Kept in the Kea file
 * kea-dhcp4.conf includes as subnet4[0].user-context, so the partner reads it with config-get.
 */
export interface ReservationRevision {
  readonly revision: number;
  readonly node: string;
}

/** Never changed (or written by a kea-knot before revisions): older than any change. */
export const NO_REVISION: ReservationRevision = { revision: 0, node: '' };
const CONTEXT_KEY = 'kea-knot-reservations';

/** Negative when `a` is older than `b`, 0 when the same, positive when newer. */
export function compareRevisions(a: ReservationRevision, b: ReservationRevision): number {
  return a.revision - b.revision || (a.node < b.node ? -1 : a.node > b.node ? 1 : 0);
}

/** The revision in a subnet's user-context (a config-get answer or the file); NO_REVISION when it holds none. */
export function revisionOf(userContext: unknown): ReservationRevision {
  const held = (userContext as Record<string, { revision?: unknown; node?: unknown } | undefined> | null | undefined)?.[CONTEXT_KEY];
  if (typeof held?.revision !== 'number' || !Number.isSafeInteger(held.revision) || held.revision < 0) return NO_REVISION;
  return { revision: held.revision, node: typeof held.node === 'string' ? held.node : '' };
}

/** The Kea file of the revision, beside the included list: reservations4.json -> reservations4-context.json. */
export function contextFile(files: Pick<ReservationFiles, 'include'>): string {
  return files.include.replace(/(\.json)?$/, '-context.json');
}

/** subnet4[0].user-context as setup writes it inline (none before a first change): the revision the node is at, so a re-run of setup keeps it visible to the partner. */
export function setupUserContext(include: string): { 'user-context'?: object } {
  let text: string;
  try { text = readFileSync(contextFile({ include }), 'utf8'); } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new KeaKnotError('E_IO', `cannot read ${contextFile({ include })}: ${(error as Error).message}`, { cause: error });
  }
  const revision = revisionOf(parseContext(text, contextFile({ include })));
  return revision === NO_REVISION ? {} : { 'user-context': contextObject(revision) };
}

function parseContext(text: string, file: string): unknown {
  try { return JSON.parse(text) as unknown; } catch (error) {
    throw new KeaKnotError('E_CONFIG', `${file} is not valid JSON (${(error as Error).message}); remove it (the reservations then count as never changed) and retry`);
  }
}

const contextObject = (revision: ReservationRevision) => ({ [CONTEXT_KEY]: { revision: revision.revision, node: revision.node } });

/**
 * Kea's `<?include?>` of `include` as subnet4[0].reservations of kea-dhcp4.conf (and, with
 * `context`, of that file as its user-context); the reservations and user-context it held
 * inline. Includes already there are kept as they are.
 */
export function includeReservations(confText: string, conf: string, include: string, context?: string): { text: string; inline: unknown[]; userContext: unknown; subnet: string } {
  type Subnet = { subnet: string; reservations?: unknown[] | string; 'user-context'?: unknown };
  let config: { Dhcp4?: { subnet4?: Subnet[] } };
  const kept: string[] = [];
  const json = confText.replace(ANY_INCLUDE, (directive) => JSON.stringify(`${KEPT_MARKER}${kept.push(directive) - 1}`));
  try { config = JSON.parse(json) as typeof config; } catch (error) {
    throw new KeaKnotError('E_CONFIG', `${conf} is not plain JSON (${(error as Error).message}), so kea-knot cannot point its reservations at ${include}; replace subnet4[0].reservations with <?include "${include}"?> by hand, or run kea-knot setup again`);
  }
  const subnet = config.Dhcp4?.subnet4?.[0];
  if (subnet === undefined) throw new KeaKnotError('E_CONFIG', `${conf} has no Dhcp4.subnet4[0] to hold reservations; run kea-knot setup`);
  const inline = Array.isArray(subnet.reservations) ? subnet.reservations : [];
  const userContext = typeof subnet['user-context'] === 'string' ? undefined : subnet['user-context'];
  subnet.reservations = MARKER;
  if (context !== undefined) subnet['user-context'] = CONTEXT_MARKER;
  const text = JSON.stringify(config, null, 2)
    .replace(JSON.stringify(MARKER), `<?include "${include}"?>`)
    .replace(JSON.stringify(CONTEXT_MARKER), `<?include "${context}"?>`)
    .replace(new RegExp(`"${KEPT_MARKER}(\\d+)"`, 'g'), (_, i: string) => kept[Number(i)]!);
  return { text: `${text}\n`, inline, userContext, subnet: subnet.subnet };
}

interface State {
  readonly conf: string;
  readonly confMode: number;
  /** kea-dhcp4.conf made to include the list, when it still held its reservations inline. */
  readonly newConf: string | undefined;
  readonly store: string | undefined;
  readonly include: string | undefined;
  /** The revision file's text as it was (put back if a change fails). */
  readonly context: string | undefined;
  readonly revision: ReservationRevision;
  /** This node's name in the pair (this-server-name), else the host name: who makes a change. */
  readonly node: string;
  readonly reservations: Reservation[];
}

const readOptional = (file: string) => readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
  if (error.code === 'ENOENT') return undefined;
  throw new KeaKnotError('E_IO', `cannot read ${file}: ${error.message}`, { cause: error });
});

/**
 * The reservations now: the store, plus those kea-dhcp4.conf still holds inline (setup's
 * --reservations, before the first change moves them into the store). An inline one that
 * clashes with the store is E_CONFIG: which is right is the user's call.
 */
async function readState(files: ReservationFiles): Promise<State> {
  const conf = await readOptional(files.conf);
  if (conf === undefined) throw new KeaKnotError('E_CONFIG', `${files.conf} does not exist; run kea-knot setup first`);
  const confMode = (await stat(files.conf)).mode & 0o7777;
  const [storeText, include, context] = await Promise.all([readOptional(files.store), readOptional(files.include), readOptional(contextFile(files))]);
  const stored = storeText === undefined ? [] : parseReservationsFile(storeText, files.store);
  const node = /"this-server-name"\s*:\s*"([^"]+)"/.exec(conf)?.[1] ?? hostname();
  const fileRevision = context === undefined ? undefined : revisionOf(parseContext(context, contextFile(files)));
  const included = INCLUDE.exec(conf)?.[1];
  const contextIncluded = CONTEXT_INCLUDE.exec(conf)?.[1];
  if (included !== undefined) {
    if (included !== files.include) throw new KeaKnotError('E_CONFIG', `${files.conf} includes its reservations from ${included}, not ${files.include}; point it at ${files.include}`);
    // A kea-dhcp4.conf from before revisions gets the include of the revision file with the next change.
    const newConf = contextIncluded === undefined ? includeReservations(conf, files.conf, files.include, contextFile(files)).text : undefined;
    return { conf, confMode, newConf, store: storeText, include, context, revision: fileRevision ?? NO_REVISION, node, reservations: stored };
  }
  const { text, inline, userContext, subnet } = includeReservations(conf, files.conf, files.include, contextFile(files));
  const setupList = parseReservationsFile(JSON.stringify(inline), `${files.conf} (subnet4[0].reservations)`);
  const clashes = findConflicts(stored, setupList, { subnet: parseSubnet(subnet) });
  const real = clashes.filter((c) => c.kind !== 'same');
  if (real.length > 0) {
    throw new KeaKnotError('E_CONFIG', `${files.conf} holds reservations (from setup --reservations) that clash with ${files.store}; make them agree, then retry`, { details: real.map((c) => c.message) });
  }
  const fromSetup = setupList.filter((r) => !clashes.some((c) => c.reservation === r));
  const revision = fileRevision ?? revisionOf(userContext);
  return { conf, confMode, newConf: text, store: storeText, include, context, revision, node, reservations: sortReservations([...stored, ...fromSetup]) };
}

/**
 * The reservations setup writes into kea-dhcp4.conf: the store's, so that running setup
 * again does not drop what kea-knot reserve added, and setup's --reservations, which the
 * next change moves into the store. E_CONFIG when the two clash.
 */
export function setupReservations(store: string, given: readonly ReservationInput[], subnet: string): Reservation[] {
  let text: string;
  try { text = readFileSync(store, 'utf8'); } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw new KeaKnotError('E_IO', `cannot read ${store}: ${(error as Error).message}`, { cause: error });
    text = '[]';
  }
  const stored = parseReservationsFile(text, store);
  const additions = given.map(toReservation);
  const conflicts = findConflicts(stored, additions, { subnet: parseSubnet(subnet) });
  const real = conflicts.filter((c) => c.kind !== 'same');
  if (real.length > 0) {
    throw new KeaKnotError('E_CONFIG', `--reservations clash with the reservations kea-knot keeps in ${store}; drop those entries from the --reservations file (kea-knot reservations lists what is kept), then run setup again`, { details: real.map((c) => c.message) });
  }
  return sortReservations([...stored, ...additions.filter((r) => !conflicts.some((c) => c.reservation === r))]);
}

/** The reservations kea-knot keeps (read only; nothing is written). */
export async function listReservations(files: ReservationFiles): Promise<Reservation[]> {
  return (await readState(files)).reservations;
}

/** The reservations and the revision they are at (read only). */
export async function readReservationRevision(files: ReservationFiles): Promise<{ reservations: Reservation[]; revision: ReservationRevision }> {
  const { reservations, revision } = await readState(files);
  return { reservations, revision };
}

/** A change made here: now, by this node, and always newer than the list it changed (a clock stepped back, a partner's list adopted from its future). */
const bumped = (state: State): ReservationRevision => ({ revision: Math.max(Date.now(), state.revision.revision + 1), node: state.node });

/** Changes are made one at a time: each reads what the previous one wrote. */
let queue: Promise<unknown> = Promise.resolve();
function serialize<T>(operation: () => Promise<T>): Promise<T> {
  const next = queue.then(operation, operation);
  queue = next.catch(() => undefined);
  return next;
}

/**
 * Writes the store, the Kea list, the revision file (a change made here: bumped; a list
 * taken from the partner: the partner's) and (the first time) kea-dhcp4.conf's includes,
 * then has the supervisor reload kea-dhcp4 (kea-dhcp4 -t, config-reload, still serving,
 * else its previous configuration back). If the check or the reload fails, the files are
 * put back as they were and the error is passed on: everything or nothing.
 */
async function apply(ctx: ReservationContext, state: State, next: readonly Reservation[], revision: ReservationRevision = bumped(state)): Promise<void> {
  const { files } = ctx;
  const restore = async () => {
    const back = async (file: string, text: string | undefined, mode: number) => (text === undefined ? unlink(file).catch(() => undefined) : writeFileAtomic(file, text, mode));
    await back(files.include, state.include, 0o644);
    await back(files.store, state.store, 0o644);
    await back(contextFile(files), state.context, 0o644);
    if (state.newConf !== undefined) await writeFileAtomic(files.conf, state.conf, state.confMode);
  };
  try {
    await writeFileAtomic(files.include, `${JSON.stringify(sortReservations(next), null, 2)}\n`, 0o644);
    await writeFileAtomic(files.store, serializeReservations(next), 0o644);
    await writeFileAtomic(contextFile(files), `${JSON.stringify(contextObject(revision), null, 2)}\n`, 0o644);
    if (state.newConf !== undefined) await writeFileAtomic(files.conf, state.newConf, state.confMode);
    await ctx.reload();
  } catch (error) {
    await restore();
    if (error instanceof KeaKnotError) {
      throw new KeaKnotError(error.code, `${error.message}; the reservations were not changed (${files.store} and ${files.include} are as before)`, { details: error.details, cause: error });
    }
    throw error;
  }
}

/** Addresses taken without a reservation: active leases of other MACs, the router, the DNS servers handed out. */
function addressesInUse(leases: readonly KeaLease4[], dhcp4: unknown): AddressInUse[] {
  const config = dhcp4 as { 'option-data'?: { name?: string; data?: string }[]; subnet4?: { 'option-data'?: { name?: string; data?: string }[] }[] };
  const option = (name: string) => [...(config['option-data'] ?? []), ...(config.subnet4?.[0]?.['option-data'] ?? [])]
    .filter((o) => o.name === name).flatMap((o) => (o.data ?? '').split(',').map((a) => a.trim()));
  return [
    ...leases.filter((l) => (l.state ?? 0) === 0 && l['hw-address']).map((l) => ({
      'ip-address': l['ip-address'],
      'hw-address': l['hw-address']!,
      what: `leased to ${l['hw-address']}${l.hostname ? ` (${l.hostname.replace(/\.$/, '')})` : ''} until ${new Date((l.cltt + l['valid-lft']) * 1000).toISOString()}`,
    })),
    ...option('routers').map((a) => ({ 'ip-address': a, what: 'the router' })),
    ...option('domain-name-servers').map((a) => ({ 'ip-address': a, what: 'a DNS server handed to clients (this server or its partner)' })),
  ];
}

function conflictError(conflicts: readonly Conflict[]): KeaKnotError {
  const messages = conflicts.map((c) => c.message);
  return new KeaKnotError('E_CONFLICT', conflicts.length === 1 ? `cannot reserve: ${messages[0]}; nothing was changed` : `cannot reserve: ${conflicts.length} conflicts; nothing was changed`, { details: conflicts.length === 1 ? [] : messages });
}

/**
 * Checks `additions` against the reservations, the subnet and the addresses in use, then
 * applies them all or none. Exact repeats of existing reservations are `already`.
 */
async function addChecked(ctx: ReservationContext, state: State, additions: readonly Reservation[], dryRun: boolean): Promise<{ added: Reservation[]; already: Reservation[]; changed: boolean }> {
  const { leases, dhcp4 } = await keaLeases(ctx.socket);
  const subnetText = (dhcp4 as { subnet4?: { subnet?: string }[] } | undefined)?.subnet4?.[0]?.subnet;
  if (subnetText === undefined) throw new KeaKnotError('E_CONFIG', 'kea-dhcp4 runs without a subnet (config-get has no Dhcp4.subnet4[0]); run kea-knot setup');
  const conflicts = findConflicts(state.reservations, additions, { subnet: parseSubnet(subnetText), inUse: addressesInUse(leases, dhcp4) });
  const real = conflicts.filter((c) => c.kind !== 'same');
  if (real.length > 0) throw conflictError(real);
  const already = conflicts.map((c) => c.reservation);
  const added = additions.filter((r) => !already.includes(r));
  // A first change also moves setup's inline reservations into the store.
  const changed = !dryRun && (added.length > 0 || state.newConf !== undefined);
  if (changed) await apply(ctx, state, [...state.reservations, ...added]);
  return { added, already, changed };
}

/** The reservation of a current lease: its MAC, its address, its name's first label when that is a valid host name. */
export async function reservationFromLease(socket: string, address: string): Promise<Reservation> {
  if (normaliseIpv4(address) === undefined) {
    throw new KeaKnotError('E_USAGE', `${JSON.stringify(address)} is not an IPv4 address: reservations are for kea-dhcp4's leases (IPv4); pick one from kea-knot leases`);
  }
  const lease = await keaLease(socket, address);
  if (!lease || !lease['hw-address']) throw new KeaKnotError('E_NOT_FOUND', `no lease for ${address}; kea-knot leases lists them`);
  const hostname = normaliseHostname(lease.hostname?.split('.')[0] ?? '');
  return toReservation({ 'hw-address': lease['hw-address'], 'ip-address': lease['ip-address'], ...(hostname ? { hostname } : {}) });
}

/** Adds one reservation (or the current lease of `fromLease`); `changed` false when it was there already. */
export function reserve(ctx: ReservationContext, input: ReservationInput | { fromLease: string }): Promise<{ changed: boolean; reservation: Reservation }> {
  return serialize(async () => {
    const reservation = 'fromLease' in input ? await reservationFromLease(ctx.socket, input.fromLease) : toReservation(input);
    const state = await readState(ctx.files);
    const { added } = await addChecked(ctx, state, [reservation], false);
    return { changed: added.length > 0, reservation };
  });
}

/** Removes the reservation of a MAC or an address. The device keeps its lease until it renews. */
export function unreserve(ctx: ReservationContext, macOrAddress: string): Promise<Reservation> {
  return serialize(async () => {
    const state = await readState(ctx.files);
    const { reservations, removed } = removeReservation(state.reservations, macOrAddress);
    await apply(ctx, state, reservations);
    return removed;
  });
}

/**
 * Replaces the reservation of a MAC or an address with another (the dashboard's edit): the
 * new one is checked against the other reservations (not the old one) and the addresses in
 * use, and goes in with one reload, so a refused edit changes nothing and reloads nothing.
 * `changed` false when old and new are the same.
 */
export function changeReservation(ctx: ReservationContext, macOrAddress: string, input: ReservationInput): Promise<{ changed: boolean; old: Reservation; reservation: Reservation }> {
  return serialize(async () => {
    const reservation = toReservation(input);
    const state = await readState(ctx.files);
    const { reservations, removed: old } = removeReservation(state.reservations, macOrAddress);
    if (sameReservation(old, reservation)) return { changed: false, old, reservation };
    // Another reservation exactly so would be "already there" to addChecked, and the old one dropped.
    const twin = reservations.find((r) => sameReservation(r, reservation));
    if (twin) throw conflictError([{ kind: 'hw-address', reservation, message: `${describe(twin)} is already reserved; change or remove that one instead` }]);
    await addChecked(ctx, { ...state, reservations }, [reservation], false);
    return { changed: true, old, reservation };
  });
}

/**
 * Takes the partner's whole list at its revision (the pair's sync), through the same check,
 * reload and restore as a change made here. False when this node's reservations are by now
 * at that revision or newer (a change made here meanwhile wins, and the partner takes it).
 */
export function adoptReservations(ctx: ReservationContext, reservations: readonly Reservation[], revision: ReservationRevision): Promise<boolean> {
  return serialize(async () => {
    const state = await readState(ctx.files);
    if (compareRevisions(revision, state.revision) <= 0) return false;
    await apply(ctx, state, reservations, revision);
    return true;
  });
}

/** The importer's result for one file. */
export function parseImport(format: ImportFormat, text: string, file: string): ImportResult {
  if (format === 'dnsmasq') return importDnsmasq(text);
  if (format === 'pihole') return importPihole(text, file);
  return importDhcpd(text, file);
}

/**
 * Imports a dnsmasq, Pi-hole or dhcpd file: every convertible entry, all or none (a
 * conflict refuses the whole import). Entries already reserved exactly so are not errors,
 * so importing the same file again changes nothing. With dryRun, only says what would be done.
 */
export function importReservations(ctx: ReservationContext, format: ImportFormat, text: string, file: string, dryRun: boolean): Promise<ImportOutcome> {
  return serialize(async () => {
    const result = parseImport(format, text, file);
    const state = await readState(ctx.files);
    const { added, already, changed } = await addChecked(ctx, state, result.reservations, dryRun);
    return { dryRun, changed, added, already, skipped: result.skipped, notes: result.notes };
  });
}
