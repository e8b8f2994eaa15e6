/**
 * The Debian images, for real: Kea 3.0 (trixie-backports, no control agent) and Kea 2.6
 * (trixie, with it), each built from Dockerfile.debian with buildah on a locally made
 * debian:trixie-slim, created with scripts/createcontainer.sh and run with podman inside a
 * network namespace of a test LAN (192.0.2.0/24; nothing leaves the namespaces). The same
 * checks run on each: a client gets a lease and its name resolves, reloads and health,
 * a clean stop, a new container on the same named volumes keeps lease and zone. Then two
 * Kea 3.0 containers run as an HA pair: failover and recovery. Timings (build, compressed
 * size, start to healthy) are printed for BENCHMARKS.md ("Image").
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLan, dhcpLease, dig, until, type Host, type Lan } from '../helpers/netns.js';
import { ROOT } from '../helpers/supervisor-process.js';
import { debianMirror, hardNofile, missingTools, mustRun, PodmanRun, run, TOOLS } from './podman.js';

const DOMAIN = 'home.arpa';
const SERVER_IP = '192.0.2.2';
const POOL = { start: '192.0.2.100', end: '192.0.2.150' };
const GRACE_S = 90;

function skipReason(): string {
  const reasons: string[] = [];
  if (process.getuid?.() !== 0) reasons.push('needs root (network namespaces, container storage, debootstrap)');
  const missing = missingTools();
  if (missing.length > 0) reasons.push(`missing ${missing.map((t) => `${t} (Debian package ${TOOLS[t]})`).join(', ')}: scripts/install-deps installs them`);
  if (debianMirror() === undefined) reasons.push('no Debian mirror in /etc/apt for debootstrap');
  return reasons.join('; ');
}
const skip = skipReason();

function ipNumber(ip: string): number { return ip.split('.').reduce((n, octet) => n * 256 + Number(octet), 0); }
const seconds = (ms: number): string => (ms / 1000).toFixed(1);

interface ServiceStatus { name: string; state: string }

interface Variant {
  readonly kea: string;
  /** scripts/image-tag's flag for it. */
  readonly flag: '--debian' | '--previous';
  readonly agent: boolean;
}
const VARIANTS: Variant[] = [
  { kea: '3.0', flag: '--debian', agent: false },
  { kea: '2.6', flag: '--previous', agent: true },
];

let pr: PodmanRun;
let lan: Lan;
let server: Host;
let client: Host;
let probe: Host;
const id = `${process.pid}`;
const built = new Map<string, string>();
const timings: Record<string, Record<string, string>> = {};

/** Builds one variant's image (the build and deps stages come from buildah's layer cache after the first). */
async function buildImage(v: Variant): Promise<string> {
  const image = `localhost/kea-knot-test:${id}-kea${v.kea}`;
  const t = (timings[v.kea] ??= {});
  const buildArgs = (await mustRun([path.join(ROOT, 'scripts/image-tag'), '--build-args', v.flag])).trim().split(/\s+/);
  const t0 = Date.now();
  const build = await run(['buildah', 'bud', '--pull=never', '--format', 'docker', '--layers',
    ...buildArgs, '--build-arg', `VCS_REF=test-${id}`,
    '-f', path.join(ROOT, 'Dockerfile.debian'), '-t', image, ROOT], { env: pr.env, timeoutMs: 480_000 });
  if (build.code !== 0) throw new Error(`buildah bud (Kea ${v.kea}) failed (${build.code}):\n${(build.stdout + build.stderr).slice(-8000)}`);
  t.build = `${seconds(Date.now() - t0)} s`;
  console.log(`[image] Kea ${v.kea}: build (buildah bud, base image local, layers cached across variants): ${t.build}`);
  const t1 = Date.now();
  const bytes = await pr.compressedSize(image);
  t.size = `${(bytes / 1e6).toFixed(1)} MB`;
  console.log(`[image] Kea ${v.kea}: compressed size (podman save | gzip): ${t.size} (${seconds(Date.now() - t1)} s to measure)`);
  const inspect = await pr.mustPodman(['image', 'inspect', image, '--format', '{{.Size}}']);
  t.uncompressed = `${(Number(inspect.trim()) / 1e6).toFixed(0)} MB`;
  built.set(v.kea, image);
  return image;
}

const logsTail = async (name: string): Promise<string> => {
  const logs = await pr.podman(['logs', '--tail', '60', name]).catch(() => undefined);
  return logs ? logs.stdout + logs.stderr : '(no logs)';
};

