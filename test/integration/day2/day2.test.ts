// Day-two tasks end to end: the product's services.d in a server namespace, real Kea and
// Knot, udhcpc clients in namespaces of their own; every change goes through the CLI and
// the supervisor's API, and a client leases right after each to show DHCP kept answering.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requestJson } from '../../../src/cli/reservations.js';
import { callApi } from '../../../src/client/api-client.js';
import { keaCommand } from '../../../src/kea/control.js';
import type { LeaseView } from '../../../src/kea/leases.js';
import { createLan, dhcpLease, dig, until, type Host, type Lan } from '../../helpers/netns.js';
import { removeNode, stackServer, type StackNode } from '../../helpers/stack.js';
import { byMsg } from '../../helpers/supervisor-process.js';

const DOMAIN = 'home.test';
const SETUP_MAC = '52:54:00:83:00:01';
let lan: Lan;
let server: StackNode;
let inputs: string;
let probe: Host;

const reverse = (ip: string) => `${ip.split('.').reverse().join('.')}.in-addr.arpa`;
const a = (name: string) => dig(lan, server.host, '127.0.0.1', `${name}.${DOMAIN}`, 'A');
const ptr = (ip: string) => dig(lan, server.host, '127.0.0.1', reverse(ip), 'PTR');
const cli = (...argv: string[]) => server.run(['kea-knot', ...argv]);
const files = () => ({
  conf: `${server.dir}/etc/kea/kea-dhcp4.conf`,
  store: `${server.dir}/etc/kea/kea-knot-reservations.json`,
  include: `${server.dir}/etc/kea/reservations4.json`,
});
const read = (file: string) => readFile(file, 'utf8').catch(() => '(absent)');
const snapshot = async () => {
  const f = files();
  return { conf: await read(f.conf), store: await read(f.store), include: await read(f.include), kea: await keaReservations() };
};
/** What the running kea-dhcp4 holds (config-get), as Kea reports it. */
async function keaReservations(): Promise<{ 'hw-address': string; 'ip-address': string; hostname?: string }[]> {
  const answer = await keaCommand(`${server.dir}/run/kea/kea4-ctrl-socket`, 'config-get');
  const list = (answer.arguments as { Dhcp4: { subnet4: { reservations?: { 'hw-address': string; 'ip-address': string; hostname?: string }[] }[] } }).Dhcp4.subnet4[0]!.reservations ?? [];
  return list.map((r) => ({ 'hw-address': r['hw-address'], 'ip-address': r['ip-address'], ...(r.hostname ? { hostname: r.hostname } : {}) }));
}
async function metrics(): Promise<string> {
  const response = await callApi<string>({ socket: `${server.dir}/api.sock` }, 'GET', '/metrics');
  expect(response.status).toBe(200);
  return response.body;
}
const ddnsFailures = (text: string) => ['timeout', 'error']
  .map((reason) => Number(new RegExp(`^kea_knot_ddns_failures_total\\{service="kea-dhcp-ddns",reason="${reason}"\\} (\\d+)$`, 'm').exec(text)?.[1] ?? NaN))
  .reduce((x, y) => x + y);
async function leases(): Promise<LeaseView[]> {
  const result = await cli('leases', '--json');
  expect(result.code, result.stderr).toBe(0);
  return (JSON.parse(result.stdout) as { leases: LeaseView[] }).leases;
}
/** DHCP still answers: a client gets a lease right after a change. */
async function stillServing(): Promise<void> {
  const { ip } = await dhcpLease(lan, probe);
  expect(ip).toMatch(/^10\.83\./);
}

beforeAll(async () => {
  lan = await createLan({ subnet: '10.83.0.0/16' });
  inputs = await mkdtemp(path.join(tmpdir(), 'kk-day2-'));
  // setup's --reservations input: it must land in the same store as kea-knot reserve.
  await writeFile(path.join(inputs, 'setup-reservations.json'), JSON.stringify([{ 'hw-address': SETUP_MAC, 'ip-address': '10.83.0.40', hostname: 'setupbox' }]));
  server = await stackServer(lan, 83, DOMAIN, { KEA_KNOT_POOLS: '10.83.1.0-10.83.1.255', KEA_KNOT_RESERVATIONS: path.join(inputs, 'setup-reservations.json') });
  await server.start();
  probe = await lan.addHost('probe', '');
}, 90_000);

afterAll(async () => {
  await removeNode(server);
  await lan?.destroy();
  if (inputs) await rm(inputs, { recursive: true, force: true });
}, 60_000);

