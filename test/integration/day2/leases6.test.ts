// DHCPv6 leases in the listing: the product's services.d with kea-dhcp6 switched on, real
// Kea and Knot in a server namespace, perfdhcp as the client in another (-6: one client
// sending a Client FQDN option, so Kea also publishes its AAAA record through DDNS; -4 as
// a relay for an IPv4 lease).
import { readFile, writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LeaseListing } from '../../../src/kea/leases.js';
import { createLan, dig, perfdhcp, until, type Host, type Lan } from '../../helpers/netns.js';
import { removeNode, stackServer, type StackNode } from '../../helpers/stack.js';

const DOMAIN = 'six.test';
const PREFIX = '2001:db8:95::/64';
// Client FQDN (option 39): flags S (the server updates AAAA), then "pc6" as a partial name
// (no final empty label), which Kea qualifies with the domain.
const FQDN = '39,0103706336';
let lan: Lan;
let server: StackNode;
let client: Host;

/** Waits until eth0's IPv6 link-local address has passed duplicate address detection. */
const linkLocalReady = (host: Host) => until(async () => {
  const shown = await lan.exec(host, ['ip', '-6', 'addr', 'show', 'dev', 'eth0', 'scope', 'link']);
  return shown.stdout.includes('inet6 fe80:') && !shown.stdout.includes('tentative');
}, 10_000, `${host.ns}'s IPv6 link-local address`);

const listing = async (...args: string[]) => {
  const result = await server.run(['kea-knot', 'leases', '--json', ...args]);
  if (result.code !== 0) throw new Error(`kea-knot leases: ${result.stderr}`);
  return JSON.parse(result.stdout) as LeaseListing;
};

beforeAll(async () => {
  lan = await createLan({ subnet: '10.95.0.0/16' });
  server = await stackServer(lan, 95, DOMAIN, { KEA_KNOT_DHCP6_ENABLED: 'true', KEA_KNOT_DHCP6_SUBNET: PREFIX });
  client = await lan.addHost('client', '10.95.0.9/16');
  await Promise.all([linkLocalReady(server.host), linkLocalReady(client)]);
  await server.start();
}, 90_000);

afterAll(async () => {
  await removeNode(server);
  await lan?.destroy();
}, 60_000);

describe('DHCPv6 leases', () => {
  it('lists the address kea-dhcp6 gave, with its name in DNS as AAAA, and cannot pin it', async () => {
    // A DUID-LLT (type 1, Ethernet, a time) that carries eth0's MAC, from which Kea learns the lease's MAC.
    const duid = `000100010000a5a5${client.mac.replaceAll(':', '')}`;
    const run = await lan.exec(client, ['perfdhcp', '-6', '-l', 'eth0', '-b', `duid=${duid}`, '-r', '1', '-n', '1', '-R', '1', '-p', '5', '-W', '1000000', '-o', FQDN], { timeoutMs: 20_000 });
    const six = async () => (await listing()).leases.filter((l) => l.address.includes(':'));
    const [lease] = await until(async () => {
      const leases = await six();
      return leases.length === 1 && leases[0]!.dns === true ? leases : undefined;
    }, 15_000, `the DHCPv6 lease, its name in DNS (perfdhcp exited ${run.code}: ${run.stderr.trim().slice(-300)})`);
    expect(lease).toMatchObject({ hostname: `pc6.${DOMAIN}`, state: 'active', node: null, dns: true });
    expect(lease!.address).toMatch(/^2001:db8:95::1[0-9a-f]{3}$/);
    expect(lease!.mac).toBe(client.mac.toLowerCase());
    expect(await dig(lan, server.host, '127.0.0.1', `pc6.${DOMAIN}`, 'AAAA')).toEqual([lease!.address]);
    // Found by search like an IPv4 lease; the human table lists it too.
    expect((await listing('--search', 'pc6')).leases.map((l) => l.address)).toEqual([lease!.address]);
    expect((await server.run(['kea-knot', 'leases'])).stdout).toContain(lease!.address);
    // Reservations are IPv4: pinning it is refused by name, nothing changed.
    const pin = await server.run(['kea-knot', 'reserve', '--from-lease', lease!.address]);
    expect(pin.code).toBe(64);
    expect(pin.stderr).toContain('is not an IPv4 address');
    expect(JSON.parse((await server.run(['kea-knot', 'reservations', '--json'])).stdout)).toEqual({ reservations: [] });
  }, 60_000);

  it('still lists the IPv4 leases when kea-dhcp6 serves but cannot list its own, and says why', async () => {
    // kea-dhcp6 without lease_cmds: it serves (ready, port 547 held) but lease6-get-all is unknown.
    const conf = `${server.dir}/etc/kea/kea-dhcp6.conf`;
    const config = JSON.parse(await readFile(conf, 'utf8')) as { Dhcp6: { 'hooks-libraries'?: unknown[] } };
    config.Dhcp6['hooks-libraries'] = [];
    await writeFile(conf, JSON.stringify(config, null, 2));
    const reload = await server.run(['kea-dhcp6-reload']);
    expect(reload.code, reload.stderr).toBe(0);
    // perfdhcp 2.2 stops counting at -n before the last ACK arrives: the listing is the proof.
    const v4 = await perfdhcp(lan, client, { rate: 1, clients: 1, seconds: 2 });
    const body = await until(async () => {
      const { code, stdout } = await server.run(['kea-knot', 'leases', '--json']);
      expect(code).toBe(0);
      const answer = JSON.parse(stdout) as LeaseListing;
      return answer.leases.length > 0 ? answer : undefined;
    }, 10_000, `the IPv4 lease listed (perfdhcp: ${v4.output.slice(-200)})`);
    expect(body.dhcp6).toMatchObject({ checked: false, error: expect.stringMatching(/kea-dhcp6 refused lease6-get-all .*libdhcp_lease_cmds\.so/) });
    expect(body.dns).toEqual({ checked: true });
    expect(body.leases.map((l) => l.address)).toEqual([expect.stringMatching(/^10\.95\.[12]\.\d+$/)]);
    expect((await server.run(['kea-knot', 'leases'])).stdout).toContain('DHCPv6 leases not listed: kea-dhcp6 refused lease6-get-all');
  }, 30_000);
});
