// A pair: reservations given on either node reach both running Keas and both stores (each
// node reads its partner's over the HA channel and takes a newer list whole), removals too,
// a node that was stopped catches up when it starts, and either node gives the reserved address.
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLan, dhcpLease, until, type Host, type Lan } from '../../helpers/netns.js';
import { removeNode, stackPair, type StackNode } from '../../helpers/stack.js';

const DOMAIN = 'pair3.test';
const PRINTER = { mac: '52:54:00:86:00:50', ip: '10.86.0.50', name: 'printer' };
const NAS = { mac: '52:54:00:86:00:51', ip: '10.86.0.51', name: 'nas' };
const LAPTOP_IP = '10.86.0.52';
let lan: Lan;
let n1: StackNode;
let n2: StackNode;
let laptop: Host;

const cli = (node: StackNode, ...argv: string[]) => node.run(['kea-knot', ...argv]);
const socket = (node: StackNode) => `${node.dir}/run/kea/kea4-ctrl-socket`;
const line = (r: { 'hw-address': string; 'ip-address': string; hostname?: string }) => `${r['hw-address']} ${r['ip-address']} ${r.hostname ?? ''}`.trim();

/** The reservations node's running kea-dhcp4 holds (config-get), as "mac ip name" lines. */
async function inKea(node: StackNode): Promise<string[]> {
  const result = await node.run(['kea-knot', 'kea-command', '--socket', socket(node), 'config-get']);
  if (result.code !== 0) throw new Error(`config-get on ${node.host.ns}: ${result.stderr}`);
  const list = (JSON.parse(result.stdout) as { Dhcp4: { subnet4: { reservations?: { 'hw-address': string; 'ip-address': string; hostname?: string }[] }[] } }).Dhcp4.subnet4[0]!.reservations ?? [];
  return list.map((r) => line({ ...r, hostname: r.hostname || undefined })).sort();
}
/** The node's store, as the same lines. */
const inStore = async (node: StackNode) => (JSON.parse(await readFile(`${node.dir}/etc/kea/kea-knot-reservations.json`, 'utf8')) as { reservations: { 'hw-address': string; 'ip-address': string; hostname?: string }[] }).reservations.map(line).sort();
/** Polled: the other node takes a change at its next read of its partner (every 10 s). */
const holds = (node: StackNode, expected: string[], what: string) => until(async () => JSON.stringify(await inKea(node)) === JSON.stringify([...expected].sort()), 30_000, `${what} in ${node.host.ns}'s kea-dhcp4`);

async function haState(node: StackNode): Promise<string> {
  const result = await node.run(['kea-knot', 'kea-command', '--socket', socket(node), 'status-get']);
  return (JSON.parse(result.stdout) as { 'high-availability': { 'ha-servers': { local: { state: string } } }[] })['high-availability'][0]!['ha-servers'].local.state;
}
const inState = (node: StackNode, state: string) => until(async () => (await haState(node).catch(() => '')) === state, 20_000, `${node.host.ns} ${state}`);

beforeAll(async () => {
  lan = await createLan({ subnet: '10.86.0.0/16' });
  [n1, n2] = await stackPair(lan, 86, DOMAIN, 'a-third-shared-secret-for-a-pair');
  laptop = await lan.addHost('laptop', '');
  await Promise.all([n1.start(), n2.start()]);
}, 90_000);

afterAll(async () => {
  await removeNode(n1);
  await removeNode(n2);
  await lan?.destroy();
}, 60_000);

describe('reservations in a pair', () => {
  it("takes reservations made on node 2 to node 1's running Kea and files", async () => {
    for (const r of [PRINTER, NAS]) {
      const added = await cli(n2, 'reserve', r.mac, r.ip, r.name);
      expect(added.code, added.stderr).toBe(0);
    }
    const both = [line({ 'hw-address': PRINTER.mac, 'ip-address': PRINTER.ip, hostname: PRINTER.name }), line({ 'hw-address': NAS.mac, 'ip-address': NAS.ip, hostname: NAS.name })];
    await holds(n1, both, 'the printer and the nas');
    expect(await inStore(n1)).toEqual(both);
    expect(JSON.parse((await cli(n1, 'reservations', '--json')).stdout)).toEqual(JSON.parse((await cli(n2, 'reservations', '--json')).stdout));
    expect(n1.records.some((r) => /reservations taken from pi2/.test(r.msg))).toBe(true);
  }, 45_000);

  it('removes on node 2 a reservation removed on node 1', async () => {
    const removed = await cli(n1, 'unreserve', NAS.mac);
    expect(removed.code, removed.stderr).toBe(0);
    const printer = [line({ 'hw-address': PRINTER.mac, 'ip-address': PRINTER.ip, hostname: PRINTER.name })];
    await holds(n2, printer, 'the printer alone');
    expect(await inStore(n2)).toEqual(printer);
  }, 45_000);

  it('brings a reservation made while node 2 was stopped to node 2 when it starts again', async () => {
    const outage = n1.records.length;
    const unreachable = () => n1.records.slice(outage).filter((r) => /cannot read pi2's/.test(r.msg));
    expect(await n2.stop()).toBe(0);
    await inState(n1, 'partner-down');
    const added = await cli(n1, 'reserve', laptop.mac, LAPTOP_IP, 'laptop');
    expect(added.code, added.stderr).toBe(0);
    // Node 1 says once that it cannot read node 2's, not at every attempt.
    await until(async () => unreachable().length > 0, 15_000, 'node 1 to note that pi2 is out of reach');
    // Alone, node 1 serves every client, the reserved one included.
    await inState(n1, 'partner-down');
    const lease = await dhcpLease(lan, laptop);
    expect(lease.ip).toBe(LAPTOP_IP);
    expect(lease.output).toContain('serverid=10.86.0.2');
    expect(unreachable()).toHaveLength(1);

    await n2.start();
    const expected = [line({ 'hw-address': PRINTER.mac, 'ip-address': PRINTER.ip, hostname: PRINTER.name }), line({ 'hw-address': laptop.mac, 'ip-address': LAPTOP_IP, hostname: 'laptop' })];
    await holds(n2, expected, 'the laptop');
    expect(await inStore(n2)).toEqual([...expected].sort());
    await until(async () => n1.records.slice(outage).some((r) => /in step with pi2 again/.test(r.msg)), 15_000, 'node 1 to reach pi2 again');
  }, 60_000);

  it('node 2 gives the laptop its reserved address too', async () => {
    expect((await cli(n1, 'stop', 'kea-dhcp4')).code).toBe(0);
    await inState(n2, 'partner-down');
    const lease = await dhcpLease(lan, laptop);
    expect(lease.ip).toBe(LAPTOP_IP);
    expect(lease.output).toContain('serverid=10.86.0.3');
  }, 30_000);
});
