import { DEFAULT_SOCKET, callApi } from '../client/api-client.js';
import { socketFrom } from '../client/socket.js';
import { ExitCode, KeaKnotError } from '../errors.js';
import type { ResyncReport } from '../kea/resync.js';
import type { StaticName } from '../knot/names.js';
import { failure } from './api-command.js';
import { columns, ok, requestJson } from './reservations.js';
import { parseFlags } from './usage.js';

export const dnsHelp = `Usage: kea-knot dns [--json]                 list the static names
       kea-knot dns add NAME ADDRESS [--json]
       kea-knot dns remove NAME [--json]
       kea-knot dns resync [--json]

Static names: dns add puts NAME (one label, which gets the LAN domain, or a name inside
it) with ADDRESS in Knot, and the PTR back from ADDRESS when it lies in the reverse zone
setup made, in one zone transaction (zone-begin, zone-set, zone-commit; aborted on any
error) on the DNS primary. On the secondary of a pair it is sent to the primary as a DNS
update signed with the pair's key; either way both nodes answer it (the secondary gets it
by transfer, also after being down). Knot keeps it in its journal and zone file: it
survives restarts. A name a DHCP client
holds (kea-dhcp-ddns wrote it, with a DHCID record) is refused, as is a name holding
another address or an address whose PTR names another; nothing is changed then. Later, a
DHCP client asking for a static name gets no DNS record: Kea's conflict resolution finds
no DHCID of its own there, and kea-dhcp-ddns logs the refusal. dns remove takes the name
and its PTR away; dns lists the names with an A record and no DHCID (not the servers'
own ns1/ns2).

dns resync makes every ready Kea DHCP server send the DNS updates of the leases it holds again, so
names missed while Knot or kea-dhcp-ddns was down (or the DNS primary of a pair was
unreachable) come back now instead of at each client's renewal. Kea sends no update for
leases it already holds when it starts, so a restart does not do this. Leases without a
name, or whose name Kea keeps out of DNS, are skipped. In a pair, run it on either node:
each holds every lease, and the DNS primary takes an update for a name from either node
(conflict resolution by DHCID). Needs the lease_cmds hook in Kea's configuration.
"Re-sent" means Kea queued the update for kea-dhcp-ddns, whose log says how it went.

Exit 0 when done (resync: every update queued), 1 when refused or a lease or a daemon
failed, 64 bad usage, 69 when the supervisor cannot be reached.

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
  const socket = socketFrom(values.socket, process.env);
  const [sub, ...rest] = positionals;
  const print = (body: unknown, text: string) => {
    process.stdout.write(`${values.json ? JSON.stringify(body) : text}\n`);
    return ExitCode.ok;
  };
  const usage = () => new KeaKnotError('E_USAGE', 'kea-knot dns takes no subcommand (list), add NAME ADDRESS, remove NAME or resync; see kea-knot dns --help');
  if (sub === undefined) {
    const body = await ok(requestJson<{ names: StaticName[] }>(socket, 'GET', '/v1/dns/names'));
    const rows = [['NAME', 'ADDRESS', 'REVERSE'], ...body.names.map((n) => [n.name, n.address, n.reverse ?? '-'])];
    return print(body, body.names.length === 0 ? 'no static names' : columns(rows));
  }
  if (sub === 'add') {
    if (rest.length !== 2) throw usage();
    const body = await ok(requestJson<{ changed: boolean; name: StaticName }>(socket, 'POST', '/v1/dns/names', { name: rest[0], address: rest[1] }));
    const { name, address, reverse } = body.name;
    return print(body, body.changed ? `added ${name} -> ${address}${reverse ? ` and ${reverse} -> ${name}` : ` (no reverse zone here holds ${address}: forward only)`}` : `${name} is already ${address}; nothing changed`);
  }
  if (sub === 'remove') {
    if (rest.length !== 1) throw usage();
    const body = await ok(requestJson<{ removed: StaticName[] }>(socket, 'DELETE', `/v1/dns/names/${encodeURIComponent(rest[0]!)}`));
    return print(body, body.removed.map((n) => `removed ${n.name} -> ${n.address}${n.reverse ? ` and its PTR ${n.reverse}` : ''}`).join('\n'));
  }
  if (sub !== 'resync' || rest.length > 0) throw usage();
  const response = await callApi<{ ok: boolean; daemons: Daemon[] }>({ socket }, 'POST', '/v1/dns/resync');
  if (response.status !== 200 && response.status !== 502) throw failure(response);
  process.stdout.write(`${values.json ? JSON.stringify(response.body) : response.body.daemons.map(describe).join('\n')}\n`);
  return response.body.ok ? ExitCode.ok : ExitCode.failure;
}
