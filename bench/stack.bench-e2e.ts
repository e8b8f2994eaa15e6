// DDNS latency (lease ACK -> A record answered by Knot) over 200 clients, and perfdhcp's
// lease rate with the supervised stack vs the same daemons started by hand, side by side
// in one run, alternating so machine noise hits both.
import { execFile, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, it } from 'vitest';
import { createLan, dig, perfdhcp, until, type Host, type Lan } from '../test/helpers/netns.js';
import { removeNode, stackNode, type StackNode } from '../test/helpers/stack.js';

const DOMAIN = 'bench.test';
const CLIENTS = Number(process.env.BENCH_DDNS_CLIENTS ?? 200);
const LEASES = Number(process.env.BENCH_LEASES ?? 6000);
const RATE = Number(process.env.BENCH_LEASE_RATE ?? 1000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
/** Wait after the daemons are up, so start-up work (Node's and the daemons') is not measured. */
const SETTLE_MS = Number(process.env.BENCH_SETTLE_MS ?? 3000);

let lan: Lan;
let node: StackNode;
let client: Host;
/** perfdhcp 2.2 sends ~750/s here however high -r is, so several relays offer more than a server takes. */
const relays: Host[] = [];
const RELAYS = Number(process.env.BENCH_RELAYS ?? 3);

beforeAll(async () => {
  lan = await createLan({ subnet: '10.78.0.0/16' });
  node = await stackNode(lan, 'srv', '10.78.0.1/16', {
    KEA_KNOT_DOMAIN: DOMAIN, KEA_KNOT_SUBNET: '10.78.0.0/16', KEA_KNOT_ADDRESS: '10.78.0.1',
    KEA_KNOT_POOLS: '10.78.1.0-10.78.250.255', KEA_KNOT_INTERFACE: 'eth0', KEA_KNOT_KNOT_USER: 'knot',
  }, { parseRecords: false });
  client = await lan.addHost('cli', '');
  for (let i = 0; i < RELAYS; i += 1) relays.push(await lan.addHost(`perf${i}`, `10.78.0.${240 + i}/16`));
});
afterAll(async () => {
  await removeNode(node);
  await lan?.destroy();
});

const pct = (values: number[], p: number) => {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
};

/** One udhcpc exchange per client (a fresh MAC each), then kdig every 5 ms until the A record answers. */
async function ddnsLatencies(round: string): Promise<number[]> {
  const latencies: number[] = [];
  for (let i = 0; i < CLIENTS; i += 1) {
    const mac = `02:7a:${round}:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}:01`;
    await lan.exec(client, ['ip', 'link', 'set', 'eth0', 'address', mac]);
    const name = `c${round}x${i}`;
    const lease = await lan.exec(client, ['udhcpc', '-i', 'eth0', '-n', '-q', '-f', '-t', '5', '-T', '1', '-s', '/bin/true', '-x', `hostname:${name}`], { timeoutMs: 10_000 });
    const acked = performance.now();
    if (lease.code !== 0) throw new Error(`no lease for ${name}: ${lease.stderr}`);
    const ip = /lease of (\S+) obtained/.exec(lease.stderr + lease.stdout)?.[1];
    for (;;) {
      const answer = await dig(lan, node.host, '127.0.0.1', `${name}.${DOMAIN}`, 'A').catch(() => []);
      if (answer.includes(ip!)) break;
      if (performance.now() - acked > 10_000) throw new Error(`${name} never resolved`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    latencies.push(performance.now() - acked);
  }
  return latencies;
}

/** perfdhcp from every relay at once, at a rate above what one server can do: the ACK rate reached. */
async function leaseRate(round: number): Promise<number> {
  const started = performance.now();
  const acks = await Promise.all(relays.map(async (relay, i) => {
    const mac = `02:${(0x40 + round).toString(16)}:${(0x10 + i).toString(16)}:00:00:00`;
    const result = await perfdhcp(lan, relay, { rate: RATE, clients: LEASES, seconds: 60, extraArgs: ['-W', '2000000', '-b', `mac=${mac}`] });
    return result.received; // ACKs
  }));
  const seconds = (performance.now() - started) / 1000;
  const total = acks.reduce((a, b) => a + b, 0);
  process.stderr.write(`[bench] round ${round} (${round % 2 === 0 ? 'supervised' : 'by hand'}): ${total} ACKs of ${LEASES * relays.length} in ${seconds.toFixed(1)} s = ${(total / seconds).toFixed(0)}/s\n`);
  return total / seconds;
}

const run = async (argv: string[]) => { await promisify(execFile)(argv[0]!, argv.slice(1)); };

/** CPU time (user + system, seconds) a process has used itself, its children not included. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ 100)
}

/**
 * The same daemons, same configuration, started by hand without the supervisor, their
 * output to /dev/null: the cheapest a log can be, so the supervised side is measured
 * against no log handling at all.
 */
async function startByHand(): Promise<ChildProcess[]> {
  const env = { ...node.env, KEA_PIDFILE_DIR: `${node.dir}/run/kea`, KEA_LOCKFILE_DIR: `${node.dir}/run/kea/lock` };
  const spawnQuiet = (argv: string[]) => lan.spawn(node.host, ['sh', '-c', 'exec "$@" >/dev/null 2>&1', 'sh', ...argv], { env });
  const knot = spawnQuiet(['knotd', '-c', `${node.dir}/etc/knot/knot.conf`]);
  await until(async () => (await node.run(['knotc', '-s', `${node.dir}/run/knot/knot.sock`, 'status'])).code === 0, 10_000, 'knotd');
  const d2 = spawnQuiet(['kea-dhcp-ddns', '-c', `${node.dir}/etc/kea/kea-dhcp-ddns.conf`]);
  await until(async () => (await node.run(['kea-knot', 'kea-command', '--socket', `${node.dir}/run/kea/kea-ddns-ctrl-socket`, 'status-get'])).code === 0, 10_000, 'kea-dhcp-ddns');
  const dhcp4 = spawnQuiet(['kea-dhcp4', '-c', `${node.dir}/etc/kea/kea-dhcp4.conf`]);
  await until(async () => (await node.run(['kea-knot', 'kea-command', '--socket', `${node.dir}/run/kea/kea4-ctrl-socket`, 'status-get'])).code === 0, 10_000, 'kea-dhcp4');
  const agent = spawnQuiet(['kea-ctrl-agent', '-c', `${node.dir}/etc/kea/kea-ctrl-agent.conf`]);
  await until(async () => (await node.run(['ss', '-ltnH', 'sport = :8000'])).stdout.trim() !== '', 10_000, 'kea-ctrl-agent');
  return [agent, dhcp4, d2, knot];
}

async function stopByHand(children: ChildProcess[]): Promise<void> {
  for (const child of children) {
    if (child.exitCode !== null || child.signalCode !== null) continue; // ended already (it would never emit 'exit' again)
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }
}

/** Wall time of a whole wrapper command (node start, API call, check, reload), as `docker exec c knot-reload` costs. */
async function wrapperTimes(command: string, runs: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < runs; i += 1) {
    const started = performance.now();
    const result = await node.run([command]);
    if (result.code !== 0) throw new Error(`${command} failed: ${result.stderr}`);
    times.push(performance.now() - started);
  }
  return times;
}

it('measures DDNS latency and lease rate, supervised and by hand', async () => {
  await node.start();
  const latencies = await ddnsLatencies('01');
  const knotReload = await wrapperTimes('knot-reload', 20);
  const keaReload = await wrapperTimes('kea-dhcp4-reload', 20);
  await node.stop();
  // Every round starts from this state: leases and zone contents otherwise pile up round
  // after round, and a bigger lease file and zone make later rounds slower (and the pool
  // runs dry), which would favour whichever side went first.
  await run(['cp', '-a', `${node.dir}/lib`, `${node.dir}/lib.before-rounds`]);
  const resetState = async () => {
    await run(['rm', '-rf', `${node.dir}/lib`]);
    await run(['cp', '-a', `${node.dir}/lib.before-rounds`, `${node.dir}/lib`]);
  };

  const supervised: number[] = [];
  const byHand: number[] = [];
  const supervisorCpu: number[] = []; // % of one core during each supervised round
  for (let round = 0; round < ROUNDS; round += 1) {
    await resetState();
    await node.start();
    await sleep(SETTLE_MS);
    const pid = node.supervisor!.pid!;
    const cpuBefore = cpuSeconds(pid);
    const started = performance.now();
    supervised.push(await leaseRate(2 * round));
    supervisorCpu.push((100 * (cpuSeconds(pid) - cpuBefore)) / ((performance.now() - started) / 1000));
    await node.stop();
    await resetState();
    const daemons = await startByHand();
    await sleep(SETTLE_MS);
    byHand.push(await leaseRate(2 * round + 1));
    await stopByHand(daemons);
  }
  const median = (values: number[]) => pct(values, 50);
  const lines = [
    `DDNS latency, lease ACK -> A record answered (${CLIENTS} clients, one at a time): p50 ${pct(latencies, 50).toFixed(0)} ms, p90 ${pct(latencies, 90).toFixed(0)} ms, max ${Math.max(...latencies).toFixed(0)} ms`,
    `lease rate: ${RELAYS} perfdhcp relays at once, ${LEASES} leases each at up to ${RATE}/s; ACKs / wall time; ${ROUNDS} rounds alternating, each ${SETTLE_MS} ms after start:`,
    `  supervised: ${supervised.map((r) => r.toFixed(0)).join(', ')} /s (median ${median(supervised).toFixed(0)})`,
    `  by hand:    ${byHand.map((r) => r.toFixed(0)).join(', ')} /s (median ${median(byHand).toFixed(0)})`,
    `  ratio supervised / by hand: ${(median(supervised) / median(byHand)).toFixed(3)} (of the medians); each pair (supervised, then by hand): ${supervised.map((r, i) => (r / byHand[i]!).toFixed(3)).join(', ')}, median ${median(supervised.map((r, i) => r / byHand[i]!)).toFixed(3)}`,
    `  the supervisor's own CPU during its rounds: ${supervisorCpu.map((c) => c.toFixed(1)).join(', ')} % of one core`,
    `knot-reload wall time (20 runs, incl. ip netns exec): p50 ${pct(knotReload, 50).toFixed(0)} ms, p90 ${pct(knotReload, 90).toFixed(0)} ms`,
    `kea-dhcp4-reload wall time (20 runs; check + config-reload + port check): p50 ${pct(keaReload, 50).toFixed(0)} ms, p90 ${pct(keaReload, 90).toFixed(0)} ms`,
  ];
  process.stdout.write(`\n${lines.join('\n')}\n`);
});
