// The product end to end: the repository's services.d under `kea-knot supervise` in a
// server namespace, a configuration written by init from the environment, real Kea and
// Knot, and DHCP clients in other namespaces on the same bridge.
import { readFile, writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLan, dhcpLease, dig, perfdhcp, until, type Host, type Lan } from '../../helpers/netns.js';
import { removeNode, stackServer, type StackNode } from '../../helpers/stack.js';

const DOMAIN = 'home.test';
let lan: Lan;
let server: StackNode;
let laptop: Host;

const reverse = (ip: string) => `${ip.split('.').reverse().join('.')}.in-addr.arpa`;
const a = (name: string) => dig(lan, server.host, '127.0.0.1', `${name}.${DOMAIN}`, 'A');
/** DNS follows leases within a few seconds (Knot stalls an update now and then). */
const resolves = (name: string, ip: string) => until(async () => (await a(name)).includes(ip), 5000, `${name}.${DOMAIN} -> ${ip}`);

beforeAll(async () => {
  lan = await createLan({ subnet: '10.77.0.0/16' });
  server = await stackServer(lan, 77, DOMAIN);
  laptop = await lan.addHost('laptop', '');
  await server.start();
}, 60_000);

afterAll(async () => {
  await removeNode(server);
  await lan?.destroy();
}, 60_000);

