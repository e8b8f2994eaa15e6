/**
 * The Debian image, for real: built from Dockerfile.debian with buildah on a locally made
 * debian:trixie-slim, created with scripts/createcontainer.sh and run with podman inside a
 * network namespace of a test LAN (192.0.2.0/24; nothing leaves the namespaces). A client
 * namespace gets a lease from the container and its name resolves; the container stops
 * cleanly; a new container on the same named volumes keeps the lease and the zone.
 * Timings (build, compressed size, start to ready) are printed for BENCHMARKS.md ("Image").
 */
import { readFile } from 'node:fs/promises';
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

describe.skipIf(skip !== '')(`Dockerfile.debian built with buildah and run with podman${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let pr: PodmanRun;
  let lan: Lan;
  let server: Host;
  let client: Host;
  let probe: Host;
  const id = `${process.pid}`;
  const image = `localhost/kea-knot-test:${id}`;
  const name = `kk-img-${id}`;
  const timings: Record<string, string> = {};
  let leased = '';

  const podman = (args: string[], timeoutMs?: number) => pr.podman(args, timeoutMs);
  const exec = (argv: string[], timeoutMs = 30_000) => pr.podman(['exec', name, ...argv], timeoutMs);
  const logsTail = async (): Promise<string> => {
    const logs = await podman(['logs', '--tail', '60', name]).catch(() => undefined);
    return logs ? logs.stdout + logs.stderr : '(no logs)';
  };

  /** scripts/createcontainer.sh, as a user would run it (with the test LAN's namespace as network). */
  async function createContainer(): Promise<string> {
    const nofile = hardNofile();
    return mustRun(['bash', path.join(ROOT, 'scripts/createcontainer.sh'),
      '--engine', 'podman', '--image', image, '--name', name,
      '--network', `ns:/run/netns/${server.ns}`,
      '--domain', DOMAIN, '--subnet', '192.0.2.0/24', '--address', SERVER_IP,
      '--tz', 'Europe/Berlin', '--env', `KEA_KNOT_POOLS=${POOL.start}-${POOL.end}`,
      '--unit', path.join(pr.dir, `${name}.service`),
      '--', '--ulimit', `nofile=${nofile}:${nofile}`, '--ulimit', 'nproc=4096:4096',
    ], { env: pr.env, timeoutMs: 60_000 });
  }

  /** podman start, then `kea-knot health` until it passes; resolves with the wall time. */
  async function startAndWait(): Promise<number> {
    const t0 = Date.now();
    await pr.mustPodman(['start', name]);
    await until(async () => {
      const state = await podman(['inspect', name, '--format', '{{.State.Status}}']);
      if (state.stdout.trim() === 'exited') throw new Error(`the container exited:\n${await logsTail()}`);
      return (await exec(['kea-knot', 'health'], 10_000)).code === 0;
    }, 90_000, 'the container to be healthy').catch(async (err: unknown) => {
      throw new Error(`${(err as Error).message}\n${await logsTail()}`);
    });
    return Date.now() - t0;
  }

  async function statuses(): Promise<ServiceStatus[]> {
    const result = await exec(['kea-knot', 'status', '--json']);
    expect(result.code, result.stderr).toBe(0);
    return (JSON.parse(result.stdout) as { services: ServiceStatus[] }).services;
  }

  beforeAll(async () => {
    await PodmanRun.sweepStale();
    pr = await PodmanRun.create();
    lan = await createLan({ subnet: '192.0.2.0/24' });
    server = await lan.addHost('srv', `${SERVER_IP}/24`);
    client = await lan.addHost('client', '');
    probe = await lan.addHost('probe', '192.0.2.50/24');

    await pr.makeDebianBase(debianMirror()!, (line) => console.log(`[image] ${line}`));
    const buildArgs = (await mustRun([path.join(ROOT, 'scripts/image-tag'), '--build-args', '--debian'])).trim().split(/\s+/);
    const t0 = Date.now();
    const build = await run(['buildah', 'bud', '--pull=never', '--format', 'docker', '--layers',
      ...buildArgs, '--build-arg', `VCS_REF=test-${id}`,
      '-f', path.join(ROOT, 'Dockerfile.debian'), '-t', image, ROOT], { env: pr.env, timeoutMs: 480_000 });
    if (build.code !== 0) throw new Error(`buildah bud failed (${build.code}):\n${(build.stdout + build.stderr).slice(-8000)}`);
    timings.build = `${seconds(Date.now() - t0)} s`;
    console.log(`[image] build (buildah bud, cold, base image local): ${timings.build}`);
    const t1 = Date.now();
    const bytes = await pr.compressedSize(image);
    timings.size = `${(bytes / 1e6).toFixed(1)} MB`;
    console.log(`[image] compressed size (podman save | gzip): ${timings.size} (${seconds(Date.now() - t1)} s to measure)`);
    const inspect = await pr.mustPodman(['image', 'inspect', image, '--format', '{{.Size}}']);
    timings.uncompressed = `${(Number(inspect.trim()) / 1e6).toFixed(0)} MB`;
  }, 600_000);

  afterAll(async () => {
    const errors: unknown[] = [];
    // Containers first (they live in the LAN's namespace), then the namespaces.
    if (pr) await pr.destroy().catch((err: unknown) => errors.push(err));
    if (lan) await lan.destroy().catch((err: unknown) => errors.push(err));
    if (Object.keys(timings).length > 0) console.log(`[image] timings: ${JSON.stringify(timings)}`);
    if (errors.length > 0) throw new AggregateError(errors, 'image test cleanup');
  }, 180_000);

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
    timings.startToReady = `${seconds(wall)} s`;
    // The supervisor's own view: its first record to the last service becoming ready.
    const records = (await podman(['logs', name])).stdout.split('\n').flatMap((line) => {
      try { return [JSON.parse(line) as { time: number; state?: string; msg: string }]; } catch { return []; }
    });
    const started = records.find((r) => /supervisor started/.test(r.msg))?.time;
    const ready = Math.max(...records.filter((r) => r.state === 'ready').map((r) => r.time));
    if (started !== undefined && Number.isFinite(ready)) timings.supervisorToReady = `${seconds(ready - started)} s`;
    console.log(`[image] podman start to healthy: ${timings.startToReady}; supervisor start to all ready: ${timings.supervisorToReady}`);

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
    expect(state).toMatchObject({ init: 'exited', knot: 'ready', 'kea-dhcp-ddns': 'ready', 'kea-dhcp4': 'ready', 'kea-ctrl-agent': 'ready', 'kea-dhcp6': 'disabled' });

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
    timings.stop = `${seconds(took)} s`;
    console.log(`[image] podman stop: ${timings.stop}`);
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
  }, 180_000);
});
