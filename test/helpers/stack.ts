import type { ChildProcess } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { createLan, until, type ExecResult, type Host, type Lan } from './netns.js';
import { ROOT, type LogRecord } from './supervisor-process.js';

const CLI = path.join(ROOT, 'dist/cli/main.js');
const WRAPPER = path.join(ROOT, 'dist/cli/reload-wrapper.js');

export interface StackNode {
  readonly host: Host;
  readonly dir: string;
  readonly env: NodeJS.ProcessEnv;
  /** The supervisor's records (empty when the node was made with `parseRecords: false`). */
  readonly records: LogRecord[];
  supervisor: ChildProcess | undefined;
  /** Starts `kea-knot supervise` with the repository's services.d in the node's namespace; resolves when healthy. */
  start(): Promise<void>;
  /** SIGTERM to the supervisor; resolves with its exit code. */
  stop(): Promise<number>;
  /** A command in the node's namespace with the node's environment (PATH has kea-knot and the wrappers). */
  run(argv: string[], timeoutMs?: number): Promise<ExecResult>;
  /** The pid of a service from `kea-knot status --json`. */
  pid(service: string): Promise<number>;
}

/**
 * One kea-knot node in its own network namespace on `lan`, with the repository's services.d,
 * its own directories (no real /etc or /run touched) and a bin dir holding kea-knot and the
 * reload wrappers, as the image's PATH does.
 */
export async function stackNode(lan: Lan, name: string, address: string, setupEnv: NodeJS.ProcessEnv, options: { parseRecords?: boolean } = {}): Promise<StackNode> {
  const parseRecords = options.parseRecords ?? true;
  const host = await lan.addHost(name, address);
  const dir = await mkdtemp(path.join(tmpdir(), `kk-stack-${name}-`));
  // Knot drops to its own user: it must be able to reach its directories.
  await chmod(dir, 0o755);
  const bin = path.join(dir, 'bin');
  await mkdir(bin);
  await symlink(CLI, path.join(bin, 'kea-knot'));
  for (const service of ['knot', 'kea-dhcp4', 'kea-dhcp6', 'kea-ctrl-agent', 'kea-dhcp-ddns']) await symlink(WRAPPER, path.join(bin, `${service}-reload`));
  const env: NodeJS.ProcessEnv = {
    PATH: `${bin}:${process.env.PATH}`,
    KEA_CONF_DIR: `${dir}/etc/kea`, KNOT_CONF_DIR: `${dir}/etc/knot`, KEA_RUN_DIR: `${dir}/run/kea`,
    KNOT_RUN_DIR: `${dir}/run/knot`, KEA_LIB_DIR: `${dir}/lib/kea`, KNOT_LIB_DIR: `${dir}/lib/knot`,
    KEA_KNOT_SOCKET: `${dir}/api.sock`, KEA_KNOT_LOG_LEVEL: 'info',
    ...setupEnv,
  };
  const records: LogRecord[] = [];
  const node: StackNode = {
    host, dir, env, records, supervisor: undefined,
    async start() {
      const child = lan.spawn(host, [process.execPath, CLI, 'supervise', '--services-dir', path.join(ROOT, 'services.d')], { env });
      node.supervisor = child;
      // Benchmarks read and discard, as they do with daemons started by hand.
      if (parseRecords) {
        createInterface({ input: child.stdout! }).on('line', (line) => {
          try { records.push(JSON.parse(line) as LogRecord); } catch { /* not a record */ }
        });
      }
      await until(async () => {
        if (child.exitCode !== null) throw new Error(`the supervisor exited with ${child.exitCode}: ${records.slice(-20).map((r) => r.msg).join('\n')}`);
        return (await node.run(['kea-knot', 'health'])).code === 0;
      }, 30_000, `${name} healthy`);
    },
    async stop() {
      const child = node.supervisor!;
      if (child.exitCode !== null) return child.exitCode;
      const exited = new Promise<number>((resolve) => child.once('exit', (code) => resolve(code ?? -1)));
      child.kill('SIGTERM');
      return exited;
    },
    run(argv, timeoutMs = 20_000) {
      return lan.exec(host, argv, { env, timeoutMs });
    },
    async pid(service) {
      const status = await node.run(['kea-knot', 'status', '--json']);
      const found = (JSON.parse(status.stdout) as { services: { name: string; pid: number | null }[] }).services.find((s) => s.name === service);
      if (!found?.pid) throw new Error(`${service} has no pid: ${status.stdout}`);
      return found.pid;
    },
  };
  return node;
}

/** Setup settings for a LAN 10.`net`.0.0/16 with the pool 10.`net`.1.0-10.`net`.2.255. */
function lanSettings(net: number, domain: string): NodeJS.ProcessEnv {
  return {
    KEA_KNOT_DOMAIN: domain, KEA_KNOT_SUBNET: `10.${net}.0.0/16`, KEA_KNOT_POOLS: `10.${net}.1.0-10.${net}.2.255`,
    KEA_KNOT_INTERFACE: 'eth0', KEA_KNOT_KNOT_USER: 'knot',
  };
}

/**
 * One node, "srv" at 10.`net`.0.1, on `lan`, which must be 10.`net`.0.0/16; `extra`
 * adds to or replaces the settings. Not started.
 */
export function stackServer(lan: Lan, net: number, domain: string, extra: NodeJS.ProcessEnv = {}): Promise<StackNode> {
  return stackNode(lan, 'srv', `10.${net}.0.1/16`, { ...lanSettings(net, domain), KEA_KNOT_ADDRESS: `10.${net}.0.1`, ...extra });
}

/**
 * An HA pair on `lan`, which must be 10.`net`.0.0/16: pi1 at 10.`net`.0.2 (the DNS primary)
 * and pi2 at 10.`net`.0.3, the pool split between them, the fast timers. Not started.
 */
export async function stackPair(lan: Lan, net: number, domain: string, secret: string): Promise<[StackNode, StackNode]> {
  const settings = { ...lanSettings(net, domain), KEA_KNOT_HA_PEERS: `pi1=10.${net}.0.2,pi2=10.${net}.0.3`, KEA_KNOT_HA_SECRET: secret, KEA_KNOT_HA_PROFILE: 'fast' };
  const n1 = await stackNode(lan, 'pi1', `10.${net}.0.2/16`, { ...settings, KEA_KNOT_HA_THIS: 'pi1' });
  const n2 = await stackNode(lan, 'pi2', `10.${net}.0.3/16`, { ...settings, KEA_KNOT_HA_THIS: 'pi2' });
  return [n1, n2];
}

export async function removeNode(node: StackNode | undefined): Promise<void> {
  if (!node) return;
  if (node.supervisor && node.supervisor.exitCode === null) {
    // Cleanup must end, so that the namespaces are removed after it: a stop that hangs is
    // ended by SIGKILL well inside a hook's time limit.
    const stopped = node.stop();
    const timer = setTimeout(() => node.supervisor?.kill('SIGKILL'), 20_000);
    await stopped;
    clearTimeout(timer);
  }
  await rm(node.dir, { recursive: true, force: true });
}

export { createLan };
