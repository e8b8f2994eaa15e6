// HA failover and recovery times of a pair, with the home and the fast timer profiles:
// node 2 dies (SIGKILL of everything in its namespace, as a pulled plug) -> node 1
// partner-down -> first lease from node 2's half of the pool; then node 2 starts again
// -> both load-balancing.
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, it } from 'vitest';
import { createLan, until, type Host, type Lan } from '../test/helpers/netns.js';
import { removeNode, stackNode, type StackNode } from '../test/helpers/stack.js';

const ROUNDS = Number(process.env.BENCH_HA_ROUNDS ?? 3);
let lan: Lan;
let client: Host;
const nodes: StackNode[] = [];
beforeAll(async () => {
  lan = await createLan({ subnet: '10.80.0.0/16' });
  client = await lan.addHost('cli', '');
});
afterAll(async () => {
  for (const node of nodes) await removeNode(node);
  await lan?.destroy();
});

async function haState(node: StackNode): Promise<string> {
  const result = await node.run(['kea-knot', 'kea-command', '--socket', `${node.dir}/run/kea/kea4-ctrl-socket`, 'status-get'], 5000);
  return (JSON.parse(result.stdout) as { 'high-availability': { 'ha-servers': { local: { state: string } } }[] })['high-availability'][0]!['ha-servers'].local.state;
}

/** Kills every process in the node's namespace at once, as a dead Pi would stop. */
async function pullPlug(node: StackNode): Promise<void> {
  const pids = execFileSync('ip', ['netns', 'pids', node.host.ns], { encoding: 'utf8' }).split('\n').filter(Boolean).map(Number);
  for (const pid of pids) if (pid > 1) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
  await until(async () => node.supervisor!.exitCode !== null || node.supervisor!.signalCode !== null, 5000, 'the supervisor gone');
}

let macSeq = 0;
/** udhcpc with a fresh MAC each try until a lease from 10.80.2.x (node 2's half) arrives. */
async function firstLeaseFromPool2(deadline: number): Promise<number> {
  for (;;) {
    macSeq += 1;
    await lan.exec(client, ['ip', 'link', 'set', 'eth0', 'address', `02:8b:00:00:${(macSeq >> 8 & 255).toString(16).padStart(2, '0')}:${(macSeq & 255).toString(16).padStart(2, '0')}`]);
    const result = await lan.exec(client, ['udhcpc', '-i', 'eth0', '-n', '-q', '-f', '-t', '1', '-T', '1', '-s', '/bin/true'], { timeoutMs: 10_000 });
    const ip = /lease of (\S+) obtained/.exec(result.stderr + result.stdout)?.[1];
    if (ip?.startsWith('10.80.2.')) return performance.now();
    if (performance.now() > deadline) throw new Error('no lease from node 2\'s pool');
  }
}

async function measure(profile: 'home' | 'fast', index: number): Promise<string[]> {
  const settings = {
    KEA_KNOT_DOMAIN: 'ha.bench', KEA_KNOT_SUBNET: '10.80.0.0/16', KEA_KNOT_POOLS: '10.80.1.0-10.80.2.255', KEA_KNOT_INTERFACE: 'eth0',
    KEA_KNOT_KNOT_USER: 'knot', KEA_KNOT_HA_PEERS: `a${index}=10.80.0.${10 + index * 2},b${index}=10.80.0.${11 + index * 2}`,
    KEA_KNOT_HA_SECRET: 'a-shared-secret-for-the-benchmark', KEA_KNOT_HA_PROFILE: profile,
  };
  const n1 = await stackNode(lan, `a${index}`, `10.80.0.${10 + index * 2}/16`, { ...settings, KEA_KNOT_HA_THIS: `a${index}` });
  const n2 = await stackNode(lan, `b${index}`, `10.80.0.${11 + index * 2}/16`, { ...settings, KEA_KNOT_HA_THIS: `b${index}` });
  nodes.push(n1, n2);
  await Promise.all([n1.start(), n2.start()]);
  const both = async (state: string) => (await haState(n1).catch(() => '')) === state && (await haState(n2).catch(() => '')) === state;
  await until(() => both('load-balancing'), 60_000, 'load-balancing');
  const rows: string[] = [];
  for (let round = 0; round < ROUNDS; round += 1) {
    const died = performance.now();
    await pullPlug(n2);
    const leaseTask = firstLeaseFromPool2(died + 60_000);
    await until(async () => (await haState(n1).catch(() => '')) === 'partner-down', 60_000, 'partner-down');
    const down = performance.now();
    const leased = await leaseTask;
    const restarted = performance.now();
    await n2.start();
    await until(() => both('load-balancing'), 60_000, 'load-balancing again');
    const recovered = performance.now();
    rows.push(`| ${profile} | ${round + 1} | ${(down - died).toFixed(0)} | ${(leased - died).toFixed(0)} | ${(recovered - restarted).toFixed(0)} |`);
    process.stderr.write(`[ha-bench] ${rows.at(-1)}\n`);
  }
  await n1.stop();
  await n2.stop();
  return rows;
}

it('measures failover and recovery for both timer profiles', async () => {
  const rows = [...await measure('fast', 0), ...await measure('home', 1)];
  process.stdout.write(`\n| profile | round | dies -> partner-down (ms) | dies -> first lease from its pool (ms) | restart -> load-balancing (ms) |\n|---|---|---:|---:|---:|\n${rows.join('\n')}\n`);
});
