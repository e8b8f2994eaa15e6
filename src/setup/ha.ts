import path from 'node:path';
import { fromInt, toInt } from './ipv4.js';
import type { HaPeer, HaSettings, Pool } from './settings.js';
import { deriveSecret } from './tsig.js';
import type { KeaFeatures } from './kea-version.js';

/** Kea's hook libraries, found in the hooks directory of this machine's architecture. */
export const LEASE_CMDS_HOOK = 'libdhcp_lease_cmds.so';
export const HA_HOOK = 'libdhcp_ha.so';

/** The user the peers' HA hooks present to each other's control agent. */
export const HA_USER = 'kea-ha';

/**
 * HA timers. fast: a dead peer is partner-down in ~1 s (measured 0.7-1.3 s), for tests
 * and quiet LANs. home: ~6-7 s, tolerant of a slow SD card or a busy Pi. Both decide
 * partner-down without waiting for unanswered clients (max-unacked-clients 0): a home
 * LAN may have too few clients for Kea's client-traffic analysis to ever conclude.
 */
export const HA_TIMERS = {
  fast: { 'heartbeat-delay': 500, 'max-response-delay': 1000, 'max-ack-delay': 250, 'max-unacked-clients': 0 },
  home: { 'heartbeat-delay': 2000, 'max-response-delay': 6000, 'max-ack-delay': 1000, 'max-unacked-clients': 0 },
} as const;

export const haPassword = (ha: HaSettings) => deriveSecret(ha.secret, 'kea-ha-password', 24).toString('hex');
export const thisPeer = (ha: HaSettings): HaPeer => ha.peers.find((p) => p.name === ha.thisName)!;
export const primaryPeer = (ha: HaSettings): HaPeer => ha.peers[0];
export const isDnsPrimary = (ha: HaSettings) => ha.thisName === ha.peers[0].name;


/** Each pool split in two halves, one per peer (client class HA_<name>), as load balancing needs. */
export function splitPools(pools: readonly Pool[], ha: HaSettings): { pool: string; 'client-class': string }[] {
  return pools.flatMap((p) => {
    const start = toInt(p.start);
    const end = toInt(p.end);
    const middle = start + Math.floor((end - start + 1) / 2) - 1;
    if (middle < start) return [{ pool: `${p.start} - ${p.end}`, 'client-class': `HA_${ha.peers[0].name}` }];
    return [
      { pool: `${p.start} - ${fromInt(middle)}`, 'client-class': `HA_${ha.peers[0].name}` },
      { pool: `${fromInt(middle + 1)} - ${p.end}`, 'client-class': `HA_${ha.peers[1].name}` },
    ];
  });
}

/**
 * kea-dhcp4's HA hook (it syncs leases through lease_cmds, which kea-config always loads
 * before it). Each peer's URL is its control agent (Kea 2.x) or its kea-dhcp4's own HTTP
 * socket (3.0), on the same port either way.
 */
export function haHook(s: { readonly ha?: HaSettings; readonly hooksDir: string; readonly kea: KeaFeatures }, port: number, passwordFile: string): object {
  const ha = s.ha!;
  const password = s.kea.secretFiles ? { 'basic-auth-password-file': passwordFile } : { 'basic-auth-password': haPassword(ha) };
  return {
    library: path.join(s.hooksDir, HA_HOOK),
    parameters: {
      'high-availability': [{
        'this-server-name': ha.thisName,
        mode: 'load-balancing',
        ...HA_TIMERS[ha.profile],
        // Off explicitly: the default changed in 2.4, and with it on kea-dhcp4 itself
        // would listen on the peer URL, clashing with the control agent.
        'multi-threading': { 'enable-multi-threading': false, 'http-dedicated-listener': false },
        peers: ha.peers.map((peer, index) => ({
          name: peer.name,
          url: `http://${peer.address}:${port}/`,
          role: index === 0 ? 'primary' : 'secondary',
          'auto-failover': true,
          'basic-auth-user': HA_USER,
          ...password,
        })),
      }],
    },
  };
}
