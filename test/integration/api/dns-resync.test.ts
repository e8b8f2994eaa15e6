// POST /v1/dns/resync against real kea-dhcp4 daemons in loopback mode (UDP sockets on lo,
// their own ports): which leases are re-sent, which skipped, and what a daemon that
// cannot re-send is told to fix.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callApi } from '../../../src/client/api-client.js';
import { keaCommand } from '../../../src/kea/control.js';
import { LEASE_CMDS_HOOK } from '../../../src/setup/ha.js';
import { findHooksDir } from '../../../src/setup/settings.js';
import { byMsg, startSupervisor, type SupervisorHandle } from '../../helpers/supervisor-process.js';

let dir: string;
let sup: SupervisorHandle;

/** A kea-dhcp4 service on lo; DDNS on (to a port nobody listens on: the updates are only queued). */
async function keaService(name: string, port: number, leaseCmds: boolean): Promise<string> {
  const socket = path.join(dir, `${name}.sock`);
  await writeFile(path.join(dir, `${name}.json`), JSON.stringify({
    Dhcp4: {
      'interfaces-config': { interfaces: ['lo'], 'dhcp-socket-type': 'udp' },
      'control-socket': { 'socket-type': 'unix', 'socket-name': socket },
      'lease-database': { type: 'memfile', persist: false },
      'multi-threading': { 'enable-multi-threading': false },
      'hooks-libraries': leaseCmds ? [{ library: path.join(findHooksDir([LEASE_CMDS_HOOK])!, LEASE_CMDS_HOOK) }] : [],
      'dhcp-ddns': { 'enable-updates': true, 'server-ip': '127.0.0.1', 'server-port': port + 2 },
      'ddns-qualifying-suffix': 'home.test.',
      subnet4: [{ id: 1, subnet: '127.0.0.0/8', pools: [{ pool: '127.0.10.1-127.0.10.100' }] }],
      loggers: [{ name: 'kea-dhcp4', output_options: [{ output: 'stdout' }], severity: 'INFO' }],
    },
  }));
  return [
    `name: ${name}`,
    `command: [kea-dhcp4, -c, ${JSON.stringify(path.join(dir, `${name}.json`))}, -p, "${port}", -P, "${port + 1}"]`,
    `environment: {KEA_PIDFILE_DIR: ${JSON.stringify(dir)}, KEA_LOCKFILE_DIR: ${JSON.stringify(dir)}}`,
    `ready: {socket: ${JSON.stringify(socket)}}`,
    `kea_control_socket: ${JSON.stringify(socket)}`,
    '',
  ].join('\n');
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'kk-resync-'));
  // Ports of this run only.
  const port = 20_000 + Math.floor(Math.random() * 6_000) * 6;
  sup = await startSupervisor({ 'with-hook.yaml': await keaService('with-hook', port, true), 'without-hook.yaml': await keaService('without-hook', port + 3, false) });
  await sup.waitFor(byMsg('with-hook', /is ready/), 20_000);
  await sup.waitFor(byMsg('without-hook', /is ready/), 20_000);
  const socket = path.join(dir, 'with-hook.sock');
  const add = (args: Record<string, unknown>) => keaCommand(socket, 'lease4-add', { 'hw-address': `1a:1b:1c:1d:1e:${String(args['ip-address']).slice(-2)}`, ...args });
  await add({ 'ip-address': '127.0.10.11', hostname: 'box.home.test.', 'fqdn-fwd': true, 'fqdn-rev': true });
  await add({ 'ip-address': '127.0.10.12' }); // no name
  await add({ 'ip-address': '127.0.10.13', hostname: 'quiet.home.test.' }); // a name Kea keeps out of DNS
});

afterAll(async () => {
  await sup?.cleanup();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('POST /v1/dns/resync', () => {
  it('re-sends leases with a name in DNS, skips the others, and says which hook a daemon lacks', async () => {
    const response = await callApi<{ ok: boolean; daemons: { service: string }[] }>({ socket: sup.socket }, 'POST', '/v1/dns/resync');
    expect(response.status).toBe(502);
    const byService = Object.fromEntries(response.body.daemons.map((d) => [d.service, d]));
    expect(byService['with-hook']).toEqual({ service: 'with-hook', family: 4, leases: 3, resent: 1, skipped: 2, failed: 0, failures: [] });
    expect(byService['without-hook']).toMatchObject({
      service: 'without-hook', resent: 0,
      error: 'without-hook does not know lease4-get-all: add libdhcp_lease_cmds.so to Dhcp4 hooks-libraries in its configuration, then reload it',
    });
    expect(response.body.ok).toBe(false);
    // Kea queued the update for the DDNS daemon.
    await sup.waitFor((r) => r.service === 'with-hook' && /LEASE_CMDS_RESEND_DDNS4 .*127\.0\.10\.11/.test(r.msg));
  });
});
