import { keaCommand } from './control.js';

/** HA states in which a server answers DHCP clients; the rest (waiting, syncing, ready, terminated...) do not. */
const SERVING = new Set(['load-balancing', 'hot-standby', 'partner-down', 'partner-in-maintenance', 'passive-backup']);

export interface HaView {
  readonly mode: string;
  /** This server's HA state. */
  readonly state: string;
  readonly serving: boolean;
  /** What this server believes of its partner (Kea's own view, from status-get). */
  readonly partner: { readonly state: string | null; readonly inTouch: boolean | null; readonly ageSeconds: number | null };
}

interface StatusGet {
  'high-availability'?: {
    'ha-mode'?: string;
    'ha-servers'?: {
      local?: { state?: string };
      remote?: { 'last-state'?: string; 'in-touch'?: boolean; age?: number };
    };
  }[];
}

/** The HA view from Kea's status-get; null when the daemon runs no HA. Throws when Kea does not answer. */
export async function readHaStatus(socket: string, timeoutMs = 2000): Promise<HaView | null> {
  const answer = await keaCommand(socket, 'status-get', undefined, timeoutMs);
  const ha = (answer.arguments as StatusGet | undefined)?.['high-availability']?.[0];
  if (!ha) return null;
  const state = ha['ha-servers']?.local?.state ?? 'unknown';
  const remote = ha['ha-servers']?.remote;
  return {
    mode: ha['ha-mode'] ?? 'unknown',
    state,
    serving: SERVING.has(state),
    partner: { state: remote?.['last-state'] ?? null, inTouch: remote?.['in-touch'] ?? null, ageSeconds: remote?.age ?? null },
  };
}
