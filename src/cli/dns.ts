import { DEFAULT_SOCKET, callApi } from '../client/api-client.js';
import { socketFrom } from '../client/socket.js';
import { ExitCode, KeaKnotError } from '../errors.js';
import type { ResyncReport } from '../kea/resync.js';
import { failure } from './api-command.js';
import { parseFlags } from './usage.js';

export const dnsHelp = `Usage: kea-knot dns resync [--json] [--socket PATH]

Makes every ready Kea DHCP server send the DNS updates of the leases it holds again, so
names missed while Knot or kea-dhcp-ddns was down (or the DNS primary of a pair was
unreachable) come back now instead of at each client's renewal. Kea sends no update for
leases it already holds when it starts, so a restart does not do this. Leases without a
name, or whose name Kea keeps out of DNS, are skipped. In a pair, run it on either node:
each holds every lease, and the DNS primary takes an update for a name from either node
(conflict resolution by DHCID). Needs the lease_cmds hook in Kea's configuration.
"Re-sent" means Kea queued the update for kea-dhcp-ddns, whose log says how it went.

Exit 0 when every update was queued, 1 when a lease or a daemon failed, 69 when the
supervisor cannot be reached.

  --json          one JSON document for scripts
  --socket PATH   the supervisor's API socket (default: $KEA_KNOT_SOCKET, else ${DEFAULT_SOCKET})`;

type Daemon = ResyncReport | { service: string; error: string };

function describe(d: Daemon): string {
  if (!('leases' in d) || d.error !== undefined) return `${d.service}: nothing re-sent: ${d.error}`;
  const lines = [`${d.service}: ${d.leases} lease(s): ${d.resent} re-sent, ${d.skipped} skipped (no name in DNS), ${d.failed} failed`];
  for (const why of d.failures) lines.push(`  ${why}`);
  if (d.failed > d.failures.length) lines.push(`  ... and ${d.failed - d.failures.length} more`);
  return lines.join('\n');
}

export async function dns(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags('dns', args, {
    socket: { type: 'string' },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  }, true);
  if (values.help) {
    process.stdout.write(`${dnsHelp}\n`);
    return ExitCode.ok;
  }
  if (positionals.length !== 1 || positionals[0] !== 'resync') throw new KeaKnotError('E_USAGE', `kea-knot dns takes one subcommand, resync; see kea-knot dns --help`);
  const response = await callApi<{ ok: boolean; daemons: Daemon[] }>({ socket: socketFrom(values.socket, process.env) }, 'POST', '/v1/dns/resync');
  if (response.status !== 200 && response.status !== 502) throw failure(response);
  process.stdout.write(`${values.json ? JSON.stringify(response.body) : response.body.daemons.map(describe).join('\n')}\n`);
  return response.body.ok ? ExitCode.ok : ExitCode.failure;
}
