import { Resolver } from 'node:dns/promises';
import { KeaKnotError } from '../errors.js';
import { runCommand } from '../supervisor/run-command.js';

export interface ZoneStatus {
  readonly zone: string;
  readonly role: string;
  /** null while the zone has no contents (a secondary that has not transferred it yet). */
  readonly serial: number | null;
}

/** Parses `knotc zone-status` lines: `[home.arpa.] role: master | serial: 5 | ...`. */
export function parseZoneStatus(text: string): ZoneStatus[] {
  const zones: ZoneStatus[] = [];
  for (const line of text.split('\n')) {
    const match = /^\[([^\]]+)\]\s+(.*)$/.exec(line.trim());
    if (!match) continue;
    const fields = new Map(match[2]!.split('|').map((part) => {
      const [key, ...rest] = part.split(':');
      return [key!.trim(), rest.join(':').trim()] as const;
    }));
    const serial = Number(fields.get('serial'));
    zones.push({ zone: match[1]!, role: fields.get('role') ?? 'unknown', serial: Number.isInteger(serial) ? serial : null });
  }
  return zones;
}

/**
 * Where to ask: the first address of `knotc conf-read server.listen`
 * (`server.listen = 127.0.0.1@53 ::1@53`); a wildcard is asked on loopback.
 */
export function parseListen(text: string): string | null {
  const first = /=\s*(\S+)/.exec(text)?.[1];
  if (!first) return null;
  const [host, port = '53'] = first.split('@') as [string, string?];
  const address = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

/** One knotc command on knotd's control socket; its output, or E_IO with knotc's words. */
export async function knotc(socket: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<string> {
  const argv = ['knotc', '-s', socket, ...args];
  const result = await runCommand(argv, { env, timeoutMs });
  if (result.code !== 0) {
    throw new KeaKnotError('E_IO', `${argv.join(' ')} failed: ${result.output.trim() || result.spawnError || `code ${result.code}`}; is knotd running (kea-knot status)?`);
  }
  return result.output;
}

/**
 * Whether knotd serves its zones: every primary zone has loaded, and every zone that has
 * contents answers its SOA over DNS at knotd's own listen address. A control socket that answers proves only that the daemon
 * runs, not that it loaded the zones. Returns null when serving, else why not.
 */
export async function knotNotServing(socket: string, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<string | null> {
  let zones: ZoneStatus[];
  let server: string | null;
  try {
    [zones, server] = await Promise.all([
      knotc(socket, ['zone-status'], env, timeoutMs).then(parseZoneStatus),
      knotc(socket, ['conf-read', 'server.listen'], env, timeoutMs).then(parseListen),
    ]);
  } catch (error) {
    return (error as Error).message;
  }
  if (server === null) return 'knotd listens on no address (server.listen is empty)';
  if (zones.length === 0) return 'knotd has no zone';
  // A secondary that has not transferred a zone yet (its primary may be down) is not held
  // against it: its DHCP dependents must still start. A primary zone must have loaded.
  const unloaded = zones.filter((z) => z.serial === null && z.role !== 'slave').map((z) => z.zone);
  if (unloaded.length > 0) return `knotd has not loaded ${unloaded.join(', ')} (see its log lines for the zone file's error)`;
  const loaded = zones.filter((z) => z.serial !== null);
  const resolver = new Resolver({ timeout: Math.max(100, Math.min(timeoutMs, 2000)), tries: 1 });
  resolver.setServers([server]);
  const failures = await Promise.all(loaded.map(async ({ zone }) => {
    try {
      await resolver.resolveSoa(zone.replace(/\.$/, ''));
      return null;
    } catch (error) {
      return `${zone} SOA from ${server}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`;
    }
  }));
  const failed = failures.filter((f) => f !== null);
  return failed.length === 0 ? null : `knotd does not answer for its zones: ${failed.join('; ')}`;
}