describe('leases and reservations', () => {
  let laptop: Host;
  let laptopIp: string;

  it('lists a new lease with its DNS name present, and finds it by search', async () => {
    laptop = await lan.addHost('laptop', '');
    laptopIp = (await dhcpLease(lan, laptop, { hostname: 'laptop' })).ip;
    const lease = await until(async () => (await leases()).find((l) => l.address === laptopIp && l.dns === true), 5000, 'the laptop lease with its name in DNS');
    expect(lease).toMatchObject({ mac: laptop.mac, hostname: `laptop.${DOMAIN}`, state: 'active', node: null });
    expect(lease.expires).toBeGreaterThan(Date.now());
    const found = await cli('leases', '--search', 'LAPTOP');
    expect(found.code, found.stderr).toBe(0);
    expect(found.stdout).toContain(laptopIp);
    expect(found.stdout).toMatch(/laptop\.home\.test\s+yes\s/);
    expect((await cli('leases', '--search', 'nothing-like-it')).stdout).toBe('no leases\n');
  });

  it('lists the reservation setup was given, from the same store', async () => {
    const result = await cli('reservations', '--json');
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ reservations: [{ 'hw-address': SETUP_MAC, 'ip-address': '10.83.0.40', hostname: 'setupbox' }] });
  });

  it('pins a lease with reserve --from-lease; the client keeps that address after renewal', async () => {
    const reloads = () => server.records.filter(byMsg('kea-dhcp4', /^kea-dhcp4 reloaded with/)).length;
    const before = { reloads: reloads(), records: server.records.length };
    const result = await cli('reserve', '--from-lease', laptopIp);
    expect(result.code, result.stderr).toBe(0);
    // The first change rewrites the watched kea-dhcp4.conf (the include), reloaded once: the
    // watcher finds the file holds what kea-dhcp4 already runs.
    await until(async () => server.records.slice(before.records).some(byMsg('kea-dhcp4', /kea-dhcp4\.conf changed, and holds what kea-dhcp4 runs; not reloaded/)), 5000, 'the watcher to pass over the rewritten kea-dhcp4.conf');
    expect(reloads() - before.reloads).toBe(1);
    expect(result.stdout).toBe(`reserved ${laptop.mac} ${laptopIp} (laptop)\n`);
    const pinned = { 'hw-address': laptop.mac, 'ip-address': laptopIp, hostname: 'laptop' };
    expect(await keaReservations()).toEqual(expect.arrayContaining([pinned, { 'hw-address': SETUP_MAC, 'ip-address': '10.83.0.40', hostname: 'setupbox' }]));
    // One store for both: setup's reservation moved in with the first change; the conf includes the list.
    expect(JSON.parse(await read(files().store)).reservations).toHaveLength(2);
    expect(await read(files().conf)).toContain(`"reservations": <?include "${files().include}"?>`);
    expect((await dhcpLease(lan, laptop, { hostname: 'laptop' })).ip).toBe(laptopIp);
    await stillServing();
  });

  it('refuses conflicting reservations and changes nothing', async () => {
    const phone = await lan.addHost('phone', '');
    const phoneIp = (await dhcpLease(lan, phone, { hostname: 'phone' })).ip;
    const before = await snapshot();
    const refusals: [string[], RegExp][] = [
      [['reserve', '52:54:00:83:00:99', phoneIp], new RegExp(`${phoneIp.replaceAll('.', '\\.')} is leased to ${phone.mac}`)],
      [['reserve', '52:54:00:83:00:99', laptopIp], /is already reserved for/],
      [['reserve', '52:54:00:83:00:99', '10.84.0.5'], /outside the subnet 10\.83\.0\.0\/16/],
      [['reserve', laptop.mac, '10.83.0.77'], /already has a reservation/],
      [['reserve', '52:54:00:83:00:99', '10.83.0.78', 'setupbox'], /host name setupbox is already used/],
    ];
    for (const [argv, message] of refusals) {
      const result = await cli(...argv);
      expect(result.code, result.stdout).toBe(1);
      expect(result.stderr).toMatch(message);
      expect(result.stderr).toMatch(/nothing was changed/);
    }
    // The API the CLI and the dashboard share: 409 with a stable code, 400 for a bad body.
    const api = (body: unknown) => requestJson<{ error: { code: string; message: string } }>(`${server.dir}/api.sock`, 'POST', '/v1/reservations', body);
    expect(await api({ 'hw-address': '52:54:00:83:00:99', 'ip-address': phoneIp })).toMatchObject({ status: 409, body: { error: { code: 'E_CONFLICT' } } });
    expect(await api({ 'hw-address': 'not-a-mac', 'ip-address': '10.83.0.79' })).toMatchObject({ status: 400, body: { error: { code: 'E_USAGE', message: expect.stringMatching(/"not-a-mac" is not a network card's MAC/) } } });
    expect(await api({ mac: 'x' })).toMatchObject({ status: 400, body: { error: { code: 'E_USAGE' } } });
    expect(await snapshot()).toEqual(before);
    await stillServing();
  });

  it('unreserves by MAC', async () => {
    const result = await cli('unreserve', laptop.mac.toUpperCase());
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe(`unreserved ${laptop.mac} ${laptopIp} (laptop)\n`);
    expect((await keaReservations()).map((r) => r['hw-address'])).toEqual([SETUP_MAC]);
    await stillServing();
  });

  it('gives a new client its reserved address, and its reserved name resolves', async () => {
    const printer = await lan.addHost('printer', '');
    const result = await cli('reserve', printer.mac, '10.83.0.60', 'printer');
    expect(result.code, result.stderr).toBe(0);
    // The printer sends no name: the reservation's name is the one Kea puts in DNS.
    expect((await dhcpLease(lan, printer)).ip).toBe('10.83.0.60');
    await until(async () => (await a('printer')).includes('10.83.0.60'), 5000, `printer.${DOMAIN} -> 10.83.0.60`);
    await until(async () => (await ptr('10.83.0.60')).includes(`printer.${DOMAIN}.`), 5000, 'PTR of 10.83.0.60');
    await stillServing();
  });
});

describe('static DNS names', () => {
  it('adds a name that resolves forward and reverse, survives a knot restart, and removes it', async () => {
    const added = await cli('dns', 'add', 'nas', '10.83.0.70');
    expect(added.code, added.stderr).toBe(0);
    expect(added.stdout).toBe(`added nas.${DOMAIN} -> 10.83.0.70 and ${reverse('10.83.0.70')} -> nas.${DOMAIN}\n`);
    expect(await a('nas')).toEqual(['10.83.0.70']);
    expect(await ptr('10.83.0.70')).toEqual([`nas.${DOMAIN}.`]);
    const again = await cli('dns', 'add', `nas.${DOMAIN}`, '10.83.0.70');
    expect(again.stdout).toBe(`nas.${DOMAIN} is already 10.83.0.70; nothing changed\n`);

    // A DHCP client asking for a static name gets no record: Kea's conflict resolution
    // finds no DHCID of its own there, and kea-dhcp-ddns gives the update up.
    const seen = server.records.length;
    await dhcpLease(lan, await lan.addHost('impostor', ''), { hostname: 'nas' });
    await until(async () => server.records.slice(seen).some((r) => r.service === 'kea-dhcp-ddns' && /DHCP_DDNS_ADD_FAILED/.test(r.msg)), 10_000, 'kea-dhcp-ddns to refuse nas for the impostor');
    expect(await a('nas')).toEqual(['10.83.0.70']);

    const restart = await cli('restart', 'knot');
    expect(restart.code, restart.stderr).toBe(0);
    expect(await a('nas')).toEqual(['10.83.0.70']);
    expect(await ptr('10.83.0.70')).toEqual([`nas.${DOMAIN}.`]);
    const listed = await cli('dns', '--json');
    // Names from DHCP (with DHCID) and the name servers are not static.
    expect(JSON.parse(listed.stdout)).toEqual({ names: [{ name: `nas.${DOMAIN}`, address: '10.83.0.70', reverse: reverse('10.83.0.70') }] });

    const removed = await cli('dns', 'remove', 'nas');
    expect(removed.code, removed.stderr).toBe(0);
    expect(await a('nas')).toEqual([]);
    expect(await ptr('10.83.0.70')).toEqual([]);
    await stillServing();
  });

  it('refuses a name that a DHCP client holds, and leaves it as it was', async () => {
    const before = await a('printer');
    expect(before).toEqual(['10.83.0.60']);
    const result = await cli('dns', 'add', 'printer', '10.83.0.71');
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/printer\.home\.test belongs to a DHCP client .*DHCID.*nothing was changed/);
    expect(await cli('dns', 'remove', 'printer')).toMatchObject({ code: 1, stderr: expect.stringMatching(/belongs to a DHCP client/) });
    expect(await a('printer')).toEqual(before);
    expect(await ptr('10.83.0.71')).toEqual([]);
  });
});

describe("Kea's statistics", () => {
  it('shows pool use, packets received and DDNS failures in /metrics and the statistics route', async () => {
    const text = await metrics();
    const assigned = Number(/^kea_knot_kea_subnet_addresses\{service="kea-dhcp4",subnet_id="1",kind="assigned"\} (\d+)$/m.exec(text)?.[1]);
    const leased = (await leases()).filter((l) => l.state === 'active').length;
    expect(assigned).toBe(leased);
    expect(text).toMatch(/^kea_knot_kea_subnet_addresses\{service="kea-dhcp4",subnet_id="1",kind="total"\} 256$/m);
    expect(text).toMatch(new RegExp(`^kea_knot_kea_pool_utilisation\\{service="kea-dhcp4",subnet_id="1"\\} ${leased / 256}$`, 'm'));
    expect(Number(/^kea_knot_kea_packets_received_total\{service="kea-dhcp4"\} (\d+)$/m.exec(text)?.[1])).toBeGreaterThan(leased);
    // Knot stopped: the DDNS daemon's updates for a new lease fail, and are counted.
    expect(ddnsFailures(text)).toBe(0);
    expect((await cli('stop', 'knot')).code).toBe(0);
    try {
      await dhcpLease(lan, await lan.addHost('offline', ''), { hostname: 'offline' });
      await until(async () => ddnsFailures(await metrics()) > 0, 10_000, 'a DDNS failure in /metrics');
    } finally {
      expect((await cli('start', 'knot')).code).toBe(0);
    }
    const failures = ddnsFailures(await metrics());
    const route = await callApi<{ daemons: { service: string; subnets?: unknown[]; ddnsFailures?: unknown }[] }>({ socket: `${server.dir}/api.sock` }, 'GET', '/v1/kea/statistics');
    expect(route.body.daemons.find((d) => d.service === 'kea-dhcp4')).toMatchObject({ subnets: [{ subnetId: 1, total: 256, assigned: leased + 1, declined: 0 }], ddnsFailures: null });
    expect(route.body.daemons.find((d) => d.service === 'kea-dhcp-ddns')).toMatchObject({ received: null, subnets: [] });
    const d2 = route.body.daemons.find((d) => d.service === 'kea-dhcp-ddns') as { ddnsFailures: { timeout: number; error: number } };
    // The DDNS daemon may still be retrying: the route reads a moment later.
    expect(d2.ddnsFailures.timeout + d2.ddnsFailures.error).toBeGreaterThanOrEqual(failures);
  });
});

describe('kea-knot import', () => {
  it('changes nothing with --dry-run, imports all, and a second import of the same file is a no-op', async () => {
    const file = path.join(inputs, 'dnsmasq.conf');
    await writeFile(file, [
      'dhcp-range=10.83.1.0,10.83.1.255,12h',
      'dhcp-host=52:54:00:83:01:01,10.83.0.81,tv',
      'dhcp-host=52:54:00:83:01:02,camera,10.83.0.82,infinite',
      'dhcp-host=52:54:00:83:01:03,set:guest',
      '',
    ].join('\n'));
    const before = await snapshot();
    const dry = await cli('import', 'dnsmasq', file, '--dry-run');
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain('would reserve 52:54:00:83:01:01 10.83.0.81 (tv)');
    expect(dry.stdout).toContain('would reserve 52:54:00:83:01:02 10.83.0.82 (camera)');
    expect(dry.stdout).toMatch(/not imported: line 4: dhcp-host=52:54:00:83:01:03,set:guest: /);
    expect(await snapshot()).toEqual(before);

    const real = await cli('import', 'dnsmasq', file, '--json');
    expect(real.code, real.stderr).toBe(0);
    expect(JSON.parse(real.stdout)).toMatchObject({ dryRun: false, changed: true, added: [{ 'ip-address': '10.83.0.81' }, { 'ip-address': '10.83.0.82' }] });
    expect(await keaReservations()).toEqual(expect.arrayContaining([
      { 'hw-address': '52:54:00:83:01:01', 'ip-address': '10.83.0.81', hostname: 'tv' },
      { 'hw-address': '52:54:00:83:01:02', 'ip-address': '10.83.0.82', hostname: 'camera' },
    ]));
    await stillServing();

    const after = await snapshot();
    const again = await cli('import', 'dnsmasq', file);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/2 already reserved so\n[^]*0 added, nothing changed\n$/);
    expect(await snapshot()).toEqual(after);
  });

  it('refuses a whole import when one entry conflicts', async () => {
    const file = path.join(inputs, 'conflict.conf');
    await writeFile(file, 'dhcp-host=52:54:00:83:02:01,10.83.0.91,ok\ndhcp-host=52:54:00:83:02:02,10.83.0.60,clash\n');
    const before = await snapshot();
    const result = await cli('import', 'dnsmasq', file);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/nothing was changed\n[^]*10\.83\.0\.60 is already reserved for \S+ 10\.83\.0\.60 \(printer\)/);
    expect(await snapshot()).toEqual(before);
  });
});
