// "Nothing reports healthy while DHCP is down": failed reloads, health and status against
// the real stack (the repository's services.d, real Kea and Knot) in network namespaces.
import { readFile, writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLan, dhcpLease, dig, until, type Lan } from '../../helpers/netns.js';
import { removeNode, stackServer, type StackNode } from '../../helpers/stack.js';

const DOMAIN = 'serving.test';
let lan: Lan;
let server: StackNode;
let conf: string;
let good: string;
let clients = 0;

interface Status { name: string; state: string; lastError: string | null; lastReload: { ok: boolean; method: string; output: string; error?: string } | null }
const status = async (name: string): Promise<Status> =>
  (JSON.parse((await server.run(['kea-knot', 'status', '--json'])).stdout) as { services: Status[] }).services.find((s) => s.name === name)!;
const health = () => server.run(['kea-knot', 'health']);
/** A new client on the LAN gets a lease (and so DHCP is served) and its name in DNS. */
async function newClientServed(): Promise<void> {
  clients += 1;
  const name = `client${clients}`;
  const { ip } = await dhcpLease(lan, await lan.addHost(name, ''), { hostname: name });
  await until(async () => (await dig(lan, server.host, '127.0.0.1', `${name}.${DOMAIN}`, 'A')).includes(ip), 5000, `${name}.${DOMAIN} -> ${ip}`);
}
/** Passes `kea-dhcp4 -t` but fails in Kea: the lease file's directory does not exist. */
const unloadable = () => good.replace(/("lease-database": \{[^}]*"name": ")[^"]*\//, '$1/nonexistent-kk-dir/');

beforeAll(async () => {
  lan = await createLan({ subnet: '10.88.0.0/16' });
  server = await stackServer(lan, 88, DOMAIN, { KEA_KNOT_POOLS: '10.88.1.0-10.88.1.255' });
  await server.start();
  conf = `${server.dir}/etc/kea/kea-dhcp4.conf`;
  good = await readFile(conf, 'utf8');
}, 60_000);

afterAll(async () => {
  await removeNode(server);
  await lan?.destroy();
}, 60_000);

describe('health means serving', () => {
  it('puts the previous configuration back when a reload passes the check but fails in Kea', async () => {
    const bad = unloadable();
    expect(bad).not.toBe(good);
    await writeFile(`${server.dir}/unloadable.conf`, bad);
    expect((await server.run(['kea-dhcp4', '-t', `${server.dir}/unloadable.conf`])).code).toBe(0);
    const pid = await server.pid('kea-dhcp4');
    const logged = server.records.length;
    try {
      await writeFile(conf, bad);
      const result = await server.run(['kea-dhcp4-reload']);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/Kea refused config-reload .*nonexistent-kk-dir.*; the previous configuration was put back \(config-set\) and it serves again/);
      // The watcher saw the same edit and tried too (after this reload, one at a time).
      await until(async () => server.records.slice(logged).some((r) => /kept its running configuration.*put back/.test(r.msg)), 10_000, 'the watcher\'s reload refused');
      // The same daemon, serving new clients, and saying the truth about the reload.
      expect(await server.pid('kea-dhcp4')).toBe(pid);
      expect((await health()).code).toBe(0);
      await newClientServed();
      const s = await status('kea-dhcp4');
      expect(s.state).toBe('ready');
      expect(s.lastReload).toMatchObject({ ok: false, method: 'kea config-reload' });
      expect(s.lastError).toMatch(/put back/);
    } finally {
      await writeFile(conf, good);
    }
  }, 40_000);

  it('does the same when the bad file arrives through the watcher', async () => {
    const logged = server.records.length;
    try {
      await writeFile(conf, unloadable());
      await until(async () => server.records.slice(logged).some((r) => r.service === 'kea-dhcp4' && /kept its running configuration.*put back/.test(r.msg)), 10_000, 'the watcher\'s reload refused');
      expect((await health()).code).toBe(0);
      await newClientServed();
    } finally {
      await writeFile(conf, good);
    }
    // The good file, through the watcher too.
    await until(async () => (await status('kea-dhcp4')).lastReload?.ok === true, 10_000, 'the good file reloaded');
  }, 40_000);

  it('is not healthy while Kea holds no DHCP socket, and says why', async () => {
    // Behind the supervisor's back: Kea takes a config it cannot run, keeping no socket.
    const socket = `${server.dir}/run/kea/kea4-ctrl-socket`;
    const dhcp4 = (JSON.parse(unloadable()) as { Dhcp4: unknown }).Dhcp4;
    const set = await server.run(['kea-knot', 'kea-command', '--socket', socket, 'config-set', JSON.stringify({ Dhcp4: dhcp4 })]);
    expect(set.code).toBe(1);
    expect(set.stderr).toContain('Kea refused config-set (result 1): Unable to open database');
    const unhealthy = await health();
    expect(unhealthy.code).toBe(1);
    expect(unhealthy.stderr).toContain('kea-dhcp4 is not serving: it holds no socket on UDP port 67');
    // A reload of the good file serves again.
    expect((await server.run(['kea-dhcp4-reload'])).code).toBe(0);
    expect((await health()).code).toBe(0);
    await newClientServed();
  }, 40_000);

  it('shows the checker\'s words for a refused knot.conf in status, API and CLI', async () => {
    const knotConf = `${server.dir}/etc/knot/knot.conf`;
    const knotGood = await readFile(knotConf, 'utf8');
    try {
      await writeFile(knotConf, knotGood.replace('zone:', 'zonee:'));
      const result = await server.run(['knot-reload']);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/check of knot failed \(.*\): error: config, file '.*knot\.conf', line \d+/);
      const s = await status('knot');
      expect(s.lastReload).toMatchObject({ ok: false, method: 'check' });
      expect(s.lastReload!.output).toMatch(/^error: config, file/);
      expect(s.lastError).toMatch(/error: config, file/);
      const table = (await server.run(['kea-knot', 'status'])).stdout;
      expect(table.split('\n').find((line) => line.startsWith('knot '))).toMatch(/error: config, file/);
      // The refused file changed nothing: Knot still answers.
      expect((await health()).code).toBe(0);
    } finally {
      await writeFile(knotConf, knotGood);
    }
  });

  it('shows the error line of a refused kea-dhcp4.conf, not the INFO lines Kea prints first', async () => {
    try {
      await writeFile(conf, good.replace('"subnet4": [', '"subnet4": [ { "id": 9, "subnet": "not-a-subnet" }, '));
      const result = await server.run(['kea-dhcp4-reload']);
      expect(result.code).toBe(1);
      const first = result.stderr.split('\n')[0]!;
      expect(first).toMatch(/check of kea-dhcp4 failed \(.*\): .* (ERROR|Error).*not-a-subnet/);
      expect((await status('kea-dhcp4')).lastReload!.output.split('\n')[0]).toMatch(/ERROR|Error/);
    } finally {
      await writeFile(conf, good);
    }
  });

  it('shows each Kea daemon\'s pool use, packets and failed DNS updates in status', async () => {
    const table = (await server.run(['kea-knot', 'status'])).stdout;
    expect(table).toMatch(new RegExp(`^kea-dhcp4: subnet 1 ${clients} of 256 in use \\([\\d.]+ %\\); \\d+ packets received, 0 dropped$`, 'm'));
    expect(table).toMatch(/^kea-dhcp-ddns: DNS updates failed: \d+ timed out, \d+ refused$/m);
    const json = JSON.parse((await server.run(['kea-knot', 'status', '--json'])).stdout) as { statistics: { service: string; subnets?: { assigned: number }[] }[] };
    expect(json.statistics.find((d) => d.service === 'kea-dhcp4')?.subnets?.[0]?.assigned).toBe(clients);
  });

  it('keeps the health checks\' and statistics\' commands out of Kea\'s log', async () => {
    // Every health check above asked status-get, every status statistic-get-all.
    expect(server.records.filter((r) => r.service === 'kea-dhcp4' && r.stream !== undefined && /COMMAND_RECEIVED/.test(r.msg))).toEqual([]);
    expect(server.records.some((r) => r.service === 'kea-dhcp4' && /DHCP4_LEASE_ALLOC/.test(r.msg))).toBe(true);
  });

  it('is not healthy while Knot does not answer for its zone', async () => {
    // Last: this throws the zone away.
    const knotc = ['knotc', '-s', `${server.dir}/run/knot/knot.sock`];
    expect((await server.run([...knotc, 'zone-purge', '-f', `${DOMAIN}.`])).code).toBe(0);
    const unhealthy = await until(async () => {
      const result = await health();
      return result.code === 1 ? result : undefined;
    }, 5000, 'unhealthy');
    expect(unhealthy.stderr).toContain(`knot is not serving: knotd has not loaded ${DOMAIN}.`);
  });
});
