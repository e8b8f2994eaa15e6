import { filesOf, type Paths } from './paths.js';
import { zonesOf, type SetupSettings } from './settings.js';
import type { TsigKey } from './tsig.js';
import { isDnsPrimary } from './ha.js';

const q = (text: string) => JSON.stringify(text);

/**
 * knot.conf. Persistence: DDNS changes go to the journal (LMDB, `robust` mode: synced to
 * disk) before Knot answers the update, so an update Kea saw acknowledged survives a
 * restart and a power cut; the zone file is rewritten right after each change
 * (`zonefile-sync: 0`), so it is always current for people, backups and vizone;
 * `zonefile-load: difference` applies a hand edit as a change on top of the journal (the
 * combinations vizone was measured with are in ARCHITECTURE.md).
 */
export function knotConfig(s: SetupSettings, paths: Paths, key: TsigKey, xfrKey?: TsigKey): string {
  const files = filesOf(paths);
  const pair = s.ha && xfrKey ? pairSections(s, xfrKey) : undefined;
  const lines = [
    '# Written by kea-knot setup. Knot answers for the LAN domain and its reverse zones;',
    '# kea-dhcp-ddns updates them with the TSIG key below (this file is readable by root and knot only).',
    'server:',
    `    rundir: ${q(paths.KNOT_RUN_DIR)}`,
    ...(s.knotUser ? [`    user: ${s.knotUser}:${s.knotUser}`] : []),
    `    listen: [ 0.0.0.0@${s.dnsPort}, ::@${s.dnsPort} ]`,
    '',
    'log:',
    '  - target: stdout',
    '    any: info',
    '',
    'database:',
    `    storage: ${q(paths.KNOT_LIB_DIR)}`,
    '    journal-db-mode: robust',
    '',
    'key:',
    ...[key, ...(xfrKey && s.ha ? [xfrKey] : [])].flatMap((k) => [`  - id: ${k.name}`, '    algorithm: hmac-sha256', `    secret: ${k.secret}`]),
    '',
    ...(pair ? ['remote:', ...pair.remote, ''] : []),
    'acl:',
    '  - id: ddns-update',
    `    key: ${key.name}`,
    '    action: update',
    ...(pair?.acl ?? []),
    '',
    'template:',
    '  - id: default',
    `    storage: ${q(files.zonesDir)}`,
    '    file: "%s.zone"',
    '    semantic-checks: on',
    '    journal-content: changes',
    '    zonefile-sync: 0',
    '    zonefile-load: difference',
    '',
    'zone:',
    ...zonesOf(s).flatMap((zone) => [`  - domain: ${zone}.`, ...(pair?.zone ?? ['    acl: ddns-update'])]),
    '',
  ];
  return lines.join('\n');
}

/**
 * A pair: the first peer is the primary, sending NOTIFY to the secondary, which transfers
 * (IXFR) with the transfer key. An update that reaches the secondary is forwarded by Knot
 * to the primary, so either node accepts DDNS while the primary is up.
 */
function pairSections(s: SetupSettings, xfr: TsigKey) {
  const ha = s.ha!;
  const other = ha.peers.find((p) => p.name !== ha.thisName)!;
  if (isDnsPrimary(ha)) {
    return {
      remote: ['  - id: secondary', `    address: ${other.address}@${s.dnsPort}`, `    key: ${xfr.name}`],
      acl: ['  - id: transfer', `    address: ${other.address}`, `    key: ${xfr.name}`, '    action: transfer'],
      zone: ['    acl: [ ddns-update, transfer ]', '    notify: secondary'],
    };
  }
  return {
    remote: ['  - id: primary', `    address: ${other.address}@${s.dnsPort}`, `    key: ${xfr.name}`],
    acl: ['  - id: notify', `    address: ${other.address}`, `    key: ${xfr.name}`, '    action: notify'],
    // A NOTIFY sent while this node was down is lost: checking the primary's SOA every
    // 10 s (a tiny query) bounds how long names made meanwhile take to arrive here.
    zone: ['    master: primary', '    acl: [ ddns-update, notify ]', '    refresh-max-interval: 10'],
  };
}

/** A date-based first serial, so a hand edit later can follow the YYYYMMDDnn habit. */
export function initialSerial(now = new Date()): number {
  return Number(`${now.toISOString().slice(0, 10).replaceAll('-', '')}01`);
}

/** The zone files Knot starts from: SOA and NS, and the name servers' own names in the domain. */
export function zoneFiles(s: SetupSettings, serial = initialSerial()): Map<string, string> {
  // A pair: ns1 is the primary, ns2 the secondary; both files are the same on both nodes.
  const servers = s.ha ? s.ha.peers.map((p) => p.address) : [s.address];
  const names = servers.map((_, i) => `ns${i + 1}`);
  const soa = (zone: string) => [
    `$ORIGIN ${zone}.`,
    '$TTL 3600',
    `@ SOA ns1.${s.domain}. hostmaster.${s.domain}. ( ${serial} 3600 900 1209600 300 )`,
    ...names.map((name) => `@ NS ${name}.${s.domain}.`),
  ];
  const files = new Map<string, string>();
  for (const zone of zonesOf(s)) {
    const glue = zone === s.domain ? servers.map((address, i) => `${names[i]} A ${address}`) : [];
    files.set(`${zone}.zone`, [...soa(zone), ...glue, ''].join('\n'));
  }
  return files;
}
