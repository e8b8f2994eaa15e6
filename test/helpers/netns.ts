/**
 * Network-namespace test harness: a LAN of namespaces joined by a bridge, for end-to-end
 * tests that run real DHCP/DNS servers in one namespace and clients in another.
 *
 * Topology (nothing is ever created in the root namespace):
 *   kkt-<id>-br      one namespace holding bridge `br<id>` and the bridge ends `v<id><n>`
 *   kkt-<id>-<name>  one namespace per host, with `eth0` (the other end of its veth pair)
 * Loopback is up everywhere. Addresses must lie in 192.0.2.0/24, 198.51.100.0/24,
 * 203.0.113.0/24 or 10.0.0.0/8: traffic never leaves these namespaces.
 *
 * Processes are started with `ip netns exec` (which execs the command, so the child's pid is
 * the command's) in a process group of their own, and are only ever signalled by that pid.
 * Needs root.
 */
import { spawn as spawnChild, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { chmod, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { constants, tmpdir } from 'node:os';
import path from 'node:path';
import { inspect } from 'node:util';

/** Every namespace this harness makes starts with this; sweepStale() only looks at these. */
export const NETNS_PREFIX = 'kkt-';
const NETNS_DIR = '/run/netns';
const STALE_AFTER_MS = 10 * 60_000;
const KILL_GRACE_MS = 3_000;
const OWNER_TAG = 'kea-knot-test';

export interface Host { readonly ns: string; readonly address: string; readonly ip: string; readonly mac: string }

export interface ExecResult { code: number; stdout: string; stderr: string }

export interface Lan {
  readonly id: string;
  readonly bridgeNs: string;
  /** The LAN's subnet (CIDR), e.g. 192.0.2.0/24. */
  readonly subnet: string;
  /** Adds a host namespace with `eth0` on the LAN bridge; `address` '' leaves it unconfigured (for clients). */
  addHost(name: string, address: string): Promise<Host>;
  /** Runs a command inside a host's namespace (argv, no shell) and resolves with code/stdout/stderr; rejects on timeout (kills what it started). */
  exec(host: Host, argv: string[], options?: { timeoutMs?: number; env?: NodeJS.ProcessEnv }): Promise<ExecResult>;
  /** Starts a long-running process inside the namespace (returns the ChildProcess; tracked and killed at destroy()). */
  spawn(host: Host, argv: string[], options?: { env?: NodeJS.ProcessEnv; cwd?: string }): ChildProcess;
  /** Cuts / restores a host's link (ip link set down/up on its bridge side). */
  setLink(host: Host, up: boolean): Promise<void>;
  /** Deletes every namespace, veth and bridge of this LAN and kills every process started through it (by pid; SIGTERM, then SIGKILL after 3 s). Idempotent. */
  destroy(): Promise<void>;
}

// ---------------------------------------------------------------------------------------
// Small process utilities (root namespace; only `ip` itself runs there)

class CommandError extends Error {
  constructor(readonly argv: string[], readonly result: ExecResult) {
    super(`${argv.join(' ')} exited ${result.code}: ${(result.stderr || result.stdout).trim()}`);
  }
}

/** Tail of a child's combined output, kept for error messages (bounded). */
const outputTails = new WeakMap<ChildProcess, { text: string }>();
const TAIL_LIMIT = 64 * 1024;

/** The last 64 KiB of what a process started by lan.spawn() printed (stdout and stderr interleaved). */
export function spawnedOutput(child: ChildProcess): string {
  return outputTails.get(child)?.text ?? '';
}

function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

function waitExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (exited(child)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => { child.off('exit', onExit); resolve(false); }, ms);
    const onExit = (): void => { clearTimeout(timer); resolve(true); };
    child.once('exit', onExit);
  });
}

/** Signals the process group led by a child we started (never pid 0/1/-1, never after it exited). */
function signalChild(child: ChildProcess, signal: NodeJS.Signals): void {
  const pid = child.pid;
  if (pid === undefined || pid <= 1 || pid === process.pid || exited(child)) return;
  try { process.kill(-pid, signal); } catch {
    try { process.kill(pid, signal); } catch { /* already gone */ }
  }
}

/** SIGTERM, then SIGKILL after the grace period; resolves when the child has exited. */
async function terminate(child: ChildProcess, graceMs = KILL_GRACE_MS): Promise<void> {
  if (exited(child)) return;
  signalChild(child, 'SIGTERM');
  if (await waitExit(child, graceMs)) return;
  signalChild(child, 'SIGKILL');
  await waitExit(child, 2_000);
}

