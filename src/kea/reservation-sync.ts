// In an HA pair each node keeps its own reservations (store, Kea list, revision file); this
// loop keeps them alike. Each node's running kea-dhcp4 shows its list and revision
// (subnet4[0].user-context) to config-get; every interval a node reads its partner's over
// the HA channel (same URL and credentials as the HA hook) and takes the whole list when
// the partner's revision is newer. Deletions travel the same way; the newest change wins.
import { readFile } from 'node:fs/promises';
import { request } from 'node:http';
import type pino from 'pino';
import { KeaKnotError } from '../errors.js';
import { serializeReservations } from '../reservations/file.js';
import { toReservation, type Reservation } from '../reservations/reservation.js';
import { HA_HOOK } from '../setup/ha.js';
import { keaCommand, type KeaAnswer } from './control.js';
import { adoptReservations, compareRevisions, readReservationRevision, revisionOf, type ReservationContext, type ReservationRevision } from './reservations-apply.js';

/** How often a node reads its partner's reservations (also at start and whenever kea-dhcp4 becomes ready). */
export const SYNC_INTERVAL_MS = 10_000;
const PARTNER_TIMEOUT_MS = 5000;

/** One node's reservations and the revision they are at. */
export interface SyncSide {
  readonly revision: ReservationRevision;
  readonly reservations: readonly Reservation[];
}

/**
 * same: nothing to do. adopt: the partner's list is newer, take it whole. keep: this node's
 * is newer (the partner takes it on its own next read). tie: different lists at the same
 * revision, which only lists never changed through kea-knot have: nobody can tell which is right.
 */
export type SyncDecision = 'same' | 'adopt' | 'keep' | 'tie';

/** What this node does with its partner's reservations (pure; both nodes decide alike, so they agree). */
export function syncDecision(local: SyncSide, partner: SyncSide): SyncDecision {
  if (serializeReservations(local.reservations) === serializeReservations(partner.reservations)) return 'same';
  const order = compareRevisions(partner.revision, local.revision);
  return order > 0 ? 'adopt' : order < 0 ? 'keep' : 'tie';
}

/** How to reach the partner's kea-dhcp4: as the local HA hook does. */
export interface PartnerChannel {
  readonly name: string;
  readonly url: string;
  /** The Basic authorization header value (never logged). */
  readonly authorization: string | undefined;
  /** Kea 2.x: the URL is the partner's control agent, which needs `service` and answers with a list. */
  readonly viaAgent: boolean;
}

interface HaPeerConfig { name?: string; url?: string; 'basic-auth-user'?: string; 'basic-auth-password'?: string; 'basic-auth-password-file'?: string }
interface Dhcp4Config {
  'hooks-libraries'?: { library?: string; parameters?: { 'high-availability'?: { 'this-server-name'?: string; peers?: HaPeerConfig[] }[] } }[];
  'control-sockets'?: { 'socket-type'?: string }[];
  subnet4?: { reservations?: { 'hw-address'?: string; 'ip-address'?: string; hostname?: string }[]; 'user-context'?: unknown }[];
}

/** The partner from kea-dhcp4's running configuration (config-get's Dhcp4); undefined when it runs no HA. */
export async function partnerChannel(dhcp4: unknown): Promise<PartnerChannel | undefined> {
  const config = (dhcp4 ?? {}) as Dhcp4Config;
  const ha = config['hooks-libraries']?.find((h) => h.library?.endsWith(HA_HOOK))?.parameters?.['high-availability']?.[0];
  const partner = ha?.peers?.find((p) => p.name !== ha['this-server-name']);
  if (!partner?.url || !partner.name) return undefined;
  let password = partner['basic-auth-password'];
  const file = partner['basic-auth-password-file'];
  if (password === undefined && file !== undefined) {
    password = (await readFile(file, 'utf8').catch((error: Error) => {
      throw new KeaKnotError('E_IO', `cannot read the pair's HA password file ${file}: ${error.message}`, { cause: error });
    })).trim();
  }
  const user = partner['basic-auth-user'];
  return {
    name: partner.name,
    url: partner.url,
    authorization: user === undefined ? undefined : `Basic ${Buffer.from(`${user}:${password ?? ''}`).toString('base64')}`,
    // Kea 3.0: kea-dhcp4's own HTTP socket answers the peers.
    viaAgent: !(config['control-sockets'] ?? []).some((s) => s['socket-type'] === 'http'),
  };
}

/** One command to the partner's kea-dhcp4 over the HA channel. */
export function partnerCommand(channel: PartnerChannel, command: string, timeoutMs = PARTNER_TIMEOUT_MS): Promise<KeaAnswer> {
  const body = JSON.stringify({ command, ...(channel.viaAgent ? { service: ['dhcp4'] } : {}) });
  const where = `${channel.name}'s kea-dhcp4 at ${channel.url}`;
  return new Promise((resolve, reject) => {
    const req = request(channel.url, {
      method: 'POST', agent: false, timeout: timeoutMs,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...(channel.authorization ? { authorization: channel.authorization } : {}) },
    }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (chunk: string) => { text += chunk; }).on('error', reject).on('end', () => {
        if (res.statusCode === 401 || res.statusCode === 403) {
          reject(new KeaKnotError('E_CONFIG', `${where} refused the pair's credentials (HTTP ${res.statusCode}); both nodes need the same KEA_KNOT_HA_SECRET (run kea-knot setup on each)`));
          return;
        }
        let answer: unknown;
        try { answer = JSON.parse(text); } catch { /* reported below */ }
        const first = (Array.isArray(answer) ? answer[0] : answer) as KeaAnswer | undefined;
        if (res.statusCode !== 200 || typeof first?.result !== 'number') {
          reject(new KeaKnotError('E_IO', `${where} answered "${command}" with HTTP ${res.statusCode ?? '?'}: ${text.slice(0, 200)}`));
        } else if (first.result !== 0) {
          reject(new KeaKnotError('E_UNAVAILABLE', `${where} did not carry out "${command}": ${first.text ?? `result ${first.result}`}`));
        } else resolve(first);
      });
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (error: NodeJS.ErrnoException) => reject(new KeaKnotError('E_UNAVAILABLE', `cannot reach ${where}: ${error.code ?? error.message}`, { cause: error })));
    req.end(body);
  });
}

