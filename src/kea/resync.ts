import { KeaKnotError } from '../errors.js';
import { keaCommand } from './control.js';
import type { KeaTarget } from './targets.js';

/** What one Kea DHCP server did in a resync. */
export interface ResyncReport {
  readonly service: string;
  readonly family: 4 | 6;
  /** Leases the daemon holds. */
  readonly leases: number;
  /** Leases whose DNS update Kea queued again for the DDNS daemon. */
  readonly resent: number;
  /** Leases with no name in DNS to restore: no hostname, no DNS update wanted, not active, gone meanwhile. */
  readonly skipped: number;
  readonly failed: number;
  /** "address: Kea's reason" for the first failures. */
  readonly failures: readonly string[];
  /** Set when nothing could be re-sent from this daemon at all. */
  readonly error?: string;
}

interface Lease {
  'ip-address': string;
  hostname?: string;
  'fqdn-fwd'?: boolean;
  'fqdn-rev'?: boolean;
  state?: number;
  type?: string;
}

/** Kea's result codes (same in 2.2 to 3.0). */
const UNSUPPORTED = 2;
const EMPTY = 3;
const FAILURES_SHOWN = 10;

/**
 * Makes Kea send the DNS updates of the leases it holds again (lease4/6-resend-ddns of the
 * lease_cmds hook), one lease at a time: names missed while Knot or the DDNS daemon was
 * down come back at once rather than at each client's renewal. Kea sends no update for a
 * lease it already holds when it starts. Undefined when the daemon is no DHCP server (the
 * DDNS daemon also has a control socket).
 */
export async function resyncDns(service: string, socket: string): Promise<ResyncReport | undefined> {
  const got = await keaCommand(socket, 'config-get');
  if (got.result !== 0) throw new KeaKnotError('E_IO', `${service} refused config-get on ${socket} (result ${got.result}): ${got.text ?? ''}`);
  const config = got.arguments ?? {};
  const family = 'Dhcp4' in config ? 4 : 'Dhcp6' in config ? 6 : undefined;
  if (family === undefined) return undefined;
  const report = (counts: Partial<ResyncReport>): ResyncReport => ({ service, family, leases: 0, resent: 0, skipped: 0, failed: 0, failures: [], ...counts });
  const ddns = (config[`Dhcp${family}`] as { 'dhcp-ddns'?: { 'enable-updates'?: boolean } })['dhcp-ddns'];
  if (ddns?.['enable-updates'] !== true) {
    return report({ error: `DDNS is off in ${service} (Dhcp${family} dhcp-ddns.enable-updates is not true): there are no DNS updates to re-send` });
  }
  const getAll = `lease${family}-get-all`;
  const all = await keaCommand(socket, getAll);
  if (all.result === UNSUPPORTED) {
    return report({ error: `${service} does not know ${getAll}: add libdhcp_lease_cmds.so to Dhcp${family} hooks-libraries in its configuration, then reload it` });
  }
  if (all.result !== 0 && all.result !== EMPTY) return report({ error: `${service} refused ${getAll} (result ${all.result}): ${all.text ?? ''}` });
  const leases = (all.arguments?.leases ?? []) as Lease[];
  let resent = 0;
  let skipped = 0;
  const failures: string[] = [];
  for (const lease of leases) {
    if (!inDns(lease)) { skipped += 1; continue; }
    const answer = await keaCommand(socket, `lease${family}-resend-ddns`, { 'ip-address': lease['ip-address'] });
    if (answer.result === 0) resent += 1;
    else if (answer.result === EMPTY) skipped += 1; // the lease ended meanwhile
    else failures.push(`${lease['ip-address']}: ${answer.text ?? `result ${answer.result}`}`);
  }
  return report({ leases: leases.length, resent, skipped, failed: failures.length, failures: failures.slice(0, FAILURES_SHOWN) });
}

/** Every DHCP server's resync; ok when no lease failed and no daemon refused. */
export async function resyncAll(targets: readonly KeaTarget[]): Promise<{ ok: boolean; daemons: (ResyncReport | { service: string; error: string })[] }> {
  const found = await Promise.all(targets.map((t) => resyncDns(t.service, t.socket).catch((error: Error) => ({ service: t.service, error: error.message }))));
  const daemons = found.filter((report) => report !== undefined);
  if (daemons.length === 0) {
    throw new KeaKnotError('E_STATE', `no Kea DHCP server is ready to re-send DNS updates (ready with a control socket: ${targets.map((t) => t.service).join(', ') || 'none'}); start kea-dhcp4 or kea-dhcp6 first`);
  }
  return { ok: daemons.every((d) => d.error === undefined && 'failed' in d && d.failed === 0), daemons };
}

/** An active address lease with a name that Kea puts in DNS (forward, reverse or both). */
function inDns(lease: Lease): boolean {
  return (lease.state ?? 0) === 0 && (lease.type ?? 'IA_NA') === 'IA_NA' && Boolean(lease.hostname) && (lease['fqdn-fwd'] === true || lease['fqdn-rev'] === true);
}
