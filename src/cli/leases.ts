import { DEFAULT_SOCKET } from '../client/api-client.js';
import { socketFrom } from '../client/socket.js';
import { ExitCode, KeaKnotError } from '../errors.js';
import type { LeaseListing } from '../kea/leases.js';
import { columns, ok, requestJson, socketFlags } from './reservations.js';
import { parseFlags } from './usage.js';

export const leasesHelp = `Usage: kea-knot leases [--search TEXT] [--json] [--socket PATH]

The leases kea-dhcp4 holds, then kea-dhcp6's when it runs: address, MAC, host name,
whether that name is in DNS (Knot answers its A or AAAA query with the lease's address),
when the lease ends, its state, and in a pair which node gives the address (each node has
one half of every IPv4 pool, client class HA_<node>; an address outside the pools, e.g. a
reservation, and DHCPv6, which runs without HA, show "-"). In a pair both nodes hold every
IPv4 lease, so either node lists them all.

  --search TEXT   only leases whose address, MAC or name contains TEXT
  --json          one JSON document: expires is epoch milliseconds, dns null when Knot
                  could not be asked
  --socket PATH   the supervisor's API socket (default: $KEA_KNOT_SOCKET, else ${DEFAULT_SOCKET})`;

/** "in 1h 05m" / "5m ago". */
export function untilText(ms: number, now: number): string {
  const minutes = Math.round(Math.abs(ms - now) / 60_000);
  const text = minutes >= 60 ? `${Math.floor(minutes / 60)}h ${String(minutes % 60).padStart(2, '0')}m` : `${minutes}m`;
  return ms >= now ? `in ${text}` : `${text} ago`;
}

export async function leases(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags('leases', args, { ...socketFlags, search: { type: 'string' } }, true);
  if (values.help) {
    process.stdout.write(`${leasesHelp}\n`);
    return ExitCode.ok;
  }
  if (positionals.length > 0) throw new KeaKnotError('E_USAGE', 'kea-knot leases takes no arguments (use --search TEXT); see kea-knot leases --help');
  const query = values.search === undefined ? '' : `?search=${encodeURIComponent(values.search)}`;
  const body = await ok(requestJson<LeaseListing>(socketFrom(values.socket, process.env), 'GET', `/v1/leases${query}`));
  if (values.json) {
    process.stdout.write(`${JSON.stringify(body)}\n`);
    return ExitCode.ok;
  }
  const now = Date.now();
  const rows = [['ADDRESS', 'MAC', 'NAME', 'DNS', 'EXPIRES', 'STATE', ...(body.ha ? ['NODE'] : [])], ...body.leases.map((l) => [
    l.address, l.mac, l.hostname ?? '-', l.dns === null ? '?' : l.dns ? 'yes' : 'no',
    `${new Date(l.expires).toLocaleString('sv')} (${untilText(l.expires, now)})`, l.state, ...(body.ha ? [l.node ?? '-'] : []),
  ])];
  const lines = body.leases.length === 0 ? ['no leases'] : [columns(rows)];
  if (!body.dns.checked) lines.push(`DNS not checked: ${body.dns.error}`);
  if (body.dhcp6?.checked === false) lines.push(`DHCPv6 leases not listed: ${body.dhcp6.error}`);
  process.stdout.write(`${lines.join('\n')}\n`);
  return ExitCode.ok;
}