/** The reservations and revision a kea-dhcp4 runs with (config-get's Dhcp4). */
export function sideOf(dhcp4: unknown, node: string): SyncSide {
  const subnet = (dhcp4 as Dhcp4Config | undefined)?.subnet4?.[0];
  if (subnet === undefined) throw new KeaKnotError('E_CONFIG', `${node}'s kea-dhcp4 runs without a subnet; run kea-knot setup there`);
  const reservations = (subnet.reservations ?? []).map((r) => {
    if (r['hw-address'] === undefined || r['ip-address'] === undefined) {
      throw new KeaKnotError('E_CONFIG', `${node}'s kea-dhcp4 holds a reservation kea-knot does not keep (${JSON.stringify(r).slice(0, 120)}): only MAC-to-address ones travel between the nodes; remove it there`);
    }
    // config-get writes "hostname": "" for none.
    return toReservation({ 'hw-address': r['hw-address'], 'ip-address': r['ip-address'], hostname: r.hostname || undefined });
  });
  return { revision: revisionOf(subnet['user-context']), reservations };
}

export interface ReservationSyncOptions {
  /** The ready kea-dhcp4 and its reload; throws (E_STATE) while it is not ready or the supervisor stops. */
  readonly context: () => ReservationContext;
  readonly logger: pino.Logger;
  readonly intervalMs?: number;
}

export interface ReservationSync {
  /** Reads the partner now (or right after a read in progress). */
  trigger(): void;
  /** No more reads; resolves once one in progress has ended. */
  stop(): Promise<void>;
}

const describeRevision = (r: ReservationRevision) => (r.revision === 0 ? 'never changed' : `changed on ${r.node || 'an unnamed node'} at ${new Date(r.revision).toISOString()}`);

/** Starts the loop: a read at once, then every interval; its timer never keeps the process alive. */
export function startReservationSync(options: ReservationSyncOptions): ReservationSync {
  const { logger } = options;
  const intervalMs = options.intervalMs ?? SYNC_INTERVAL_MS;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let again = false;
  let stopped = false;
  // No HA hook in the running kea-dhcp4: nothing to read until it starts again (trigger).
  let alone = false;
  // What went wrong last: logged when it starts, not at every read, and its end once.
  let problem: string | undefined;
  const trouble = (kind: string, message: string, fields: object = {}) => {
    if (problem !== kind) logger.warn({ ...fields }, message);
    problem = kind;
  };

  const read = async () => {
    let ctx: ReservationContext;
    try { ctx = options.context(); } catch { return; } // kea-dhcp4 not ready: asked again later
    const local = await keaCommand(ctx.socket, 'config-get', undefined, PARTNER_TIMEOUT_MS);
    const channel = await partnerChannel(local.arguments?.Dhcp4);
    alone = channel === undefined;
    if (channel === undefined) return;
    let partner: SyncSide;
    try {
      partner = sideOf((await partnerCommand(channel, 'config-get')).arguments?.Dhcp4, channel.name);
    } catch (error) {
      trouble('partner', `reservations: cannot read ${channel.name}'s (${(error as Error).message}); this node keeps serving its own and tries again every ${intervalMs / 1000} s`);
      return;
    }
    const mine = await readReservationRevision(ctx.files);
    const decision = syncDecision(mine, partner);
    if (decision === 'tie') {
      trouble('tie', `reservations differ from ${channel.name}'s and neither was changed through kea-knot; make a change (kea-knot reserve or unreserve) on the node whose list is right, and the other takes that list whole`);
      return;
    }
    if (decision === 'adopt') {
      try {
        if (await adoptReservations(ctx, partner.reservations, partner.revision)) {
          logger.info({ reservations: partner.reservations.length, revision: partner.revision }, `reservations taken from ${channel.name} (${describeRevision(partner.revision)}): ${partner.reservations.length} reservation${partner.reservations.length === 1 ? '' : 's'}`);
        }
      } catch (error) {
        trouble('adopt', `reservations: ${channel.name}'s (${describeRevision(partner.revision)}) could not be applied here: ${(error as Error).message}; tried again every ${intervalMs / 1000} s`, { details: (error as KeaKnotError).details });
        return;
      }
    }
    if (problem !== undefined) logger.info(`reservations: in step with ${channel.name} again`);
    problem = undefined;
  };

  const schedule = () => {
    if (stopped || alone) return;
    timer = setTimeout(run, intervalMs);
    timer.unref();
  };
  function run(): void {
    if (stopped) return;
    if (running) { again = true; return; }
    clearTimeout(timer);
    running = read()
      .catch((error: unknown) => trouble('local', `reservations: cannot compare with the partner's: ${(error as Error).message}`))
      .finally(() => {
        running = undefined;
        if (again) { again = false; run(); } else schedule();
      });
  }
  run();
  return {
    trigger: run,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