function collect(child: ChildProcess, argv: string[], timeoutMs: number): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout?.setEncoding('utf8').on('data', (s: string) => { stdout += s; });
    child.stderr?.setEncoding('utf8').on('data', (s: string) => { stderr += s; });
    const timer = setTimeout(() => {
      timedOut = true;
      void terminate(child, 500);
    }, timeoutMs);
    child.once('error', (err) => { clearTimeout(timer); reject(err); });
    // A helper that left the process group may hold the pipes open: stop waiting 1 s after exit.
    child.once('exit', () => {
      setTimeout(() => { child.stdout?.destroy(); child.stderr?.destroy(); }, 1_000).unref();
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (timedOut) {
        reject(Object.assign(new Error(`timed out after ${timeoutMs} ms (killed): ${argv.join(' ')}\n${stdout}${stderr}`), { stdout, stderr }));
      } else {
        resolve({ code: code ?? 128 + signalNumber(signal), stdout, stderr });
      }
    });
  });
}

function signalNumber(signal: NodeJS.Signals | null): number {
  return signal ? constants.signals[signal] ?? 0 : 0;
}

/** Runs a command in the current (root) namespace: only `ip` is ever run this way. */
async function run(argv: string[], timeoutMs = 10_000): Promise<ExecResult> {
  const child = spawnChild(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  return collect(child, argv, timeoutMs);
}

async function mustRun(argv: string[], timeoutMs?: number): Promise<string> {
  const result = await run(argv, timeoutMs);
  if (result.code !== 0) throw new CommandError(argv, result);
  return result.stdout;
}

/** `ip netns add` is serialised within a process (first-time /run/netns set-up races). */
let netnsAddChain: Promise<unknown> = Promise.resolve();
function addNetns(name: string): Promise<ExecResult> {
  const next = netnsAddChain.then(() => run(['ip', 'netns', 'add', name]));
  netnsAddChain = next.catch(() => undefined);
  return next;
}

async function listNetns(): Promise<string[]> {
  const out = await mustRun(['ip', 'netns', 'list']);
  return out.split('\n').map((line) => line.trim().split(/\s+/)[0] ?? '').filter(Boolean);
}

async function netnsPids(ns: string): Promise<number[]> {
  const result = await run(['ip', 'netns', 'pids', ns]);
  if (result.code !== 0) return [];
  return result.stdout.split(/\s+/).map(Number).filter((pid) => Number.isInteger(pid) && pid > 1 && pid !== process.pid);
}

function pidAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) Z /s.test(stat);
  } catch { return false; }
}

/** Kills whatever still runs inside one of our namespaces (pids listed by `ip netns pids`). */
async function killInside(ns: string, graceMs: number): Promise<void> {
  let pids = await netnsPids(ns);
  if (pids.length === 0) return;
  for (const pid of pids) { try { process.kill(pid, 'SIGTERM'); } catch { /* gone */ } }
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && pids.some(pidAlive)) await sleep(50);
  pids = pids.filter(pidAlive);
  for (const pid of pids) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
  const hard = Date.now() + 2_000;
  while (Date.now() < hard && pids.some(pidAlive)) await sleep(50);
}

