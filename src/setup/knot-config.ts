import { filesOf, type Paths } from './paths.js';
import { zonesOf, type SetupSettings } from './settings.js';
import type { TsigKey } from './tsig.js';

const q = (text: string) => JSON.stringify(text);

/**
 * knot.conf. Persistence: DDNS changes go to the journal (LMDB, `robust` mode: synced to
 * disk) before Knot answers the update, so an update Kea saw acknowledged survives a
 * restart and a power cut; the zone file is rewritten right after each change
 * (`zonefile-sync: 0`), so it is always current for people, backups and vizone;
 * `zonefile-load: difference` applies a hand edit as a change on top of the journal (the
 * combinations vizone was measured with are in ARCHITECTURE.md).
 */
export function knotConfig(s: SetupSettings, paths: Paths, key: TsigKey): string {
  const files = filesOf(paths);
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
    `  - id: ${key.name}`,
    '    algorithm: hmac-sha256',
    `    secret: ${key.secret}`,
    '',
    'acl:',
    '  - id: ddns-update',
    `    key: ${key.name}`,
    '    action: update',
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
    ...zonesOf(s).flatMap((zone) => [`  - domain: ${zone}.`, '    acl: ddns-update']),
    '',
  ];
  return lines.join('\n');
}

/** A date-based first serial, so a hand edit later can follow the YYYYMMDDnn habit. */
export function initialSerial(now = new Date()): number {
  return Number(`${now.toISOString().slice(0, 10).replaceAll('-', '')}01`);
}

/** The zone files Knot starts from: SOA and NS, and the server's own name in the domain. */
export function zoneFiles(s: SetupSettings, serial = initialSerial()): Map<string, string> {
  const ns = `ns1.${s.domain}.`;
  const soa = (zone: string) => [
    `$ORIGIN ${zone}.`,
    '$TTL 3600',
    `@ SOA ${ns} hostmaster.${s.domain}. ( ${serial} 3600 900 1209600 300 )`,
    `@ NS ${ns}`,
  ];
  const files = new Map<string, string>();
  for (const zone of zonesOf(s)) {
    const extra = zone === s.domain ? ['ns1 A ' + s.address] : [];
    files.set(`${zone}.zone`, [...soa(zone), ...extra, ''].join('\n'));
  }
  return files;
}
