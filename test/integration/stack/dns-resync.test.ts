// Names of leases given while DNS was down come back with `kea-knot dns resync`: the
// product's services.d in a server namespace, real Kea and Knot, and a DHCP client in
// another namespace on the same bridge. (Kea sends no update for leases it already
// holds when it starts, so a restart would not bring them back.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLan, dhcpLease, dig, until, type Lan } from '../../helpers/netns.js';
import { removeNode, stackServer, type StackNode } from '../../helpers/stack.js';

const DOMAIN = 'home.test';
let lan: Lan;
let server: StackNode;

const reverse = (ip: string) => `${ip.split('.').reverse().join('.')}.in-addr.arpa`;
const a = (name: string) => dig(lan, server.host, '127.0.0.1', `${name}.${DOMAIN}`, 'A');
const ptr = (ip: string) => dig(lan, server.host, '127.0.0.1', reverse(ip), 'PTR');

beforeAll(async () => {
  lan = await createLan({ subnet: '10.78.0.0/16' });
  server = await stackServer(lan, 78, DOMAIN);
  await server.start();
}, 60_000);

afterAll(async () => {
  await removeNode(server);
  await lan?.destroy();
}, 60_000);

describe('kea-knot dns resync', () => {
  it('puts back the A and PTR records of leases given while Knot was stopped', async () => {
    const stop = await server.run(['kea-knot', 'stop', 'knot']);
    expect(stop.code, stop.stderr).toBe(0);
    const ddns = (pattern: RegExp, from = 0) => server.records.slice(from).find((r) => r.service === 'kea-dhcp-ddns' && pattern.test(r.msg));
    const { ip } = await dhcpLease(lan, await lan.addHost('printer', ''), { hostname: 'printer' });
    // The DDNS daemon tries a few times, then gives up on the update for good.
    const tried = await until(async () => ddns(/IO error sending a forward mapping add for FQDN printer\./), 10_000, 'kea-dhcp-ddns to try the printer');
    const request = /Request ID (\w+)/.exec(tried.msg)![1]!;
    await until(async () => ddns(new RegExp(`DHCP_DDNS_ADD_FAILED DHCP_DDNS Request ID ${request}`)), 20_000, 'kea-dhcp-ddns to give up on the printer');
    const start = await server.run(['kea-knot', 'start', 'knot']);
    expect(start.code, start.stderr).toBe(0);
    expect(await a('printer')).toEqual([]);
    expect(await ptr(ip)).toEqual([]);

    const resync = await server.run(['kea-knot', 'dns', 'resync']);
    expect(resync.code, resync.stderr).toBe(0);
    expect(resync.stdout).toMatch(/^kea-dhcp4: 1 lease\(s\): 1 re-sent, 0 skipped \(no name in DNS\), 0 failed\n$/);
    // Knot stalls an update now and then: poll.
    await until(async () => (await a('printer')).includes(ip), 5000, `printer.${DOMAIN} -> ${ip}`);
    await until(async () => (await ptr(ip)).includes(`printer.${DOMAIN}.`), 5000, `PTR of ${ip}`);
  });

  it('leaves names that are already there as they are (conflict resolution takes the same client)', async () => {
    const before = await a('printer');
    const updated = server.records.length;
    const resync = await server.run(['kea-knot', 'dns', 'resync', '--json']);
    expect(resync.code, resync.stderr).toBe(0);
    expect(JSON.parse(resync.stdout)).toEqual({ ok: true, daemons: [{ service: 'kea-dhcp4', family: 4, leases: 1, resent: 1, skipped: 0, failed: 0, failures: [] }] });
    await until(async () => server.records.slice(updated).some((r) => r.service === 'kea-dhcp-ddns' && /DHCP_DDNS_ADD_SUCCEEDED/.test(r.msg)), 5000, 'kea-dhcp-ddns to finish the update');
    expect(await a('printer')).toEqual(before);
  });

  it('says when no Kea DHCP server is ready to re-send from', async () => {
    expect((await server.run(['kea-knot', 'stop', 'kea-dhcp4'])).code).toBe(0);
    try {
      const resync = await server.run(['kea-knot', 'dns', 'resync']);
      expect(resync.code).toBe(1);
      expect(resync.stderr).toMatch(/no Kea DHCP server is ready to re-send DNS updates .*start kea-dhcp4 or kea-dhcp6 first/);
    } finally {
      expect((await server.run(['kea-knot', 'start', 'kea-dhcp4'])).code).toBe(0);
    }
  });
});