async function deleteNetns(ns: string): Promise<void> {
  const result = await run(['ip', 'netns', 'del', ns]);
  if (result.code !== 0 && !/No such file|not found|does not exist/i.test(result.stderr)) {
    throw new CommandError(['ip', 'netns', 'del', ns], result);
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------------------------------
// Addresses

const ALLOWED_RANGES = ['192.0.2.0/24', '198.51.100.0/24', '203.0.113.0/24', '10.0.0.0/8'];

function ipToInt(ip: string): number {
  const parts = ip.split('.');
  if (parts.length !== 4) throw new Error(`not an IPv4 address: ${ip}`);
  let n = 0;
  for (const part of parts) {
    const octet = Number(part);
    if (!/^\d{1,3}$/.test(part) || octet > 255) throw new Error(`not an IPv4 address: ${ip}`);
    n = n * 256 + octet;
  }
  return n;
}

function parseCidr(cidr: string): { ip: string; prefix: number } {
  const [ip = '', prefixText] = cidr.split('/');
  const prefix = Number(prefixText);
  ipToInt(ip);
  if (prefixText === undefined || !Number.isInteger(prefix) || prefix < 8 || prefix > 32) throw new Error(`not an IPv4 CIDR: ${cidr}`);
  return { ip, prefix };
}

function inRange(ip: string, cidr: string): boolean {
  const { ip: base, prefix } = parseCidr(cidr);
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return ((ipToInt(ip) & mask) >>> 0) === ((ipToInt(base) & mask) >>> 0);
}

function assertAllowed(ip: string, what: string): void {
  if (!ALLOWED_RANGES.some((range) => inRange(ip, range))) {
    throw new Error(`${what} ${ip} is outside the test ranges (${ALLOWED_RANGES.join(', ')})`);
  }
}

// ---------------------------------------------------------------------------------------
// The LAN

interface HostRecord { host: Host; index: number; bridgePort: string }

class NetnsLan implements Lan {
  readonly bridgeNs: string;
  readonly bridge: string;
  private readonly hosts = new Map<string, HostRecord>();
  private readonly children = new Set<ChildProcess>();
  private nextIndex = 1;
  private destroying: Promise<void> | undefined;

  constructor(readonly id: string, readonly subnet: string, readonly tmp: string) {
    this.bridgeNs = `${NETNS_PREFIX}${id}-br`;
    this.bridge = `br${id}`;
  }

  /** Namespaces that belong to this LAN (all start with this prefix). */
  get nsPrefix(): string { return `${NETNS_PREFIX}${this.id}-`; }

  async setUp(): Promise<void> {
    const ns = this.bridgeNs;
    await mustRun(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
    await mustRun(['ip', '-n', ns, 'link', 'add', this.bridge, 'type', 'bridge', 'forward_delay', '0', 'stp_state', '0']);
    // Who made it, so that sweepStale() of another run leaves a live LAN alone.
    await mustRun(['ip', '-n', ns, 'link', 'set', this.bridge, 'alias', `${OWNER_TAG} pid=${process.pid}`]);
    await mustRun(['ip', '-n', ns, 'link', 'set', this.bridge, 'up']);
  }

  private assertLive(): void {
    if (this.destroying) throw new Error(`LAN ${this.id} is destroyed`);
  }

  async addHost(name: string, address: string): Promise<Host> {
    this.assertLive();
    if (!/^[a-z0-9][a-z0-9-]{0,39}$/i.test(name) || name === 'br') throw new Error(`bad host name: ${JSON.stringify(name)}`);
    if (this.hosts.has(name)) throw new Error(`host ${name} already exists on LAN ${this.id}`);
    let cidr = address;
    let ip = '';
    if (address !== '') {
      if (!address.includes('/')) cidr = `${address}/${parseCidr(this.subnet).prefix}`;
      ip = parseCidr(cidr).ip;
      assertAllowed(ip, 'address');
    }
    const index = this.nextIndex++;
    if (index > 999) throw new Error('too many hosts');
    const ns = `${this.nsPrefix}${name}`;
    const bridgePort = `v${this.id}${index}`;
    const mac = macFor(this.id, name);
    const host: Host = Object.freeze({ ns, address: cidr, ip, mac });
    this.hosts.set(name, { host, index, bridgePort });

    const created = await addNetns(ns);
    if (created.code !== 0) { this.hosts.delete(name); throw new CommandError(['ip', 'netns', 'add', ns], created); }
    await mustRun(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
    // Both ends are made inside the bridge namespace; the peer is born directly in the host's.
    await mustRun(['ip', '-n', this.bridgeNs, 'link', 'add', bridgePort, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
    await mustRun(['ip', '-n', this.bridgeNs, 'link', 'set', bridgePort, 'master', this.bridge]);
    await mustRun(['ip', '-n', this.bridgeNs, 'link', 'set', bridgePort, 'up']);
    await mustRun(['ip', '-n', ns, 'link', 'set', 'eth0', 'address', mac]);
    if (cidr !== '') await mustRun(['ip', '-n', ns, 'addr', 'add', cidr, 'dev', 'eth0']);
    await mustRun(['ip', '-n', ns, 'link', 'set', 'eth0', 'up']);
    return host;
  }

  private record(host: Host): HostRecord {
    for (const record of this.hosts.values()) if (record.host.ns === host.ns) return record;
    throw new Error(`host ${host.ns} is not on LAN ${this.id}`);
  }

  private start(host: Host, argv: string[], env: NodeJS.ProcessEnv | undefined, cwd: string | undefined, stdin: 'ignore' | 'pipe'): ChildProcess {
    this.assertLive();
    this.record(host);
    if (argv.length === 0) throw new Error('empty argv');
    const child = spawnChild('ip', ['netns', 'exec', host.ns, ...argv], {
      env: { ...process.env, ...env },
      cwd,
      stdio: [stdin, 'pipe', 'pipe'],
      // Own process group: a timeout or destroy() reaches the command's helpers too.
      detached: true,
    });
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
    child.once('error', () => this.children.delete(child));
    return child;
  }

  exec(host: Host, argv: string[], options: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<ExecResult> {
    let child: ChildProcess;
    try { child = this.start(host, argv, options.env, undefined, 'ignore'); } catch (err) { return Promise.reject(err); }
    return collect(child, argv, options.timeoutMs ?? 10_000);
  }

  spawn(host: Host, argv: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): ChildProcess {
    const child = this.start(host, argv, options.env, options.cwd, 'ignore');
    const tail = { text: '' };
    outputTails.set(child, tail);
    const keep = (chunk: Buffer): void => {
      tail.text += chunk.toString('utf8');
      if (tail.text.length > TAIL_LIMIT) tail.text = tail.text.slice(-TAIL_LIMIT);
    };
    // Always drained, so a chatty daemon never blocks on a full pipe; callers may add listeners too.
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    return child;
  }

  async setLink(host: Host, up: boolean): Promise<void> {
    this.assertLive();
    const { bridgePort } = this.record(host);
    await mustRun(['ip', '-n', this.bridgeNs, 'link', 'set', bridgePort, up ? 'up' : 'down']);
  }

  destroy(): Promise<void> {
    this.destroying ??= this.teardown();
    return this.destroying;
  }

  private async teardown(): Promise<void> {
    const errors: unknown[] = [];
    await Promise.all([...this.children].map((child) => terminate(child).catch((err: unknown) => { errors.push(err); })));
    // Our namespaces and everything in them: also helpers that left their process group.
    const names = (await listNetns().catch(() => [] as string[])).filter((ns) => ns.startsWith(this.nsPrefix));
    for (const record of this.hosts.values()) if (!names.includes(record.host.ns)) names.push(record.host.ns);
    if (!names.includes(this.bridgeNs)) names.push(this.bridgeNs);
    const present = new Set(await listNetns().catch(() => names));
    for (const ns of names.filter((n) => present.has(n))) {
      try {
        await killInside(ns, KILL_GRACE_MS);
        await deleteNetns(ns);
      } catch (err) { errors.push(err); }
    }
    await rm(this.tmp, { recursive: true, force: true }).catch((err: unknown) => { errors.push(err); });
    if (errors.length > 0) throw new AggregateError(errors, `destroy of LAN ${this.id} left errors`);
  }
}

function macFor(id: string, name: string): string {
  const digest = createHash('sha256').update(`${id}/${name}`).digest();
  // 02: locally administered, unicast.
  return ['02', ...[...digest.subarray(0, 5)].map((b) => b.toString(16).padStart(2, '0'))].join(':');
}

function newId(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  const bytes = randomBytes(6);
  // First character a letter, so names never look like numbers.
  return [...bytes].map((b, i) => (i === 0 ? alphabet[b % 26] : alphabet[b % 36])).join('');
}

const lanDirs = new WeakMap<Lan, string>();

export async function createLan(options: { subnet?: string } = {}): Promise<Lan> {
  const subnet = options.subnet ?? '192.0.2.0/24';
  assertAllowed(parseCidr(subnet).ip, 'subnet');
  for (let attempt = 0; attempt < 5; attempt++) {
    const id = newId();
    const existing = await listNetns();
    if (existing.some((ns) => ns.startsWith(`${NETNS_PREFIX}${id}-`))) continue;
    const bridgeNs = `${NETNS_PREFIX}${id}-br`;
    const created = await addNetns(bridgeNs);
    if (created.code !== 0) {
      if (/exists/i.test(created.stderr)) continue;
      throw new CommandError(['ip', 'netns', 'add', bridgeNs], created);
    }
    const tmp = await mkdtemp(path.join(tmpdir(), `kk-netns-${id}-`));
    const lan = new NetnsLan(id, subnet, tmp);
    lanDirs.set(lan, tmp);
    try {
      await lan.setUp();
    } catch (err) {
      await lan.destroy().catch(() => undefined);
      throw err;
    }
    return lan;
  }
  throw new Error('could not pick an unused LAN id');
}

// ---------------------------------------------------------------------------------------
// Clients and probes

const UDHCPC_SCRIPT = `#!/bin/sh
# udhcpc event script of the netns test harness. Prints each event; configures the leased
# address only when KK_UDHCPC_STATE is set (needed to send a DHCPRELEASE), and then removes
# only the address it added.
echo "udhcpc-event: $1 ip=$ip mask=$mask serverid=$serverid lease=$lease hostname=$hostname domain=$domain router=$router dns=$dns"
if [ -n "$KK_UDHCPC_STATE" ]; then
  case "$1" in
    bound|renew)
      if [ -f "$KK_UDHCPC_STATE" ]; then ip addr del "$(cat "$KK_UDHCPC_STATE")" dev "$interface" 2>/dev/null; fi
      ip addr add "$ip/$mask" dev "$interface" && echo "$ip/$mask" > "$KK_UDHCPC_STATE" ;;
    deconfig|leasefail|nak)
      if [ -f "$KK_UDHCPC_STATE" ]; then ip addr del "$(cat "$KK_UDHCPC_STATE")" dev "$interface" 2>/dev/null; rm -f "$KK_UDHCPC_STATE"; fi ;;
  esac
fi
exit 0
`;

async function udhcpcScript(lan: Lan): Promise<string> {
  let dir = lanDirs.get(lan);
  if (dir === undefined) { dir = await mkdtemp(path.join(tmpdir(), 'kk-netns-')); lanDirs.set(lan, dir); }
  const file = path.join(dir, 'udhcpc-event.sh');
  await writeFile(file, UDHCPC_SCRIPT);
  await chmod(file, 0o755);
  return file;
}

let leaseSeq = 0;

/**
 * udhcpc in the client's namespace: one DORA exchange; resolves with the leased address (or
 * rejects with udhcpc's output). `hostname` sends option 12, `fqdn` option 81 (`-F`).
 * With `release`, the address is configured on eth0 for the moment of the DHCPRELEASE (busybox
 * sends it from a UDP socket bound to the leased address), then removed again; busybox 1.35's
 * `-q -R` does not release, so the release is asked for with SIGUSR2.
 */
export async function dhcpLease(
  lan: Lan,
  client: Host,
  options: { hostname?: string; fqdn?: string; timeoutMs?: number; release?: boolean } = {},
): Promise<{ ip: string; output: string }> {
  const script = await udhcpcScript(lan);
  const timeoutMs = options.timeoutMs ?? 10_000;
  const argv = ['udhcpc', '-i', 'eth0', '-n', '-f', '-t', '5', '-T', '1', '-s', script];
  if (options.hostname !== undefined) argv.push('-x', `hostname:${options.hostname}`);
  if (options.fqdn !== undefined) argv.push('-F', options.fqdn);
  const leased = (text: string): string | undefined => /udhcpc-event: (?:bound|renew) ip=(\S+)/.exec(text)?.[1];

  if (!options.release) {
    argv.push('-q');
    const result = await lan.exec(client, argv, { timeoutMs });
    const output = result.stdout + result.stderr;
    const ip = result.code === 0 ? leased(result.stdout) : undefined;
    if (ip === undefined) throw new Error(`udhcpc got no lease (exit ${result.code}):\n${output}`);
    return { ip, output };
  }

  const state = path.join(path.dirname(script), `udhcpc-${process.pid}-${++leaseSeq}.state`);
  const child = lan.spawn(client, argv, { env: { KK_UDHCPC_STATE: state } });
  let stdout = '';
  child.stdout?.setEncoding('utf8').on('data', (s: string) => { stdout += s; });
  const output = (): string => spawnedOutput(child);
  try {
    const ip = await until(async () => {
      if (exited(child)) throw new Error(`udhcpc exited ${child.exitCode ?? child.signalCode} without a lease:\n${output()}`);
      return leased(stdout) ?? '';
    }, timeoutMs, 'a DHCP lease').catch((err: unknown) => {
      throw new Error(`udhcpc got no lease:\n${output()}`, { cause: err });
    });
    child.kill('SIGUSR2');
    await until(async () => /entering released state/.test(output()), 3_000, 'udhcpc to release').catch((err: unknown) => {
      throw new Error(`udhcpc did not release:\n${output()}`, { cause: err });
    });
    if (/bind\(UDP\)|sendto|Cannot assign/.test(output())) throw new Error(`udhcpc failed to send the release:\n${output()}`);
    return { ip, output: output() };
  } finally {
    child.kill('SIGTERM');
    if (!(await waitExit(child, KILL_GRACE_MS))) child.kill('SIGKILL');
    await rm(state, { force: true });
  }
}

export interface PerfdhcpExchange { sent: number; received: number; drops: number }

/** Parses perfdhcp's summary into its exchanges ("DISCOVER-OFFER", "REQUEST-ACK", ...). */
export function parsePerfdhcp(output: string): Record<string, PerfdhcpExchange> {
  const exchanges: Record<string, PerfdhcpExchange> = {};
  const sections = output.split(/^\*\*\*Statistics for: /m).slice(1);
  for (const section of sections) {
    const name = section.slice(0, section.indexOf('***')).trim();
    const number = (label: string): number => Number(new RegExp(`^${label}: (\\d+)`, 'm').exec(section)?.[1] ?? NaN);
    exchanges[name] = { sent: number('sent packets'), received: number('received packets'), drops: number('drops') };
  }
  return exchanges;
}

/**
 * perfdhcp -4 in the client's namespace, always bounded (-r rate, -n count, -p seconds);
 * resolves with the parsed summary. perfdhcp acts as a relay: the client needs a static
 * address on the LAN (it fails with "There is no address for interface" otherwise).
 * `sent` counts DISCOVERs, `received` the last step's answers (ACKs; OFFERs with -i).
 * `-W 1000000` (wait 1 s for answers in flight after the last send) is added unless given:
 * without it, the last exchange is always counted as a drop. Exit code 3 means drops.
 */
export async function perfdhcp(
  lan: Lan,
  client: Host,
  options: { rate: number; clients: number; seconds: number; count?: number; extraArgs?: string[] },
): Promise<{ sent: number; received: number; drops: number; exchanges: Record<string, PerfdhcpExchange>; output: string; code: number }> {
  const { rate, clients, seconds } = options;
  const count = options.count ?? clients;
  for (const [key, value] of Object.entries({ rate, clients, seconds, count })) {
    if (!Number.isFinite(value) || value <= 0) throw new Error(`perfdhcp: ${key} must be a positive number`);
  }
  if (client.address === '') throw new Error(`perfdhcp needs a host with a static address (${client.ns} has none): it sends as a relay from eth0's address`);
  const extra = options.extraArgs ?? [];
  const argv = ['perfdhcp', '-4', '-l', 'eth0', '-r', String(rate), '-n', String(count), '-p', String(seconds), '-R', String(clients)];
  if (!extra.includes('-W')) argv.push('-W', '1000000');
  argv.push(...extra);
  const result = await lan.exec(client, argv, { timeoutMs: seconds * 1000 + 15_000 });
  const output = result.stdout + result.stderr;
  const exchanges = parsePerfdhcp(result.stdout);
  const first = Object.values(exchanges)[0];
  if (first === undefined) throw new Error(`perfdhcp printed no statistics (exit ${result.code}):\n${output}`);
  const last = exchanges['REQUEST-ACK'] ?? first;
  const drops = Object.values(exchanges).reduce((sum, e) => sum + (Number.isNaN(e.drops) ? 0 : e.drops), 0);
  return { sent: first.sent, received: last.received, drops, exchanges, output, code: result.code };
}

/**
 * kdig from inside a namespace: the answer's records (rdata) of the asked type as strings,
 * e.g. ['192.0.2.10']; [] for NXDOMAIN or an empty answer. Rejects when the server does not
 * answer or answers another status (SERVFAIL, REFUSED, NOTAUTH...).
 */
export async function dig(
  lan: Lan, host: Host, server: string, name: string,
  type: 'A' | 'AAAA' | 'PTR' | 'SOA' | 'TXT' | 'DHCID', port = 53,
): Promise<string[]> {
  const argv = ['kdig', `@${server}`, '-p', String(port), '+timeout=1', '+retry=0', '+norecurse', name, type];
  const result = await lan.exec(host, argv, { timeoutMs: 5_000 });
  const output = result.stdout + result.stderr;
  const status = /status: ([A-Z]+)/.exec(result.stdout)?.[1];
  if (result.code !== 0 || status === undefined) throw new Error(`kdig ${name} ${type} @${server}:${port} failed (exit ${result.code}):\n${output}`);
  if (status === 'NXDOMAIN') return [];
  if (status !== 'NOERROR') throw new Error(`kdig ${name} ${type} @${server}:${port}: ${status}`);
  const records: string[] = [];
  let inAnswer = false;
  for (const line of result.stdout.split('\n')) {
    if (line.startsWith(';; ANSWER SECTION:')) { inAnswer = true; continue; }
    if (!inAnswer) continue;
    if (line.trim() === '' || line.startsWith(';;')) break;
    // name ttl class type rdata (kdig separates them with tabs; rdata may hold spaces)
    const match = /^(\S+)\s+(\d+)\s+(\S+)\s+(\S+)\s+(.*)$/.exec(line.trim());
    if (match && match[4] === type) records.push(match[5]!.trim());
  }
  return records;
}

/**
 * Polls `probe` every 100 ms until it returns truthy or `timeoutMs` passes (then rejects with
 * the last value). A probe that throws counts as falsy (its error is the last value).
 */
export async function until<T>(probe: () => Promise<T>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value;
      last = value;
    } catch (err) { last = err; }
    if (Date.now() >= deadline) break;
    await sleep(Math.min(100, Math.max(0, deadline - Date.now())));
  }
  const shown = last instanceof Error ? last.message : inspect(last, { depth: 4, breakLength: Infinity });
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last: ${shown}`, { cause: last });
}

/**
 * Deletes namespaces (and so their veths and bridges) left by a crashed earlier run: only
 * `kkt-` namespaces older than 10 minutes whose LAN owner process is gone. Whatever still runs
 * inside them (e.g. a kea-dhcp4 of that run) is killed by pid first. Call in a globalSetup.
 * Resolves with the names deleted. `olderThanMs`/`match` exist for the harness's own test.
 */
export async function sweepStale(options: { olderThanMs?: number; match?: RegExp } = {}): Promise<string[]> {
  const olderThan = options.olderThanMs ?? STALE_AFTER_MS;
  const match = options.match ?? /^/;
  let names: string[];
  try { names = (await listNetns()).filter((ns) => ns.startsWith(NETNS_PREFIX) && match.test(ns)); } catch { return []; }
  const byLan = new Map<string, string[]>();
  for (const ns of names) {
    const id = ns.slice(NETNS_PREFIX.length).split('-')[0] ?? '';
    byLan.set(id, [...(byLan.get(id) ?? []), ns]);
  }
  const swept: string[] = [];
  for (const [id, members] of byLan) {
    const owner = await lanOwner(`${NETNS_PREFIX}${id}-br`, `br${id}`);
    if (owner !== undefined && pidAlive(owner)) continue;
    for (const ns of members) {
      const age = await stat(path.join(NETNS_DIR, ns)).then((s) => Date.now() - s.mtimeMs, () => Infinity);
      if (age < olderThan) continue;
      await killInside(ns, KILL_GRACE_MS);
      await deleteNetns(ns).then(() => swept.push(ns), () => undefined);
    }
  }
  // Temp dirs of LANs that are gone.
  const live = new Set((await listNetns().catch(() => [] as string[])).map((ns) => ns.slice(NETNS_PREFIX.length).split('-')[0]));
  for (const entry of await readdir(tmpdir()).catch(() => [] as string[])) {
    const found = /^kk-netns-([a-z0-9]{6})-/.exec(entry);
    if (!found || live.has(found[1]) || !match.test(`${NETNS_PREFIX}${found[1]}-`)) continue;
    const dir = path.join(tmpdir(), entry);
    const age = await stat(dir).then((s) => Date.now() - s.mtimeMs, () => 0);
    if (age >= olderThan) await rm(dir, { recursive: true, force: true }).catch(() => undefined);
  }
  return swept;
}

async function lanOwner(bridgeNs: string, bridge: string): Promise<number | undefined> {
  const result = await run(['ip', '-n', bridgeNs, '-o', 'link', 'show', bridge]);
  const pid = new RegExp(`alias ${OWNER_TAG} pid=(\\d+)`).exec(result.stdout)?.[1];
  return pid === undefined ? undefined : Number(pid);
}
