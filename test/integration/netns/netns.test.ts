// The network-namespace harness itself: topology, link cuts, timeouts, clean-up, isolation,
// and one real DHCP server (kea-dhcp4) answering udhcpc and perfdhcp. Needs root and `ip netns`.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  NETNS_PREFIX, createLan, dhcpLease, dig, perfdhcp, spawnedOutput, sweepStale, until, type Host, type Lan,
} from '../../helpers/netns.js';

/** SIGTERM, then SIGKILL after 5 s; resolves once the process is gone. */
async function endChild(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await gone;
  clearTimeout(timer);
}

const canNetns = process.getuid?.() === 0 && spawnSync('ip', ['netns', 'list']).status === 0;
const hasKea = ['/usr/sbin/kea-dhcp4', '/usr/sbin/perfdhcp', '/usr/sbin/udhcpc'].every((f) => existsSync(f));
const hasKnot = ['/usr/sbin/knotd', '/usr/bin/kdig'].every((f) => existsSync(f));

const lans: Lan[] = [];
async function lan(subnet?: string): Promise<Lan> {
  const made = await createLan(subnet === undefined ? {} : { subnet });
  lans.push(made);
  return made;
}

function netnsNames(): string[] {
  return execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).split('\n').map((l) => l.split(' ')[0] ?? '').filter(Boolean);
}

/** busybox ping: busybox comes with udhcpc, iputils-ping may be missing. */
async function pings(l: Lan, from: Host, to: string): Promise<boolean> {
  const r = await l.exec(from, ['busybox', 'ping', '-c1', '-W1', to], { timeoutMs: 5_000 });
  return r.code === 0;
}

