// How long each node of a pair stops answering while one of them applies a reservation
// (check, config-reload, HA restart and its lease sync): perfdhcp offers a steady load from
// a relay to both nodes (100 clients coming back, so the pools never run dry), and each
// node's pkt4-ack-sent is read every 20 ms; a node's pause is its longest stretch without
// a new ACK while the load runs. Node 1 applies the change, node 2 takes it from node 1
// (its own reload) within 10 s: both reloads fall in the window. One row per round.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, it } from 'vitest';
import { keaCommand } from '../src/kea/control.js';
import { createLan, perfdhcp, until, type Host, type Lan } from '../test/helpers/netns.js';
import { removeNode, stackPair, type StackNode } from '../test/helpers/stack.js';

const ROUNDS = Number(process.env.BENCH_RELOAD_ROUNDS ?? 3);
const RATE = 200;
let lan: Lan;
let nodes: [StackNode, StackNode];
let relay: Host;

beforeAll(async () => {
  lan = await createLan({ subnet: '10.89.0.0/16' });
  nodes = await stackPair(lan, 89, 'pause.bench', 'a-shared-secret-for-the-pause-bench');
  relay = await lan.addHost('perf', '10.89.0.250/16');
  await Promise.all(nodes.map((n) => n.start()));
});
afterAll(async () => {
  for (const node of nodes ?? []) await removeNode(node);
  await lan?.destroy();
});

const socket = (node: StackNode) => `${node.dir}/run/kea/kea4-ctrl-socket`;
async function acks(node: StackNode): Promise<number> {
  const answer = await keaCommand(socket(node), 'statistic-get', { name: 'pkt4-ack-sent' }, 1000).catch(() => undefined);
  const samples = (answer?.arguments?.['pkt4-ack-sent'] ?? []) as [number, string][];
  return samples[0]?.[0] ?? Number.NaN;
}
async function haState(node: StackNode): Promise<string> {
  const answer = await keaCommand(socket(node), 'status-get', undefined, 1000).catch(() => undefined);
  return (answer?.arguments as { 'high-availability'?: { 'ha-servers': { local: { state: string } } }[] } | undefined)?.['high-availability']?.[0]?.['ha-servers'].local.state ?? '';
}

/**
 * The longest time between two samples with a new ACK (a sample that failed counts as
 * none); the stretch after the last ACK is perfdhcp's end, not a pause.
 */
function longestPause(samples: { at: number; acks: number }[]): number {
  let longest = 0;
  let last = samples[0]!;
  for (const s of samples) {
    if (Number.isNaN(s.acks) || s.acks <= last.acks) continue;
    longest = Math.max(longest, s.at - last.at);
    last = s;
  }
  return longest;
}

it('measures how long each node pauses while node 1 applies a reservation', async () => {
  const [n1, n2] = nodes;
  await until(async () => (await haState(n1)) === 'load-balancing' && (await haState(n2)) === 'load-balancing', 60_000, 'load-balancing');
  const rows: string[] = [];
  for (let round = 0; round < ROUNDS; round += 1) {
    const load = perfdhcp(lan, relay, { rate: RATE, clients: 100, seconds: 20, count: RATE * 20 });
    const samples: [{ at: number; acks: number }[], { at: number; acks: number }[]] = [[], []];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const at = performance.now();
        const [a, b] = await Promise.all([acks(n1), acks(n2)]);
        samples[0].push({ at, acks: a });
        samples[1].push({ at, acks: b });
        await sleep(20);
      }
    })();
    await sleep(4000);
    const mac = `52:54:00:89:00:${(16 + round).toString(16)}`;
    const started = performance.now();
    const reserved = await n1.run(['kea-knot', 'reserve', mac, `10.89.0.${60 + round}`]);
    if (reserved.code !== 0) throw new Error(`reserve: ${reserved.stderr}`);
    const applied = performance.now() - started;
    // Node 2 takes the change at its next read of its partner (within 10 s): its own reload.
    await until(async () => {
      const got = await n2.run(['kea-knot', 'reservations', '--json']);
      return got.stdout.includes(mac);
    }, 15_000, 'node 2 to take the reservation');
    await load;
    sampling = false;
    await sampler;
    const [p1, p2] = samples.map(longestPause);
    // The same measure over the steady load before the change, for comparison.
    const [b1, b2] = samples.map((list) => longestPause(list.filter((x) => x.at < started)));
    rows.push(`| ${round + 1} | ${applied.toFixed(0)} | ${b1!.toFixed(0)} / ${b2!.toFixed(0)} | ${p1!.toFixed(0)} | ${p2!.toFixed(0)} |`);
    process.stderr.write(`[reload-pause] ${rows.at(-1)}\n`);
    await until(async () => (await haState(n1)) === 'load-balancing' && (await haState(n2)) === 'load-balancing', 30_000, 'load-balancing again');
  }
  process.stdout.write(`\n| round | reserve on node 1 (ms) | longest gap before, node 1 / 2 (ms) | node 1's longest pause (ms) | node 2's longest pause (ms) |\n|---|---:|---:|---:|---:|\n${rows.join('\n')}\n`);
});
