// The generated configuration with real clients and daemons in network namespaces: client
// names become valid DNS labels, lease commands answer on a lone node, and a pair's control
// agent listens on its node's address only, yet its readiness probe still passes.
import type { ChildProcess } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLan, dhcpLease, dig, until, type Lan } from '../../helpers/netns.js';
import { removeNode, stackServer, type StackNode } from '../../helpers/stack.js';
import { CLI, ROOT, svc } from '../../helpers/supervisor-process.js';

const DOMAIN = 'home.test';
const LDH = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;
let lan: Lan;
let server: StackNode;

beforeAll(async () => {
  lan = await createLan({ subnet: '10.81.0.0/16' });
  server = await stackServer(lan, 81, DOMAIN, { KEA_KNOT_KNOT_USER: '' });
  await server.start();
}, 60_000);

afterAll(async () => {
  await removeNode(server);
  await lan?.destroy();
}, 60_000);

const a = (name: string) => dig(lan, server.host, '127.0.0.1', name, 'A');
const resolves = (name: string, ip: string) => until(async () => (await a(name)).includes(ip), 5000, `${name} -> ${ip}`);

describe('client names in DNS', () => {
  it('become valid labels: invalid characters and edge hyphens dropped, nothing published when nothing is left', async () => {
    let n = 0;
    const lease = async (options: { hostname?: string; fqdn?: string }) => (await dhcpLease(lan, await lan.addHost(`c${n++}`, ''), options)).ip;
    // The all-invalid names first: once the later names resolve, D2 has handled them too
    // (it works through its queue in order).
    const invalid = [await lease({ hostname: 'ééé' }), await lease({ hostname: '---' }), await lease({ fqdn: 'ééé' })];
    const cases: [{ hostname?: string; fqdn?: string }, string][] = [
      [{ hostname: '-leading' }, 'leading'], [{ hostname: 'café' }, 'caf'], [{ hostname: 'thé' }, 'th'],
      [{ hostname: 'trailing-' }, 'trailing'], [{ hostname: '-Both-Ends-' }, 'both-ends'], [{ fqdn: '-fqdn-' }, 'fqdn'],
    ];
    for (const [options, name] of cases) await resolves(`${name}.${DOMAIN}`, await lease(options));
    expect(await a(`${DOMAIN}`)).toEqual([]);
    const zone = await server.run(['knotc', '-s', `${server.dir}/run/knot/knot.sock`, 'zone-read', `${DOMAIN}.`]);
    const owners = zone.stdout.split('\n').filter(Boolean).map((line) => line.split(' ')[1]!);
    for (const owner of owners.filter((o) => o !== `${DOMAIN}.`)) expect(owner.slice(0, -`.${DOMAIN}.`.length)).toMatch(LDH);
    const addresses = zone.stdout.split('\n').filter((line) => / A /.test(line)).map((line) => line.split(' ').at(-1));
    for (const ip of invalid) expect(addresses).not.toContain(ip);
  }, 60_000);

  it('lease commands answer on a lone node (lease_cmds is always loaded)', async () => {
    const result = await server.run(['kea-knot', 'kea-command', '--socket', `${server.dir}/run/kea/kea4-ctrl-socket`, 'lease4-get-all']);
    expect(result.code, result.stderr).toBe(0);
    const hostnames = (JSON.parse(result.stdout) as { leases: { hostname: string }[] }).leases.map((l) => l.hostname);
    expect(hostnames).toContain(`leading.${DOMAIN}`);
  });
});

describe("a pair node's control agent", () => {
  let dir: string | undefined;
  let supervisor: ChildProcess | undefined;
  afterAll(async () => {
    if (supervisor && supervisor.exitCode === null) {
      const exited = new Promise((resolve) => supervisor!.once('exit', resolve));
      supervisor.kill('SIGTERM');
      await exited;
    }
    if (dir) await rm(dir, { recursive: true, force: true });
  }, 30_000);

  it("listens on this node's address only, and services.d's readiness probe passes", async () => {
    const host = await lan.addHost('pi1', '10.81.0.2/16');
    dir = await mkdtemp(path.join(tmpdir(), 'kk-agent-'));
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH, KEA_CONF_DIR: `${dir}/etc/kea`, KNOT_CONF_DIR: `${dir}/etc/knot`, KEA_RUN_DIR: `${dir}/run/kea`,
      KNOT_RUN_DIR: `${dir}/run/knot`, KEA_LIB_DIR: `${dir}/lib/kea`, KNOT_LIB_DIR: `${dir}/lib/knot`, KEA_KNOT_SOCKET: `${dir}/api.sock`,
      KEA_KNOT_DOMAIN: DOMAIN, KEA_KNOT_SUBNET: '10.81.0.0/16', KEA_KNOT_POOLS: '10.81.1.0-10.81.2.255', KEA_KNOT_INTERFACE: 'eth0',
      KEA_KNOT_KNOT_USER: '', KEA_KNOT_HA_PEERS: 'pi1=10.81.0.2,pi2=10.81.0.3', KEA_KNOT_HA_THIS: 'pi1', KEA_KNOT_HA_SECRET: 'a-shared-secret-for-this-test',
    };
    // setup runs kea-ctrl-agent -t (and every other checker) on what it writes.
    const setup = await lan.exec(host, [process.execPath, CLI, 'init'], { env });
    expect(setup.code, setup.stderr).toBe(0);
    // The product's agent service; the daemons it depends on stood in for by fixtures.
    const services = path.join(dir, 'services.d');
    await mkdir(services);
    await copyFile(path.join(ROOT, 'services.d/kea-ctrl-agent.yaml'), path.join(services, 'kea-ctrl-agent.yaml'));
    await writeFile(path.join(services, 'kea-dhcp4.yaml'), svc('kea-dhcp4', ['run']));
    await writeFile(path.join(services, 'kea-dhcp-ddns.yaml'), svc('kea-dhcp-ddns', ['run']));
    supervisor = lan.spawn(host, [process.execPath, CLI, 'supervise', '--services-dir', services], { env });
    await until(async () => {
      const status = await lan.exec(host, [process.execPath, CLI, 'status', '--json'], { env });
      const agent = (JSON.parse(status.stdout) as { services: { name: string; state: string }[] }).services.find((s) => s.name === 'kea-ctrl-agent');
      if (agent?.state === 'failed') throw new Error(status.stdout);
      return agent?.state === 'ready';
    }, 20_000, 'kea-ctrl-agent ready');
    const listening = (await lan.exec(host, ['ss', '-Hltn', 'sport = :8000'])).stdout.trim().split('\n').map((line) => line.split(/\s+/)[3]);
    expect(listening).toEqual(['10.81.0.2:8000']);
  }, 60_000);
});
