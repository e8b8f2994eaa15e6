// A pair: static names given on either node reach both (the secondary sends them to the
// primary as a TSIG-signed update; the primary sends them back by NOTIFY/IXFR), a node
// whose Knot was down catches up, and leases say which node's pool half gave them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LeaseView } from '../../../src/kea/leases.js';
import { createLan, dhcpLease, dig, until, type Lan } from '../../helpers/netns.js';
import { removeNode, stackPair, type StackNode } from '../../helpers/stack.js';

const DOMAIN = 'pair2.test';
let lan: Lan;
let n1: StackNode;
let n2: StackNode;

const reverse = (ip: string) => `${ip.split('.').reverse().join('.')}.in-addr.arpa`;
const a = (node: StackNode, name: string) => dig(lan, node.host, '127.0.0.1', `${name}.${DOMAIN}`, 'A');
const ptr = (node: StackNode, ip: string) => dig(lan, node.host, '127.0.0.1', reverse(ip), 'PTR');
const cli = (node: StackNode, ...argv: string[]) => node.run(['kea-knot', ...argv]);
/** Both nodes answer `name` with `address` (and the PTR back), polled: the secondary gets it by transfer. */
async function onBoth(name: string, address: string): Promise<void> {
  for (const node of [n1, n2]) {
    await until(async () => (await a(node, name)).includes(address), 15_000, `${name} -> ${address} on ${node.host.ns}`);
    await until(async () => (await ptr(node, address)).includes(`${name}.${DOMAIN}.`), 15_000, `PTR of ${address} on ${node.host.ns}`);
  }
}

beforeAll(async () => {
  lan = await createLan({ subnet: '10.84.0.0/16' });
  [n1, n2] = await stackPair(lan, 84, DOMAIN, 'another-shared-secret-for-a-pair');
  await Promise.all([n1.start(), n2.start()]);
}, 90_000);

afterAll(async () => {
  await removeNode(n1);
  await removeNode(n2);
  await lan?.destroy();
}, 60_000);

describe('static names in a pair', () => {
  it('takes a name given on the secondary to the primary, and both answer it', async () => {
    const added = await cli(n2, 'dns', 'add', 'nas', '10.84.0.70');
    expect(added.code, added.stderr).toBe(0);
    await onBoth('nas', '10.84.0.70');
    for (const node of [n1, n2]) {
      await until(async () => JSON.parse((await cli(node, 'dns', '--json')).stdout).names.length === 1, 5000, `nas listed on ${node.host.ns}`);
    }
  });

  it('brings a name given on the primary to a secondary whose Knot was down', async () => {
    expect((await cli(n2, 'stop', 'knot')).code).toBe(0);
    try {
      const added = await cli(n1, 'dns', 'add', 'tv', '10.84.0.71');
      expect(added.code, added.stderr).toBe(0);
    } finally {
      expect((await cli(n2, 'start', 'knot')).code).toBe(0);
    }
    await onBoth('tv', '10.84.0.71');
  });

  it('refuses on the secondary a name a DHCP client holds', async () => {
    const client = await lan.addHost('laptop', '');
    const { ip } = await dhcpLease(lan, client, { hostname: 'laptop' });
    await until(async () => (await a(n2, 'laptop')).includes(ip), 15_000, 'the laptop on the secondary');
    const result = await cli(n2, 'dns', 'add', 'laptop', '10.84.0.72');
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/laptop\.pair2\.test belongs to a DHCP client/);
    expect(await a(n1, 'laptop')).toEqual([ip]);
    // Each node shows the lease with the node whose half of the pool holds it.
    const owner = Number(ip.split('.')[2]) === 1 ? 'pi1' : 'pi2';
    for (const node of [n1, n2]) {
      const leases = JSON.parse((await cli(node, 'leases', '--json')).stdout) as { leases: LeaseView[]; ha: boolean };
      expect(leases.ha).toBe(true);
      expect(leases.leases.find((l) => l.address === ip)).toMatchObject({ node: owner, dns: true, hostname: `laptop.${DOMAIN}` });
    }
  });

  it('removes a name from the secondary on both', async () => {
    const removed = await cli(n2, 'dns', 'remove', 'nas');
    expect(removed.code, removed.stderr).toBe(0);
    for (const node of [n1, n2]) {
      await until(async () => (await a(node, 'nas')).length === 0 && (await ptr(node, '10.84.0.70')).length === 0, 15_000, `nas gone on ${node.host.ns}`);
    }
    expect(await a(n2, 'tv')).toEqual(['10.84.0.71']);
  });
});
