import type { Paths } from './paths.js';
import { filesOf } from './paths.js';
import { reverseZone, reverseZone6, type SetupSettings } from './settings.js';
import type { TsigKey } from './tsig.js';
import path from 'node:path';
import { setupReservations, setupUserContext } from '../kea/reservations-apply.js';
import { HA_USER, haHook, haPassword, LEASE_CMDS_HOOK, primaryPeer, splitPools, thisPeer } from './ha.js';

/** Ports between the daemons: D2's on loopback; the agent's too, except in a pair, where the peer reaches it. */
export const DDNS_PORT = 53001;
export const AGENT_PORT = 8000;

/**
 * Each daemon's lines on stdout, at INFO; its command channel only from WARN: the
 * supervisor's health checks, statistics and reservation sync, and HA heartbeats, would
 * otherwise log a COMMAND_RECEIVED line every few seconds.
 */
const logger = (name: string) => [
  { name, output_options: [{ output: 'stdout' }], severity: 'INFO', debuglevel: 0 },
  { name: `${name}.commands`, output_options: [{ output: 'stdout' }], severity: 'WARN', debuglevel: 0 },
];

/**
 * Settings whose defaults changed between Kea 2.2 (tests) and 2.6 (the image), written out so
 * both behave the same: multi-threading is on by default from 2.4.
 */
const VERSION_NEUTRAL = { 'multi-threading': { 'enable-multi-threading': false } };

/** How kea-dhcp4 and kea-dhcp6 feed the DDNS daemon: the same for both. */
function ddnsClient(s: SetupSettings) {
  return {
    // Kea, not the client, keeps DNS in step with the leases.
    'dhcp-ddns': { 'enable-updates': true, 'server-ip': '127.0.0.1', 'server-port': DDNS_PORT, 'max-queue-size': 2048 },
    'ddns-send-updates': true,
    'ddns-override-client-update': true,
    'ddns-override-no-update': true,
    'ddns-replace-client-name': 'when-not-present',
    'ddns-generated-prefix': 'dhcp',
    'ddns-qualifying-suffix': `${s.domain}.`,
    // DHCID records: a name another client holds is not taken over.
    ...(s.kea.conflictResolutionMode ? { 'ddns-conflict-resolution-mode': 'check-with-dhcid' } : { 'ddns-use-conflict-resolution': true }),
    // Names missed while Knot was down, frozen by vizone, or unreachable catch up at renewal.
    'ddns-update-on-renew': true,
    // Client names become valid DNS labels (letters, digits, inner hyphens): everything else
    // is dropped (café -> caf), and so are hyphens at either end of a label (-pc- -> pc).
    // Kea matches this POSIX extended regex (the same in 2.2 to 3.0) against a hostname
    // option whole and against an FQDN option label by label. A name with nothing valid
    // left comes out as the domain itself, which DNS refuses (conflict resolution: the
    // apex holds no DHCID): such a client gets a lease and no name.
    'hostname-char-set': '[^A-Za-z0-9.-]|^-+|-+$|-+\\.|\\.-+',
    'hostname-char-replacement': '',
  };
}

/** lease_cmds always (lease4-get-all, lease4-resend-ddns; HA syncs with it), then a pair's HA hook. */
function hooks(s: SetupSettings, paths: Paths, v4: boolean) {
  const leaseCmds = { library: path.join(s.hooksDir, LEASE_CMDS_HOOK) };
  return { 'hooks-libraries': v4 && s.ha ? [leaseCmds, haHook(s, AGENT_PORT, filesOf(paths).haPassword)] : [leaseCmds] };
}

/**
 * The control channel: the unix socket the supervisor uses; on Kea 3.0 in a pair also
 * kea-dhcp4's own HTTP socket on this node's address, where the partner's HA hook
 * connects with the pair's credentials (Kea 2.x: through the control agent instead).
 */
function controlSockets(s: SetupSettings, paths: Paths, unixSocket: string, v4: boolean) {
  const unix = { 'socket-type': 'unix', 'socket-name': unixSocket };
  if (!s.kea.ownHttpSocket) return { 'control-socket': unix };
  const http = v4 && s.ha ? [{
    'socket-type': 'http', 'socket-address': thisPeer(s.ha).address, 'socket-port': AGENT_PORT,
    authentication: { type: 'basic', realm: 'kea-knot', clients: [{ user: HA_USER, 'password-file': filesOf(paths).haPassword }] },
  }] : [];
  return { 'control-sockets': [unix, ...http] };
}

