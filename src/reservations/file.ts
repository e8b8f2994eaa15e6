import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { KeaKnotError } from '../errors.js';
import { writeFileAtomic } from './atomic-write.js';
import { jsonErrorAt } from './json-error.js';
import { HOSTNAME_HINT, MAC_HINT, describe, normaliseHostname, normaliseIpv4, normaliseMac, type Reservation } from './reservation.js';
import { sortReservations } from './operations.js';

/** The format written; readers refuse a newer one rather than drop what they do not know. */
export const FILE_VERSION = 1;

const mac = z.string().transform((text, ctx) => normaliseMac(text) ?? (ctx.addIssue({ code: 'custom', message: `${JSON.stringify(text)} is not a network card's MAC; ${MAC_HINT}` }), z.NEVER));
const ipv4 = z.string().transform((text, ctx) => normaliseIpv4(text) ?? (ctx.addIssue({ code: 'custom', message: `${JSON.stringify(text)} is not an IPv4 address like 192.168.1.20` }), z.NEVER));
const hostname = z.string().transform((text, ctx) => normaliseHostname(text) ?? (ctx.addIssue({ code: 'custom', message: `${JSON.stringify(text)} is not valid; ${HOSTNAME_HINT}` }), z.NEVER));

// The same keys as setup's --reservations file, which is why a bare list is read too.
const entry = z.strictObject({ 'hw-address': mac, 'ip-address': ipv4, hostname: hostname.optional() });
const list = z.array(entry);
const versioned = z.strictObject({ version: z.number(), reservations: list });

/** The JSON text of a reservations file: versioned, sorted by address, one entry a line. */
export function serializeReservations(reservations: readonly Reservation[]): string {
  const lines = sortReservations(reservations).map((r) => `    ${JSON.stringify({ 'hw-address': r['hw-address'], 'ip-address': r['ip-address'], ...(r.hostname ? { hostname: r.hostname } : {}) })}`);
  return `{\n  "version": ${FILE_VERSION},\n  "reservations": [${lines.length > 0 ? `\n${lines.join(',\n')}\n  ` : ''}]\n}\n`;
}

/**
 * Parses a reservations file: {"version":1,"reservations":[...]} or setup's bare list
 * [{"hw-address","ip-address","hostname"}]. MACs and names are normalised. Entries that
 * repeat a MAC or an address (Kea would refuse the config) or a host name (two hosts, one
 * DNS name) are refused. E_CONFIG naming the file and every bad entry. The subnet is the
 * caller's to check: findConflicts([], list, { subnet }).
 */
export function parseReservationsFile(text: string, file: string): Reservation[] {
  let json: unknown;
  try { json = JSON.parse(text); } catch (error) {
    const at = jsonErrorAt(text);
    const where = at ? `:${at.line}: not valid JSON: ${at.found} at column ${at.column}` : `: not valid JSON: ${(error as Error).message}`;
    throw new KeaKnotError('E_CONFIG', `${file}${where}; fix the file or remove it to start with no reservations`);
  }
  const bare = Array.isArray(json);
  if (!bare && typeof json === 'object' && json !== null && 'version' in json && json.version !== FILE_VERSION) {
    throw new KeaKnotError('E_CONFIG', `${file}: version ${JSON.stringify(json.version)} is not supported (this kea-knot reads version ${FILE_VERSION}); use the kea-knot that wrote it`);
  }
  const result = (bare ? list : versioned).safeParse(json);
  if (!result.success) {
    const entries: unknown = bare ? json : (json as { reservations?: unknown }).reservations;
    const problems = result.error.issues.map((issue) => {
      const inList = bare ? issue.path : issue.path[0] === 'reservations' ? issue.path.slice(1) : [];
      const [index, ...field] = inList;
      if (typeof index !== 'number') return `${file}: ${issue.path.length > 0 ? issue.path.join('.') : 'top level'}: ${issue.message}`;
      const raw = Array.isArray(entries) ? entries[index] as { 'hw-address'?: unknown } | null : null;
      const mac = typeof raw === 'object' && raw !== null && typeof raw['hw-address'] === 'string' && field[0] !== 'hw-address' ? ` (${raw['hw-address']})` : '';
      return `${file}: reservation ${index + 1}${mac}${field.length > 0 ? `: ${field.join('.')}` : ''}: ${issue.message}`;
    });
    throw new KeaKnotError('E_CONFIG', `${file} has ${problems.length} problem${problems.length === 1 ? '' : 's'}; fix them and retry`, { details: problems });
  }
  const reservations: Reservation[] = (bare ? result.data as z.output<typeof list> : (result.data as z.output<typeof versioned>).reservations)
    .map((r) => ({ 'hw-address': r['hw-address'], 'ip-address': r['ip-address'], ...(r.hostname ? { hostname: r.hostname } : {}) }));
  const problems = repeats(reservations).map((p) => `${file}: ${p}`);
  if (problems.length > 0) throw new KeaKnotError('E_CONFIG', `${file} has ${problems.length} problem${problems.length === 1 ? '' : 's'}; fix them and retry`, { details: problems });
  return reservations;
}

/** "reservation 3 (...) repeats the MAC of reservation 1 (...)", for each repeated key. */
function repeats(reservations: readonly Reservation[]): string[] {
  const problems: string[] = [];
  const keys = [['hw-address', 'MAC'], ['ip-address', 'address'], ['hostname', 'host name']] as const;
  for (const [key, words] of keys) {
    const first = new Map<string, number>();
    reservations.forEach((r, i) => {
      const value = r[key];
      if (value === undefined) return;
      const earlier = first.get(value);
      if (earlier === undefined) first.set(value, i);
      else problems.push(`reservation ${i + 1} (${describe(r)}) repeats the ${words} of reservation ${earlier + 1} (${describe(reservations[earlier]!)}); remove one of them`);
    });
  }
  return problems;
}

/** The reservations in `path`; a missing file is no reservations. E_IO if it cannot be read. */
export async function readReservationsFile(path: string): Promise<Reservation[]> {
  let text: string;
  try { text = await readFile(path, 'utf8'); } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new KeaKnotError('E_IO', `cannot read ${path}: ${(error as Error).message}`, { cause: error });
  }
  return parseReservationsFile(text, path);
}

/** Replaces `path` with these reservations, atomically and durably (see writeFileAtomic). */
export async function writeReservationsFile(path: string, reservations: readonly Reservation[]): Promise<void> {
  await writeFileAtomic(path, serializeReservations(reservations), 0o644);
}