/** scripts/createcontainer.sh, as a user would run it (with a test LAN namespace as network). */
async function createNode(o: { name: string; image: string; host: Host; address: string; env?: string[]; podmanArgs?: string[] }): Promise<string> {
  const nofile = hardNofile();
  return mustRun(['bash', path.join(ROOT, 'scripts/createcontainer.sh'),
    '--engine', 'podman', '--image', o.image, '--name', o.name,
    '--network', `ns:/run/netns/${o.host.ns}`,
    '--domain', DOMAIN, '--subnet', '192.0.2.0/24', '--address', o.address,
    '--tz', 'Europe/Berlin', '--env', `KEA_KNOT_POOLS=${POOL.start}-${POOL.end}`,
    ...(o.env ?? []).flatMap((e) => ['--env', e]),
    '--unit', path.join(pr.dir, `${o.name}.service`),
    '--', '--ulimit', `nofile=${nofile}:${nofile}`, '--ulimit', 'nproc=4096:4096', ...(o.podmanArgs ?? []),
  ], { env: pr.env, timeoutMs: 60_000 });
}

/** podman start, then `kea-knot health` until it passes; resolves with the wall time. */
async function startNode(name: string, health: string[] = ['kea-knot', 'health']): Promise<number> {
  const t0 = Date.now();
  await pr.mustPodman(['start', name]);
  await until(async () => {
    const state = await pr.podman(['inspect', name, '--format', '{{.State.Status}}']);
    if (state.stdout.trim() === 'exited') throw new Error(`the container exited:\n${await logsTail(name)}`);
    return (await pr.podman(['exec', name, ...health], 10_000)).code === 0;
  }, 90_000, `${name} to be healthy`).catch(async (err: unknown) => {
    throw new Error(`${(err as Error).message}\n${await logsTail(name)}`);
  });
  return Date.now() - t0;
}

