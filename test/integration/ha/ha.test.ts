// Two nodes, each its own `kea-knot supervise` in its own namespace, configured from the
// same settings except --ha-this: load-balanced DHCP, replicated DNS, failover and recovery.
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLan, dig, perfdhcp, until, type Host, type Lan } from '../../helpers/netns.js';
import { removeNode, stackPair, type StackNode } from '../../helpers/stack.js';
import { deriveSecret } from '../../../src/setup/tsig.js';

const DOMAIN = 'pair.test';
const SECRET = 'a-shared-secret-for-the-test-pair';
let lan: Lan;
let n1: StackNode;
let n2: StackNode;
let relay: Host;

interface Lease { 'ip-address': string; 'hw-address': string; hostname: string }

async function leases(node: StackNode): Promise<Lease[]> {
  const result = await node.run(['kea-knot', 'kea-command', '--socket', `${node.dir}/run/kea/kea4-ctrl-socket`, 'lease4-get-all']);
  if (result.code !== 0) throw new Error(`lease4-get-all on ${node.host.ns}: ${result.stderr}`);
  return (JSON.parse(result.stdout) as { leases: Lease[] }).leases;
}
const leaseSet = async (node: StackNode) => (await leases(node)).map((l) => `${l['ip-address']} ${l['hw-address']}`).sort();

async function haState(node: StackNode): Promise<string> {
  const result = await node.run(['kea-knot', 'kea-command', '--socket', `${node.dir}/run/kea/kea4-ctrl-socket`, 'status-get']);
  const status = JSON.parse(result.stdout) as { 'high-availability': { 'ha-servers': { local: { state: string } } }[] };
  return status['high-availability'][0]!['ha-servers'].local.state;
}
const inState = (node: StackNode, state: string, timeoutMs: number) => until(async () => (await haState(node).catch(() => '')) === state, timeoutMs, `${node.host.ns} ${state}`);

/** Generated A records in the forward zone as one node's Knot serves it. */
async function generatedNames(node: StackNode): Promise<number> {
  const zone = await node.run(['knotc', '-s', `${node.dir}/run/knot/knot.sock`, 'zone-read', `${DOMAIN}.`]);
  return zone.stdout.split('\n').filter((line) => line.includes('dhcp-') && / A 10\.79\./.test(line)).length;
}

const inPool = (ip: string, first: number, last: number) => {
  const [, , c, d] = ip.split('.').map(Number);
  const n = c! * 256 + d!;
  return n >= first && n <= last;
};
// Pool 10.79.1.0-10.79.2.255 split in two: pi1 takes 10.79.1.x, pi2 10.79.2.x.
const POOL1: [number, number] = [256, 511];
const POOL2: [number, number] = [512, 767];

beforeAll(async () => {
  lan = await createLan({ subnet: '10.79.0.0/16' });
  [n1, n2] = await stackPair(lan, 79, DOMAIN, SECRET);
  relay = await lan.addHost('perf', '10.79.0.250/16');
  await Promise.all([n1.start(), n2.start()]);
  await Promise.all([inState(n1, 'load-balancing', 20_000), inState(n2, 'load-balancing', 20_000)]);
  // Each reaches load-balancing before its partner's next heartbeat says so: wait for both
  // views to agree, as the status, health and metrics test reads them.
  await until(async () => (await haView(n1)).partner.state === 'load-balancing' && (await haView(n2)).partner.state === 'load-balancing', 10_000, 'each node to see its partner load-balancing');
}, 90_000);

afterAll(async () => {
  await removeNode(n1);
  await removeNode(n2);
  await lan?.destroy();
}, 60_000);

function metrics(node: StackNode): Promise<string> {
  return new Promise((resolve, reject) => {
    request({ socketPath: `${node.dir}/api.sock`, path: '/metrics' }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (chunk: string) => { text += chunk; }).on('end', () => resolve(text));
    }).on('error', reject).end();
  });
}

async function haView(node: StackNode): Promise<{ state: string; serving: boolean; partner: { state: string | null } }> {
  const status = JSON.parse((await node.run(['kea-knot', 'status', '--json'])).stdout) as { services: { name: string; ha?: { state: string; serving: boolean; partner: { state: string | null } } }[] };
  return status.services.find((s) => s.name === 'kea-dhcp4')!.ha!;
}

