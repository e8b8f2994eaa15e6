import { DEFAULT_SOCKET, callApi, type ApiResponse } from '../client/api-client.js';
import { socketFrom } from '../client/socket.js';
import { ExitCode, KeaKnotError } from '../errors.js';
import type { Reservation } from '../reservations/reservation.js';
import { describe } from '../reservations/reservation.js';
import { failure } from './api-command.js';
import { parseFlags } from './usage.js';

const SOCKET_HELP = `  --json          one JSON document for scripts
  --socket PATH   the supervisor's API socket (default: $KEA_KNOT_SOCKET, else ${DEFAULT_SOCKET})`;

export const reservationsHelp = `Usage: kea-knot reservations [--json]
       kea-knot reserve MAC ADDRESS [NAME] [--json]
       kea-knot reserve --from-lease ADDRESS [--json]
       kea-knot unreserve MAC|ADDRESS [--json]

Fixed addresses for devices. reservations lists them; reserve gives the device with MAC
the address ADDRESS (and the host name NAME, which Kea puts in DNS, forward and reverse,
when the device next asks for an address or renews its lease); --from-lease pins the
address a device holds now, with its MAC and its name; unreserve removes one (the device
keeps its address until its lease ends).

They are kept in one file under /etc/kea (kea-knot-reservations.json, which kea-dhcp4.conf
includes as reservations4.json), checked with kea-dhcp4 -t and applied with a reload of
the running kea-dhcp4, which keeps answering (in a pair its HA state restarts: 1-2 s).
A reservation that clashes (its address leased to another device, reserved for another,
outside the subnet, the router's; its MAC or name reserved already) is refused and
nothing is changed; if the check or the reload fails, everything is put back.

Exit 0 when done (or already so), 1 when refused or failed, 64 bad usage, 69 when the
supervisor cannot be reached.

${SOCKET_HELP}`;

/** One JSON request to the supervisor (the CLI's own client, with a body). */
export function requestJson<T>(socket: string, method: 'GET' | 'POST' | 'DELETE', urlPath: string, body?: unknown): Promise<ApiResponse<T>> {
  return callApi<T>({ socket }, method, urlPath, body);
}

/** The answer's body when 2xx; else the error it stands for. */
export async function ok<T>(response: Promise<ApiResponse<T>>): Promise<T> {
  const r = await response;
  if (r.status < 200 || r.status > 299) throw failure(r);
  return r.body;
}

export const socketFlags = {
  socket: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

function print(json: boolean, body: unknown, text: string): number {
  process.stdout.write(`${json ? JSON.stringify(body) : text}\n`);
  return ExitCode.ok;
}

/** kea-knot reservations | reserve | unreserve. */
export async function reservations(command: 'reservations' | 'reserve' | 'unreserve', args: string[]): Promise<number> {
  const { values, positionals } = parseFlags(command, args, { ...socketFlags, 'from-lease': { type: 'string' } }, true);
  if (values.help) return print(false, null, reservationsHelp);
  const socket = socketFrom(values.socket, process.env);
  const json = values.json ?? false;
  const usage = (what: string) => new KeaKnotError('E_USAGE', `${what}; see kea-knot ${command} --help`);
  if (command === 'reservations') {
    if (positionals.length > 0) throw usage('kea-knot reservations takes no arguments');
    const body = await ok(requestJson<{ reservations: Reservation[] }>(socket, 'GET', '/v1/reservations'));
    return print(json, body, body.reservations.length === 0 ? 'no reservations' : table(body.reservations));
  }
  if (command === 'unreserve') {
    if (positionals.length !== 1) throw usage('kea-knot unreserve takes one MAC or address');
    const body = await ok(requestJson<{ removed: Reservation }>(socket, 'DELETE', `/v1/reservations/${encodeURIComponent(positionals[0]!)}`));
    return print(json, body, `unreserved ${describe(body.removed)}`);
  }
  const fromLease = values['from-lease'];
  if (fromLease !== undefined ? positionals.length > 0 : positionals.length < 2 || positionals.length > 3) {
    throw usage('kea-knot reserve takes MAC ADDRESS [NAME], or --from-lease ADDRESS alone');
  }
  const [mac, address, hostname] = positionals as [string, string, string?];
  const request = fromLease !== undefined ? { 'from-lease': fromLease } : { 'hw-address': mac, 'ip-address': address, ...(hostname === undefined ? {} : { hostname }) };
  const body = await ok(requestJson<{ changed: boolean; reservation: Reservation }>(socket, 'POST', '/v1/reservations', request));
  return print(json, body, body.changed ? `reserved ${describe(body.reservation)}` : `${describe(body.reservation)} is already reserved so; nothing changed`);
}

export function table(list: readonly Reservation[]): string {
  const rows = [['MAC', 'ADDRESS', 'NAME'], ...list.map((r) => [r['hw-address'], r['ip-address'], r.hostname ?? '-'])];
  return columns(rows);
}

/** Rows as left-aligned columns. */
export function columns(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ')).join('\n');
}