describe.skipIf(!canNetns)('netns harness', () => {
  let main: Lan;
  let a: Host;
  let b: Host;

  beforeAll(async () => {
    main = await lan();
    [a, b] = await Promise.all([main.addHost('a', '192.0.2.1/24'), main.addHost('b', '192.0.2.2')]);
  });

  afterAll(async () => {
    await Promise.allSettled(lans.map((l) => l.destroy()));
  });

  it('names everything after the run id and gives hosts deterministic MACs', () => {
    expect(main.id).toMatch(/^[a-z0-9]{6}$/);
    expect(main.bridgeNs).toBe(`${NETNS_PREFIX}${main.id}-br`);
    expect(a.ns).toBe(`${NETNS_PREFIX}${main.id}-a`);
    expect(b.address).toBe('192.0.2.2/24');
    expect(b.ip).toBe('192.0.2.2');
    expect(a.mac).toMatch(/^02(:[0-9a-f]{2}){5}$/);
    expect(a.mac).not.toBe(b.mac);
    const names = netnsNames();
    expect(names).toEqual(expect.arrayContaining([main.bridgeNs, a.ns, b.ns]));
    const link = execFileSync('ip', ['-n', a.ns, '-o', 'link', 'show', 'eth0'], { encoding: 'utf8' });
    expect(link).toContain(a.mac);
    // Nothing of ours in the root namespace.
    expect(execFileSync('ip', ['-o', 'link'], { encoding: 'utf8' })).not.toContain(main.id);
  });

  it('refuses addresses outside the test ranges', async () => {
    await expect(main.addHost('bad', '172.16.0.1/24')).rejects.toThrow(/outside the test ranges/);
    await expect(createLan({ subnet: '192.168.1.0/24' })).rejects.toThrow(/outside the test ranges/);
  });

  it('hosts reach each other; setLink(down) cuts a host off and up restores it', async () => {
    expect(await pings(main, a, b.ip)).toBe(true);
    expect(await pings(main, b, a.ip)).toBe(true);
    await main.setLink(b, false);
    expect(await pings(main, a, b.ip)).toBe(false);
    await main.setLink(b, true);
    await until(() => pings(main, a, b.ip), 5_000, 'ping after link up');
  });

  it('exec reports code and output, and a timeout kills the command and its children', async () => {
    const ok = await main.exec(a, ['sh', '-c', 'echo out; echo err >&2; exit 3']);
    expect(ok).toEqual({ code: 3, stdout: 'out\n', stderr: 'err\n' });
    const env = await main.exec(a, ['sh', '-c', 'echo "$KK_PROBE"'], { env: { KK_PROBE: 'hello' } });
    expect(env.stdout).toBe('hello\n');

    const c = await main.addHost('c', '');
    const started = Date.now();
    await expect(main.exec(c, ['sh', '-c', 'sleep 30 & sleep 30'], { timeoutMs: 300 })).rejects.toThrow(/timed out after 300 ms/);
    expect(Date.now() - started).toBeLessThan(5_000);
    // Both sleeps were in the command's process group: nothing is left in the namespace.
    await until(async () => execFileSync('ip', ['netns', 'pids', c.ns], { encoding: 'utf8' }).trim() === '', 2_000, 'no process left in ns c');
  });

  it('destroy() removes namespaces and processes, and may be called twice', async () => {
    const l = await lan('198.51.100.0/24');
    const x = await l.addHost('x', '198.51.100.1/24');
    await l.addHost('y', '');
    // A process that ignores SIGTERM: destroy must SIGKILL it after 3 s.
    const stubborn = l.spawn(x, ['sh', '-c', 'trap "" TERM; while :; do sleep 0.1; done']);
    const polite = l.spawn(x, ['sleep', '60']);
    const names = netnsNames().filter((n) => n.startsWith(`${NETNS_PREFIX}${l.id}-`));
    expect(names).toHaveLength(3);
    await Promise.all([l.destroy(), l.destroy()]);
    await l.destroy();
    expect(netnsNames().filter((n) => n.includes(l.id))).toEqual([]);
    expect(polite.signalCode ?? polite.exitCode).not.toBeNull();
    expect(stubborn.signalCode).toBe('SIGKILL');
    await expect(l.addHost('z', '')).rejects.toThrow(/destroyed/);
  }, 15_000);

  it('two LANs made at the same time do not collide and do not see each other', async () => {
    const [l1, l2] = await Promise.all([lan(), lan()]);
    expect(l1.id).not.toBe(l2.id);
    const [p1, q1, p2, q2, r2] = await Promise.all([
      l1.addHost('p', '192.0.2.1/24'), l1.addHost('q', '192.0.2.2/24'),
      l2.addHost('p', '192.0.2.1/24'), l2.addHost('q', '192.0.2.2/24'), l2.addHost('r', '192.0.2.3/24'),
    ]);
    expect(p1.ns).not.toBe(p2.ns);
    expect(await pings(l1, q1, p1.ip)).toBe(true);
    expect(await pings(l2, q2, p2.ip)).toBe(true);
    expect(await pings(l1, q1, r2.ip)).toBe(false);
    await l1.destroy();
    expect(await pings(l2, p2, r2.ip)).toBe(true);
  });

  it('sweepStale() deletes an ownerless old namespace and kills what runs in it, but keeps live LANs', async () => {
    const ns = `${NETNS_PREFIX}zz${Date.now().toString(36).slice(-4)}-br`;
    execFileSync('ip', ['netns', 'add', ns]);
    const orphan = spawn('ip', ['netns', 'exec', ns, 'sleep', '60'], { stdio: 'ignore' });
    try {
      await until(async () => execFileSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).trim() !== '', 2_000, 'orphan running');
      const swept = await sweepStale({ olderThanMs: 0, match: new RegExp(`^${ns}$|^${NETNS_PREFIX}${main.id}-`) });
      expect(swept).toEqual([ns]);
      expect(netnsNames()).not.toContain(ns);
      expect(netnsNames()).toContain(main.bridgeNs);
      await until(async () => orphan.exitCode !== null || orphan.signalCode !== null, 2_000, 'orphan killed');
      // The default (10 minutes) leaves fresh namespaces alone.
      expect(await sweepStale()).not.toContain(a.ns);
    } finally {
      if (orphan.exitCode === null && orphan.signalCode === null && orphan.pid) orphan.kill('SIGKILL');
      spawnSync('ip', ['netns', 'del', ns]);
    }
  });

  describe.skipIf(!hasKnot)('with knotd', () => {
    let tmp: string;
    let knot: ChildProcess | undefined;

    beforeAll(async () => {
      tmp = await mkdtemp(path.join(tmpdir(), 'kk-netns-knot-'));
      const dns = await main.addHost('dns', '192.0.2.53/24');
      await writeFile(path.join(tmp, 'example.test.zone'), [
        '$TTL 300',
        '@ SOA ns.example.test. admin.example.test. 1 3600 600 86400 300',
        '@ NS ns', 'ns A 192.0.2.53', 'host A 192.0.2.10', 'host A 192.0.2.11',
        'txt TXT "hello world" "two"', '10.2.0 PTR nothing.example.test.', '',
      ].join('\n'));
      await writeFile(path.join(tmp, 'knot.conf'), [
        'server:', `  rundir: ${tmp}`, '  listen: 192.0.2.53@5353',
        'database:', `  storage: ${tmp}/db`,
        'zone:', '  - domain: example.test', `    storage: ${tmp}`, '    file: example.test.zone', '',
      ].join('\n'));
      const started = main.spawn(dns, ['knotd', '-c', path.join(tmp, 'knot.conf')]);
      knot = started;
      await until(async () => {
        if (started.exitCode !== null) throw new Error(`knotd exited ${started.exitCode}:\n${spawnedOutput(started)}`);
        return (await dig(main, a, '192.0.2.53', 'example.test', 'SOA', 5353)).length === 1;
      }, 10_000, 'knotd answering');
    });

    afterAll(async () => {
      await endChild(knot); // before its directory goes
      if (tmp) await rm(tmp, { recursive: true, force: true });
    });

    it('dig returns the answer records, [] for NXDOMAIN, and rejects REFUSED and no answer', async () => {
      expect((await dig(main, a, '192.0.2.53', 'host.example.test', 'A', 5353)).sort()).toEqual(['192.0.2.10', '192.0.2.11']);
      expect(await dig(main, a, '192.0.2.53', 'txt.example.test', 'TXT', 5353)).toEqual(['"hello world" "two"']);
      expect(await dig(main, a, '192.0.2.53', 'example.test', 'SOA', 5353)).toEqual(['ns.example.test. admin.example.test. 1 3600 600 86400 300']);
      expect(await dig(main, a, '192.0.2.53', 'nope.example.test', 'A', 5353)).toEqual([]);
      expect(await dig(main, a, '192.0.2.53', 'host.example.test', 'AAAA', 5353)).toEqual([]);
      await expect(dig(main, a, '192.0.2.53', 'elsewhere.invalid', 'A', 5353)).rejects.toThrow(/REFUSED/);
      await expect(dig(main, a, '192.0.2.53', 'host.example.test', 'A', 5399)).rejects.toThrow(/failed/);
    });
  });

  describe.skipIf(!hasKea)('with kea-dhcp4', () => {
    let tmp: string;
    let kea: ChildProcess | undefined;
    let srv: Host;
    let cli: Host;
    let perf: Host;

    beforeAll(async () => {
      tmp = await mkdtemp(path.join(tmpdir(), 'kk-netns-kea-'));
      [srv, cli, perf] = await Promise.all([main.addHost('srv', '192.0.2.10/24'), main.addHost('cli', ''), main.addHost('perf', '192.0.2.11/24')]);
      const config = {
        Dhcp4: {
          'interfaces-config': { interfaces: ['eth0'], 'dhcp-socket-type': 'raw' },
          'lease-database': { type: 'memfile', persist: false, name: path.join(tmp, 'leases4.csv') },
          'valid-lifetime': 3600,
          subnet4: [{ id: 1, subnet: '192.0.2.0/24', pools: [{ pool: '192.0.2.100 - 192.0.2.199' }] }],
          loggers: [{ name: 'kea-dhcp4', output_options: [{ output: 'stdout' }], severity: 'INFO' }],
        },
      };
      const file = path.join(tmp, 'kea-dhcp4.json');
      await writeFile(file, JSON.stringify(config, null, 2));
      const started = main.spawn(srv, ['kea-dhcp4', '-c', file], { env: { KEA_PIDFILE_DIR: tmp, KEA_LOCKFILE_DIR: tmp } });
      kea = started;
      await until(async () => {
        if (started.exitCode !== null) throw new Error(`kea-dhcp4 exited ${started.exitCode}:\n${spawnedOutput(started)}`);
        if (!spawnedOutput(started).includes('DHCP4_STARTED')) return false;
        const ss = await main.exec(srv, ['ss', '-Huln', 'sport = :67']);
        return ss.stdout.includes(':67');
      }, 10_000, 'kea-dhcp4 listening on :67');
      keaOutput = () => spawnedOutput(started);
    });

    let keaOutput = (): string => '';

    afterAll(async () => {
      await endChild(kea); // before its directory goes
      if (tmp) await rm(tmp, { recursive: true, force: true });
    });

    it('udhcpc gets a lease from the pool, and can release it', async () => {
      const lease = await dhcpLease(main, cli, { hostname: 'alpha' });
      expect(lease.ip).toMatch(/^192\.0\.2\.1\d\d$/);
      expect(lease.output).toContain(`lease of ${lease.ip} obtained`);
      await until(async () => keaOutput().includes(`lease ${lease.ip} has been allocated`), 2_000, 'DHCP4_LEASE_ALLOC');

      const again = await dhcpLease(main, cli, { release: true });
      expect(again.ip).toMatch(/^192\.0\.2\.1\d\d$/);
      await until(async () => keaOutput().includes(`address ${again.ip} was released properly`), 3_000, 'DHCP4_RELEASE');
      // The client is left unconfigured.
      const addr = await main.exec(cli, ['ip', '-4', '-o', 'addr', 'show', 'dev', 'eth0']);
      expect(addr.stdout.trim()).toBe('');
    });

    it('dhcpLease rejects with udhcpc output when nobody answers', async () => {
      await main.setLink(cli, false);
      try {
        await expect(dhcpLease(main, cli, { timeoutMs: 1_500 })).rejects.toThrow(/broadcasting discover|timed out/);
      } finally {
        await main.setLink(cli, true);
      }
    });

    it('perfdhcp: 20 clients at 20/s all get answers', async () => {
      const result = await perfdhcp(main, perf, { rate: 20, clients: 20, seconds: 5 });
      expect(result, result.output).toMatchObject({ sent: 20, received: 20, drops: 0, code: 0 });
      expect(result.exchanges['DISCOVER-OFFER']).toEqual({ sent: 20, received: 20, drops: 0 });
      await expect(perfdhcp(main, cli, { rate: 1, clients: 1, seconds: 1 })).rejects.toThrow(/static address/);
    });
  });
});