describe('Kea + Knot under kea-knot supervise', () => {
  it('starts every service from a configuration init wrote on first start', async () => {
    const status = JSON.parse((await server.run(['kea-knot', 'status', '--json'])).stdout) as { services: { name: string; state: string }[] };
    expect(Object.fromEntries(status.services.map((s) => [s.name, s.state]))).toEqual({
      init: 'exited', knot: 'ready', 'kea-dhcp-ddns': 'ready', 'kea-dhcp4': 'ready', 'kea-ctrl-agent': 'ready', 'kea-dhcp6': 'disabled',
    });
    expect(server.records.some((r) => r.service === 'init' && /^wrote .*kea-dhcp4\.conf/.test(r.msg))).toBe(true);
    // Knot dropped to its own user, and every daemon's lines carry its service name.
    const knotUid = /^Uid:\s+(\d+)/m.exec(await readFile(`/proc/${await server.pid('knot')}/status`, 'utf8'))![1];
    expect(knotUid).toBe(/^knot:[^:]*:(\d+):/m.exec(await readFile('/etc/passwd', 'utf8'))![1]);
    expect(server.records.some((r) => r.service === 'knot' && r.stream !== undefined && /server started/.test(r.msg))).toBe(true);
    expect(server.records.some((r) => r.service === 'kea-dhcp4' && /DHCP4_STARTED/.test(r.msg))).toBe(true);
  });

  it('puts a named client into DNS, forward and reverse', async () => {
    const { ip } = await dhcpLease(lan, laptop, { hostname: 'laptop' });
    expect(ip).toMatch(/^10\.77\.[12]\.\d+$/);
    await resolves('laptop', ip);
    await until(async () => (await dig(lan, server.host, '127.0.0.1', reverse(ip), 'PTR')).includes(`laptop.${DOMAIN}.`), 5000, 'PTR of the laptop');
  });

  it('gives a client without a name a generated one', async () => {
    const phone = await lan.addHost('phone', '');
    const { ip } = await dhcpLease(lan, phone);
    await resolves(`dhcp-${ip.replaceAll('.', '-')}`, ip);
  });

  it('leases 200 clients of perfdhcp and names each in DNS', async () => {
    const relay = await lan.addHost('perf', '10.77.0.250/16');
    const result = await perfdhcp(lan, relay, { rate: 100, clients: 200, seconds: 20 });
    expect(result.exchanges['REQUEST-ACK']?.received).toBe(200);
    const countA = async () => {
      const zone = await server.run(['knotc', '-s', `${server.dir}/run/knot/knot.sock`, 'zone-read', `${DOMAIN}.`]);
      return zone.stdout.split('\n').filter((line) => / A 10\.77\./.test(line) && line.includes('dhcp-')).length;
    };
    // 200 from perfdhcp + the phone.
    await until(async () => (await countA()) >= 201, 20_000, '201 generated A records');
    const stats = await server.run(['kea-knot', 'kea-command', '--socket', `${server.dir}/run/kea/kea4-ctrl-socket`, 'statistic-get', '{"name":"subnet[1].assigned-addresses"}']);
    const assigned = (JSON.parse(stats.stdout) as Record<string, [number, string][]>)['subnet[1].assigned-addresses']![0]![0];
    expect(assigned).toBe(202);
  }, 60_000);

  it('reloads knot and kea-dhcp4 through the wrappers', async () => {
    const knot = await server.run(['knot-reload']);
    expect(knot.code, knot.stderr).toBe(0);
    expect(knot.stdout).toMatch(/^knot reloaded \(knotc .* reload\) in \d+ ms\nReloaded\n$/);
    const kea = await server.run(['kea-dhcp4-reload']);
    expect(kea.code, kea.stderr).toBe(0);
    expect(kea.stdout).toContain('Configuration successful.');
  });

  it('refuses a broken kea-dhcp4.conf with the checker\'s message while DHCP keeps answering', async () => {
    const conf = `${server.dir}/etc/kea/kea-dhcp4.conf`;
    const good = await readFile(conf, 'utf8');
    const pid = await server.pid('kea-dhcp4');
    try {
      await writeFile(conf, good.replace('"subnet4": [', '"subnet4": [ { "subnet": "not-a-subnet" }, '));
      const result = await server.run(['kea-dhcp4-reload']);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('check of kea-dhcp4 failed');
      expect(result.stderr).toMatch(/not-a-subnet|subnet/i);
      // Same daemon, still serving new clients: the DHCP socket stayed open.
      expect(await server.pid('kea-dhcp4')).toBe(pid);
      const tablet = await lan.addHost('tablet', '');
      const { ip } = await dhcpLease(lan, tablet, { hostname: 'tablet' });
      await resolves('tablet', ip);
    } finally {
      await writeFile(conf, good);
    }
  });

  it('restarts kea-dhcp4 after SIGKILL, serving again with its leases and names', async () => {
    const pid = await server.pid('kea-dhcp4');
    const before = (await a('laptop'))[0]!;
    process.kill(pid, 'SIGKILL');
    await until(async () => (await server.pid('kea-dhcp4').catch(() => pid)) !== pid, 10_000, 'a new kea-dhcp4');
    await until(async () => (await server.run(['kea-knot', 'health'])).code === 0, 10_000, 'healthy again');
    // Same lease for the same client (the lease file was kept), and its name still resolves
    // (a renewal re-sends the name: ddns-update-on-renew, so wait for it to settle).
    expect((await dhcpLease(lan, laptop, { hostname: 'laptop' })).ip).toBe(before);
    await resolves('laptop', before);
  });

  it('restarts knotd after SIGKILL with every record still there', async () => {
    const pid = await server.pid('knot');
    const laptopIp = (await a('laptop'))[0]!;
    process.kill(pid, 'SIGKILL');
    await until(async () => (await server.pid('knot').catch(() => pid)) !== pid, 10_000, 'a new knotd');
    await until(async () => (await a('laptop').catch(() => [])).includes(laptopIp), 10_000, 'laptop resolving again');
    expect(server.records.some((r) => r.service === 'knot' && /removed stale PID file/.test(r.msg))).toBe(true);
  });

  it('keeps every lease and DNS record across a full stop and start', async () => {
    const laptopIp = (await a('laptop'))[0]!;
    const tabletIp = (await a('tablet'))[0]!;
    expect(await server.stop()).toBe(0);
    expect(server.records.at(-1)?.msg).toBe('all services stopped; exiting with code 0');
    await server.start();
    expect(server.records.some((r) => r.service === 'init' && /configuration exists; left as it is/.test(r.msg))).toBe(true);
    expect(await a('laptop')).toEqual([laptopIp]);
    expect(await a('tablet')).toEqual([tabletIp]);
    expect((await dhcpLease(lan, laptop, { hostname: 'laptop' })).ip).toBe(laptopIp);
  }, 60_000);
});