describe.skipIf(skip !== '')(`Dockerfile.debian built with buildah and run with podman${skip ? ` (skipped: ${skip})` : ''}`, () => {
beforeAll(async () => {
  await PodmanRun.sweepStale();
  pr = await PodmanRun.create();
  lan = await createLan({ subnet: '192.0.2.0/24' });
  server = await lan.addHost('srv', `${SERVER_IP}/24`);
  client = await lan.addHost('client', '');
  probe = await lan.addHost('probe', '192.0.2.50/24');
  await pr.makeDebianBase(debianMirror()!, (line) => console.log(`[image] ${line}`));
}, 300_000);

afterAll(async () => {
  const errors: unknown[] = [];
  // Containers first (they live in the LAN's namespaces), then the namespaces.
  if (pr) await pr.destroy().catch((err: unknown) => errors.push(err));
  if (lan) await lan.destroy().catch((err: unknown) => errors.push(err));
  if (Object.keys(timings).length > 0) console.log(`[image] timings: ${JSON.stringify(timings)}`);
  if (errors.length > 0) throw new AggregateError(errors, 'image test cleanup');
}, 180_000);

describe.each(VARIANTS)('the Kea $kea image', (v) => {
  let image = '';
  const name = `kk-img-${id}-${v.kea.replace('.', '')}`;
  const t = () => (timings[v.kea] ??= {});
  let leased = '';

  const podman = (args: string[], timeoutMs?: number) => pr.podman(args, timeoutMs);
  const exec = (argv: string[], timeoutMs = 30_000) => pr.podman(['exec', name, ...argv], timeoutMs);
  const createContainer = () => createNode({ name, image, host: server, address: SERVER_IP });
  const startAndWait = () => startNode(name);

  async function statuses(): Promise<ServiceStatus[]> {
    const result = await exec(['kea-knot', 'status', '--json']);
    expect(result.code, result.stderr).toBe(0);
    return (JSON.parse(result.stdout) as { services: ServiceStatus[] }).services;
  }

  beforeAll(async () => { image = await buildImage(v); }, 600_000);

  it('keeps HEALTHCHECK, ENTRYPOINT, STOPSIGNAL, VOLUMEs, ports and labels (docker format)', async () => {
    const inspected = JSON.parse(await pr.mustPodman(['image', 'inspect', image])) as [{ Config: Record<string, unknown>; Healthcheck?: { Test: string[] } }];
    const c = inspected[0].Config as {
      Entrypoint: string[]; StopSignal: string; Healthcheck?: { Test: string[] }; Volumes: Record<string, unknown>;
      ExposedPorts: Record<string, unknown>; Labels: Record<string, string>;
    };
    // podman shows the docker-format health check beside Config (OCI format would drop it).
    c.Healthcheck ??= inspected[0].Healthcheck;
    expect(c.Entrypoint).toEqual(['/usr/local/bin/kea-knot', 'supervise']);
    expect(c.StopSignal).toBe('SIGTERM');
    expect(c.Healthcheck?.Test).toEqual(['CMD', 'kea-knot', 'health']);
    expect(Object.keys(c.Volumes).sort()).toEqual(['/etc/kea', '/etc/knot', '/var/lib/kea', '/var/lib/knot']);
    expect(Object.keys(c.ExposedPorts).sort()).toEqual(['53/tcp', '53/udp', '547/udp', '67/udp', '8000/tcp']);
    expect(c.Labels['org.opencontainers.image.version']).toMatch(/^\d+\.\d+-\d+\.\d+-\d+-debian$/);
    expect(c.Labels['org.opencontainers.image.revision']).toBe(`test-${id}`);
  });

  it('starts from empty volumes: the supervisor is PID 1 and every service gets ready', async () => {
    await createContainer();
    const unit = await readFile(path.join(pr.dir, `${name}.service`), 'utf8');
    expect(unit).toMatch(new RegExp(`ExecStop=\\S*podman stop -t ${GRACE_S} ${name}`));
    expect(Number(/TimeoutStopSec=(\d+)/.exec(unit)?.[1])).toBeGreaterThan(GRACE_S);
    expect((await pr.mustPodman(['inspect', name, '--format', '{{.Config.StopTimeout}}'])).trim()).toBe(String(GRACE_S));

    const wall = await startAndWait();
    t().startToHealthy = `${seconds(wall)} s`;
    // The supervisor's own view: its first record to the last service becoming ready.
    const records = (await podman(['logs', name])).stdout.split('\n').flatMap((line) => {
      try { return [JSON.parse(line) as { time: number; state?: string; msg: string }]; } catch { return []; }
    });
    const started = records.find((r) => /supervisor started/.test(r.msg))?.time;
    const ready = Math.max(...records.filter((r) => r.state === 'ready').map((r) => r.time));
    if (started !== undefined && Number.isFinite(ready)) t().supervisorToReady = `${seconds(ready - started)} s`;
    console.log(`[image] Kea ${v.kea}: podman start to healthy: ${t().startToHealthy}; supervisor start to all ready: ${t().supervisorToReady}`);

    const pid1 = await exec(['cat', '/proc/1/cmdline']);
    expect(pid1.stdout.split('\0')).toEqual(expect.arrayContaining(['/usr/local/bin/kea-knot', 'supervise']));
    const ps = await exec(['ps', '-e', '-o', 'pid=,user=,comm=']);
    expect(ps.code, ps.stderr).toBe(0);
    const rows = ps.stdout.trim().split('\n').map((line) => line.trim().split(/\s+/));
    expect(rows.find((r) => r[0] === '1')?.[2]).toBe('node');
    // Knot drops to its own user; Kea stays root (raw sockets).
    expect(rows.find((r) => r[2] === 'knotd')?.[1]).toBe('knot');
    expect(rows.find((r) => r[2] === 'kea-dhcp4')?.[1]).toBe('root');

    const services = await statuses();
    const state = Object.fromEntries(services.map((s) => [s.name, s.state]));
    expect(state).toMatchObject({ init: 'exited', knot: 'ready', 'kea-dhcp-ddns': 'ready', 'kea-dhcp4': 'ready', 'kea-ctrl-agent': v.agent ? 'ready' : 'disabled', 'kea-dhcp6': 'disabled' });
    expect((await exec(['kea-dhcp4', '-v'])).stdout.trim()).toMatch(new RegExp(`^${v.kea.replace('.', '\\.')}\\.`));
    if (!v.agent) {
      // No control agent and no Python; its wrapper says why.
      expect((await exec(['sh', '-c', 'command -v kea-ctrl-agent || command -v python3'])).code).not.toBe(0);
      const wrapper = await exec(['kea-ctrl-agent-reload']);
      expect(wrapper.code).toBe(1);
      expect(wrapper.stderr).toContain('not used from Kea 3.0');
    }

    // koffi (optional dependency, used to reap orphans as PID 1) is there for this architecture.
    const koffi = await exec(['node', '-e', 'require("/usr/local/lib/kea-knot/node_modules/koffi")']);
    expect(koffi.code, koffi.stderr).toBe(0);

    // TZ honoured (Europe/Berlin is CET or CEST).
    expect((await exec(['date', '+%Z'])).stdout.trim()).toMatch(/^CES?T$/);
  }, 150_000);

  it('reloads through the wrappers and passes the health check', async () => {
    const knot = await exec(['knot-reload']);
    expect(knot.code, knot.stdout + knot.stderr).toBe(0);
    const dhcp4 = await exec(['kea-dhcp4-reload']);
    expect(dhcp4.code, dhcp4.stdout + dhcp4.stderr).toBe(0);
    const health = await podman(['healthcheck', 'run', name]);
    expect(health.code, health.stdout + health.stderr).toBe(0);
    const vizone = await exec(['vizone', '-h']);
    expect(vizone.code).toBe(0);
  }, 60_000);

  it('gives a client on the LAN a lease whose name resolves', async () => {
    const lease = await dhcpLease(lan, client, { hostname: 'laptop', timeoutMs: 20_000 });
    leased = lease.ip;
    expect(ipNumber(leased)).toBeGreaterThanOrEqual(ipNumber(POOL.start));
    expect(ipNumber(leased)).toBeLessThanOrEqual(ipNumber(POOL.end));
    const answer = await until(async () => {
      const records = await dig(lan, probe, SERVER_IP, `laptop.${DOMAIN}`, 'A');
      return records.length > 0 ? records : undefined;
    }, 10_000, `laptop.${DOMAIN} A`);
    expect(answer).toEqual([leased]);
  }, 60_000);

  it('stops within the grace time with exit code 0', async () => {
    const t0 = Date.now();
    const stop = await podman(['stop', name], (GRACE_S + 30) * 1000);
    const took = Date.now() - t0;
    expect(stop.code, stop.stderr).toBe(0);
    t().stop = `${seconds(took)} s`;
    console.log(`[image] Kea ${v.kea}: podman stop: ${t().stop}`);
    expect(took).toBeLessThan(GRACE_S * 1000);
    const exit = await pr.mustPodman(['inspect', name, '--format', '{{.State.ExitCode}}']);
    expect(exit.trim()).toBe('0');
    expect((await podman(['logs', '--tail', '5', name])).stdout).toMatch(/exiting with code 0/);
  }, (GRACE_S + 40) * 1000);

  it('a new container on the same named volumes keeps the configuration, the lease and the zone', async () => {
    await pr.mustPodman(['rm', name]);
    const volumes = (await pr.mustPodman(['volume', 'ls', '--format', '{{.Name}}'])).split('\n');
    expect(volumes).toEqual(expect.arrayContaining([`${name}-etc-kea`, `${name}-lib-kea`, `${name}-etc-knot`, `${name}-lib-knot`]));
    await createContainer();
    await startAndWait();
    expect((await podman(['logs', name])).stdout).toMatch(/the configuration exists; left as it is/);
    // The zone, before any new DHCP traffic could re-add the record.
    expect(await dig(lan, probe, SERVER_IP, `laptop.${DOMAIN}`, 'A')).toEqual([leased]);
    const leases = await exec(['cat', '/var/lib/kea/kea-leases4.csv']);
    expect(leases.stdout).toContain(`${leased},${client.mac}`);
    // Kea still knows the client: the same address again.
    const again = await dhcpLease(lan, client, { hostname: 'laptop', timeoutMs: 20_000 });
    expect(again.ip).toBe(leased);
    await podman(['stop', name], (GRACE_S + 30) * 1000);
    await podman(['rm', name]);
  }, 180_000);
});

describe('two Kea 3.0 containers as an HA pair (kea-dhcp4\'s own HTTP socket, no control agent)', () => {
  const nodes = [
    { name: `kk-ha-${id}-a`, peer: 'pia', address: '192.0.2.2' },
    { name: `kk-ha-${id}-b`, peer: 'pib', address: '192.0.2.3' },
  ] as const;
  const haState = async (name: string): Promise<{ state: string; partner: { state: string | null } } | undefined> => {
    const result = await pr.podman(['exec', name, 'kea-knot', 'status', '--json'], 10_000);
    if (result.code !== 0) return undefined;
    return (JSON.parse(result.stdout) as { services: { name: string; ha?: { state: string; partner: { state: string | null } } }[] }).services.find((s) => s.name === 'kea-dhcp4')?.ha;
  };
  const pairTimings: Record<string, string> = {};

  beforeAll(async () => {
    const image = built.get('3.0') ?? await buildImage(VARIANTS[0]!);
    const second = await lan.addHost('srv2', `${nodes[1].address}/24`);
    // The shared secret as a Docker/compose secret: a file mounted read-only.
    const secret = path.join(pr.dir, 'ha-secret');
    await writeFile(secret, `${'0123456789abcdef'.repeat(3)}\n`, { mode: 0o600 });
    await Promise.all(nodes.map((n, i) => createNode({
      name: n.name, image, host: i === 0 ? server : second, address: n.address,
      env: [`KEA_KNOT_HA_PEERS=${nodes.map((p) => `${p.peer}=${p.address}`).join(',')}`, `KEA_KNOT_HA_THIS=${n.peer}`,
        'KEA_KNOT_HA_SECRET_FILE=/run/secrets/ha', 'KEA_KNOT_HA_PROFILE=fast', `KEA_KNOT_DNS_SERVERS=${nodes.map((p) => p.address).join(',')}`],
      podmanArgs: ['--volume', `${secret}:/run/secrets/ha:ro`],
    })));
    await Promise.all(nodes.map((n) => startNode(n.name)));
    await until(async () => (await Promise.all(nodes.map((n) => haState(n.name)))).every((ha) => ha?.state === 'load-balancing' && ha.partner.state === 'load-balancing'), 30_000, 'both nodes load-balancing');
  }, 600_000);

  afterAll(() => { console.log(`[image] Kea 3.0 pair: ${JSON.stringify(pairTimings)}`); });

  it('serves a client from the pair, its name on both DNS servers', async () => {
    const lease = await dhcpLease(lan, client, { hostname: 'pairclient', timeoutMs: 20_000 });
    for (const n of nodes) {
      await until(async () => (await dig(lan, probe, n.address, `pairclient.${DOMAIN}`, 'A')).includes(lease.ip), 15_000, `pairclient on ${n.name}`);
    }
  }, 60_000);

  it('carries a reservation made on one node to the other\'s Kea (the HA channel of Kea 3.0)', async () => {
    const reserve = await pr.podman(['exec', nodes[1].name, 'kea-knot', 'reserve', '02:00:5e:10:00:01', '192.0.2.140', 'pairprinter']);
    expect(reserve.code, reserve.stdout + reserve.stderr).toBe(0);
    await until(async () => {
      const list = await pr.podman(['exec', nodes[0].name, 'kea-knot', 'reservations', '--json'], 10_000);
      return list.code === 0 && list.stdout.includes('192.0.2.140');
    }, 40_000, 'the reservation on the other node');
    const running = await pr.podman(['exec', nodes[0].name, 'kea-knot', 'kea-command', '--socket', '/run/kea/kea4-ctrl-socket', 'config-get']);
    expect(running.stdout).toContain('02:00:5e:10:00:01');
  }, 90_000);

  it('fails over to the survivor when a node stops, and both load-balance again when it returns', async () => {
    const t0 = Date.now();
    await pr.mustPodman(['stop', nodes[0].name], 120_000);
    await until(async () => (await haState(nodes[1].name))?.state === 'partner-down', 30_000, 'the survivor in partner-down');
    pairTimings.failover = `${seconds(Date.now() - t0)} s (stop to partner-down, stop included)`;
    // A new client is served by the survivor alone (both halves of the pool).
    const late = await lan.addHost('late', '');
    const lease = await dhcpLease(lan, late, { hostname: 'lateclient', timeoutMs: 20_000 });
    expect(ipNumber(lease.ip)).toBeGreaterThanOrEqual(ipNumber(POOL.start));
    const t1 = Date.now();
    await startNode(nodes[0].name);
    await until(async () => (await Promise.all(nodes.map((n) => haState(n.name)))).every((ha) => ha?.state === 'load-balancing'), 60_000, 'both nodes load-balancing again');
    pairTimings.recovery = `${seconds(Date.now() - t1)} s (start to load-balancing)`;
    // The returning node learnt the lease given while it was away.
    const leases = await pr.podman(['exec', nodes[0].name, 'kea-knot', 'kea-command', '--socket', '/run/kea/kea4-ctrl-socket', 'lease4-get', JSON.stringify({ 'ip-address': lease.ip })]);
    expect(leases.stdout).toContain(lease.ip);
  }, 240_000);
});
});