describe('an HA pair', () => {
  it('shows each node\'s HA state and its view of the partner in status, health and metrics', async () => {
    expect(await haView(n1)).toMatchObject({ state: 'load-balancing', serving: true, partner: { state: 'load-balancing' } });
    const table = (await n2.run(['kea-knot', 'status'])).stdout;
    expect(table).toMatch(/kea-dhcp4 .* load-balancing, partner load-balancing/);
    expect((await n1.run(['kea-knot', 'health'])).code).toBe(0);
    const text = await metrics(n1);
    expect(text).toContain('kea_knot_ha_state{service="kea-dhcp4",state="load-balancing",partner="load-balancing"} 1');
    expect(text).toContain('kea_knot_ha_serving{service="kea-dhcp4"} 1');
  });

  it('leases 200 clients from both nodes, with identical lease sets and every name on both', async () => {
    const result = await perfdhcp(lan, relay, { rate: 100, clients: 200, seconds: 20 });
    expect(result.exchanges['REQUEST-ACK']?.received).toBe(200);
    await until(async () => (await leaseSet(n1)).length === 200 && (await leaseSet(n2)).length === 200, 10_000, '200 leases on both');
    expect(await leaseSet(n2)).toEqual(await leaseSet(n1));
    const ips = (await leases(n1)).map((l) => l['ip-address']);
    expect(ips.filter((ip) => inPool(ip, ...POOL1)).length).toBeGreaterThan(40);
    expect(ips.filter((ip) => inPool(ip, ...POOL2)).length).toBeGreaterThan(40);
    await until(async () => (await generatedNames(n1)) === 200, 20_000, '200 names on the primary');
    await until(async () => (await generatedNames(n2)) === 200, 20_000, '200 names on the secondary');
    const sample = ips[17]!;
    for (const node of [n1, n2]) expect(await dig(lan, node.host, '127.0.0.1', `dhcp-${sample.replaceAll('.', '-')}.${DOMAIN}`, 'A')).toEqual([sample]);
  }, 90_000);

  it('restarts a SIGKILLed kea-dhcp4 on node 2 and returns to load-balancing without losing a lease', async () => {
    const before = await leaseSet(n1);
    const pid = await n2.pid('kea-dhcp4');
    process.kill(pid, 'SIGKILL');
    await until(async () => (await n2.pid('kea-dhcp4').catch(() => pid)) !== pid, 10_000, 'a new kea-dhcp4 on node 2');
    await Promise.all([inState(n1, 'load-balancing', 20_000), inState(n2, 'load-balancing', 20_000)]);
    expect(await leaseSet(n2)).toEqual(before);
    expect(await leaseSet(n1)).toEqual(before);
  }, 60_000);

  it('survives a dead node: partner-down, both pools served, names on; then resyncs when it returns', async () => {
    const existing = (await leases(n1))[3]!['ip-address'];
    const died = performance.now();
    expect(await n2.stop()).toBe(0);
    await inState(n1, 'partner-down', 15_000);
    const failoverMs = performance.now() - died;
    expect(failoverMs).toBeLessThan(15_000);
    // Partner-down serves: node 1 stays healthy and says what it believes of node 2.
    expect(await haView(n1)).toMatchObject({ state: 'partner-down', serving: true });
    expect((await n1.run(['kea-knot', 'health'])).code).toBe(0);

    const more = await perfdhcp(lan, relay, { rate: 50, clients: 60, seconds: 20, extraArgs: ['-b', 'mac=02:55:00:00:00:00'] });
    expect(more.exchanges['REQUEST-ACK']?.received).toBe(60);
    const after = (await leases(n1)).map((l) => l['ip-address']);
    expect(after).toHaveLength(260);
    // Node 1 now also hands out node 2's half of the pool.
    const fresh = after.filter((ip) => !(ip === existing));
    expect(fresh.filter((ip) => inPool(ip, ...POOL2)).length).toBeGreaterThan(100);
    expect(await dig(lan, n1.host, '127.0.0.1', `dhcp-${existing.replaceAll('.', '-')}.${DOMAIN}`, 'A')).toEqual([existing]);
    await until(async () => (await generatedNames(n1)) === 260, 20_000, '260 names on node 1');

    await n2.start();
    await Promise.all([inState(n1, 'load-balancing', 30_000), inState(n2, 'load-balancing', 30_000)]);
    expect(await leaseSet(n2)).toEqual(await leaseSet(n1));
    // Names made while node 2 was down reach its Knot by IXFR when it starts.
    await until(async () => (await generatedNames(n2)) === 260, 20_000, 'the 60 new names on node 2');
    process.stderr.write(`[ha] node 2 dead -> node 1 partner-down: ${failoverMs.toFixed(0)} ms\n`);
  }, 120_000);

  it('the control agent refuses a peer or client without the credentials', async () => {
    const post = (auth: string | undefined) => lan.exec(relay, [process.execPath, '-e', `
      const req = require('http').request({ host: '10.79.0.2', port: 8000, method: 'POST', path: '/',
        headers: { 'content-type': 'application/json'${auth ? `, authorization: 'Basic ${Buffer.from(auth).toString('base64')}'` : ''} } },
        (res) => { console.log(res.statusCode); res.resume(); });
      req.on('error', (e) => { console.log('error ' + e.message); });
      req.end(JSON.stringify({ command: 'config-get', service: ['dhcp4'] }));`]);
    expect((await post(undefined)).stdout.trim()).toBe('401');
    expect((await post('kea-ha:wrong-password')).stdout.trim()).toBe('401');
    expect((await post('admin:admin')).stdout.trim()).toBe('401');
    // The peer's own credentials, derived from the shared secret as setup does, are let in.
    expect((await post(`kea-ha:${deriveSecret(SECRET, 'kea-ha-password', 24).toString('hex')}`)).stdout.trim()).toBe('200');
  });
});
