import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { DEFAULT_SOCKET } from '../client/api-client.js';
import { socketFrom } from '../client/socket.js';
import { ExitCode, KeaKnotError } from '../errors.js';
import { IMPORT_FORMATS, type ImportFormat, type ImportOutcome } from '../kea/reservations-apply.js';
import { describe } from '../reservations/reservation.js';
import { ok, requestJson, socketFlags } from './reservations.js';
import { parseFlags } from './usage.js';

export const importHelp = `Usage: kea-knot import dnsmasq|pihole|dhcpd FILE [--dry-run] [--json] [--socket PATH]

Moves static leases over from another DHCP server: dnsmasq (dhcp-host= lines, or a
dhcp-hostsfile), Pi-hole (04-pihole-static-dhcp.conf of v5, or pihole.toml of v6) or ISC
dhcpd (host blocks of dhcpd.conf). Each entry becomes a reservation like kea-knot reserve
makes; what cannot be converted is listed with the reason, and so is what was changed
(a dropped domain, for one). All or nothing: one conflict (see kea-knot reserve --help)
refuses the whole import. Entries already reserved exactly so are left as they are, so
importing the same file again changes nothing.

  --dry-run       say what would be imported, change nothing
  --json          one JSON document for scripts
  --socket PATH   the supervisor's API socket (default: $KEA_KNOT_SOCKET, else ${DEFAULT_SOCKET})

Exit 0 when imported (or nothing to do), 1 when refused, 64 bad usage, 69 when the
supervisor cannot be reached.`;

function report(r: ImportOutcome): string {
  const lines: string[] = [];
  const verb = r.dryRun ? 'would reserve' : 'reserved';
  for (const x of r.added) lines.push(`${verb} ${describe(x)}`);
  if (r.already.length > 0) lines.push(`${r.already.length} already reserved so`);
  for (const n of r.notes) lines.push(`note: line ${n.line}: ${n.note}`);
  for (const s of r.skipped) lines.push(`not imported: line ${s.line}: ${s.text}: ${s.reason}`);
  lines.push(r.dryRun ? `dry run: ${r.added.length} to add, nothing changed` : `${r.added.length} added${r.changed ? '' : ', nothing changed'}`);
  return lines.join('\n');
}

export async function importCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags('import', args, { ...socketFlags, 'dry-run': { type: 'boolean' } }, true);
  if (values.help) {
    process.stdout.write(`${importHelp}\n`);
    return ExitCode.ok;
  }
  const [format, file] = positionals;
  if (positionals.length !== 2 || !IMPORT_FORMATS.includes(format as ImportFormat)) {
    throw new KeaKnotError('E_USAGE', `kea-knot import takes a format (${IMPORT_FORMATS.join(', ')}) and a FILE; see kea-knot import --help`);
  }
  const text = await readFile(file!, 'utf8').catch((error: Error) => { throw new KeaKnotError('E_USAGE', `cannot read ${file}: ${error.message}`); });
  const body = await ok(requestJson<ImportOutcome>(socketFrom(values.socket, process.env), 'POST', '/v1/reservations/import',
    { format, text, file: path.resolve(file!), dryRun: values['dry-run'] ?? false }));
  process.stdout.write(`${values.json ? JSON.stringify(body) : report(body)}\n`);
  return ExitCode.ok;
}