export function dhcp4Config(s: SetupSettings, paths: Paths): object {
  const files = filesOf(paths);
  return {
    Dhcp4: {
      'interfaces-config': {
        interfaces: [s.interface],
        // Raw sockets see clients that have no address yet, on any host network.
        'dhcp-socket-type': 'raw',
        // The interface may come up after the container starts (macvlan, slow links).
        'service-sockets-max-retries': 60,
        'service-sockets-retry-wait-time': 5000,
      },
      ...controlSockets(s, paths, files.dhcp4Socket, true),
      'lease-database': { type: 'memfile', persist: true, name: files.leases4, 'lfc-interval': 3600 },
      ...hooks(s, paths, true),
      ...VERSION_NEUTRAL,
      'valid-lifetime': s.leaseSeconds,
      'renew-timer': Math.floor(s.leaseSeconds / 2),
      'rebind-timer': Math.floor((s.leaseSeconds * 7) / 8),
      ...ddnsClient(s),
      'option-data': [
        { name: 'domain-name-servers', data: s.dnsServers.join(', ') },
        { name: 'domain-name', data: s.domain },
        { name: 'domain-search', data: s.domain },
      ],
      subnet4: [{
        id: 1,
        subnet: s.subnet,
        pools: s.ha
          ? splitPools(s.pools, s.ha).map(({ pool, 'client-class': owner }) => ({ pool, ...(s.kea.classesList ? { 'client-classes': [owner] } : { 'client-class': owner }) }))
          : s.pools.map((p) => ({ pool: `${p.start} - ${p.end}` })),
        'option-data': [{ name: 'routers', data: s.router }],
        reservations: setupReservations(filesOf(paths).reservationsStore, s.reservations, s.subnet),
        // The reservations' revision stays visible to the partner after setup runs again.
        ...setupUserContext(files.reservations4),
      }],
      loggers: logger('kea-dhcp4'),
    },
  };
}

export function dhcp6Config(s: SetupSettings, paths: Paths): object | undefined {
  if (!s.dhcp6) return undefined;
  const files = filesOf(paths);
  return {
    Dhcp6: {
      'interfaces-config': { interfaces: [s.interface], 'service-sockets-max-retries': 60, 'service-sockets-retry-wait-time': 5000 },
      ...controlSockets(s, paths, files.dhcp6Socket, false),
      'lease-database': { type: 'memfile', persist: true, name: files.leases6, 'lfc-interval': 3600 },
      // The server DUID file goes beside the leases, not into a compiled-in /var/lib/kea.
      ...(s.kea.dataDirFromEnv ? {} : { 'data-directory': paths.KEA_LIB_DIR }),
      ...hooks(s, paths, false),
      ...VERSION_NEUTRAL,
      'valid-lifetime': s.leaseSeconds,
      'preferred-lifetime': Math.floor((s.leaseSeconds * 3) / 4),
      ...ddnsClient(s),
      'option-data': [{ name: 'domain-search', data: s.domain }],
      subnet6: [{ id: 1, subnet: s.dhcp6.subnet, interface: s.interface, pools: s.dhcp6.pools.map((p) => ({ pool: `${p.start} - ${p.end}` })) }],
      loggers: logger('kea-dhcp6'),
    },
  };
}

export function ddnsConfig(s: SetupSettings, paths: Paths, key: TsigKey): object {
  const files = filesOf(paths);
  // In a pair every update goes to the DNS primary, which NOTIFYs the secondary.
  const server = s.ha ? primaryPeer(s.ha).address : '127.0.0.1';
  const domainFor = (name: string) => ({ name: `${name}.`, 'key-name': key.name, 'dns-servers': [{ 'ip-address': server, port: s.dnsPort }] });
  return {
    DhcpDdns: {
      'ip-address': '127.0.0.1',
      port: DDNS_PORT,
      // Knot stalls an update now and then for up to ~0.8 s; 2 s avoids needless retries.
      'dns-server-timeout': 2000,
      ...controlSockets(s, paths, files.ddnsSocket, false),
      'tsig-keys': [{ name: key.name, algorithm: 'HMAC-SHA256', ...(s.kea.secretFiles ? { 'secret-file': files.tsigSecret } : { secret: key.secret }) }],
      'forward-ddns': { 'ddns-domains': [domainFor(s.domain)] },
      'reverse-ddns': { 'ddns-domains': [reverseZone(s.subnet), ...(s.dhcp6 ? [reverseZone6(s.dhcp6.subnet)] : [])].map(domainFor) },
      loggers: logger('kea-dhcp-ddns'),
    },
  };
}

export function agentConfig(s: SetupSettings, paths: Paths): object {
  const files = filesOf(paths);
  const sock = (name: string) => ({ 'socket-type': 'unix', 'socket-name': name });
  return {
    'Control-agent': {
      // Alone: loopback only. In a pair the peer must reach it, so it listens on this
      // node's own address (not every address) and requires the pair's credentials (an
      // open agent lets anyone reconfigure DHCP).
      'http-host': s.ha ? thisPeer(s.ha).address : '127.0.0.1',
      'http-port': AGENT_PORT,
      ...(s.ha ? { authentication: { type: 'basic', realm: 'kea-knot', clients: [{ user: HA_USER, password: haPassword(s.ha) }] } } : {}),
      'control-sockets': {
        dhcp4: sock(files.dhcp4Socket),
        ...(s.dhcp6 ? { dhcp6: sock(files.dhcp6Socket) } : {}),
        d2: sock(files.ddnsSocket),
      },
      loggers: logger('kea-ctrl-agent'),
    },
  };
}
