// Kea's drops of malformed packets reach /metrics and the supervisor's log: a real
// kea-dhcp4 in loopback mode (UDP sockets on lo, its own ports) under a real supervisor,
// and a packet it cannot parse sent to it over loopback.
import { createSocket } from 'node:dgram';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callApi } from '../../../src/client/api-client.js';
import { keaCommand } from '../../../src/kea/control.js';
import { DropWatch } from '../../../src/kea/statistics.js';
import { until } from '../../helpers/netns.js';
import { byMsg, startSupervisor, type SupervisorHandle } from '../../helpers/supervisor-process.js';

let dir: string;
let sup: SupervisorHandle;
let port: number;
let socket: string;

function keaConfig(): string {
  return JSON.stringify({
    Dhcp4: {
      'interfaces-config': { interfaces: ['lo'], 'dhcp-socket-type': 'udp' },
      'control-socket': { 'socket-type': 'unix', 'socket-name': socket },
      'lease-database': { type: 'memfile', persist: false },
      'multi-threading': { 'enable-multi-threading': false },
      subnet4: [{ id: 1, subnet: '127.0.0.0/8', pools: [{ pool: '127.0.10.1-127.0.10.100' }] }],
      loggers: [{ name: 'kea-dhcp4', output_options: [{ output: 'stdout' }], severity: 'INFO' }],
    },
  });
}

/** A BOOTREQUEST of full length with a wrong magic cookie: Kea counts it in pkt4-parse-failed. */
async function sendMalformed(): Promise<void> {
  const packet = Buffer.alloc(244);
  packet.set([1, 1, 6], 0); // BOOTREQUEST, Ethernet, 6-byte address
  packet.set([0xde, 0xad, 0xbe, 0xef], 236); // not 99.130.83.99
  const udp = createSocket('udp4');
  await new Promise<void>((resolve, reject) => udp.send(packet, port, '127.0.0.1', (error) => (error ? reject(error) : resolve())));
  udp.close();
}

const parseFailed = async () => {
  const answer = await keaCommand(socket, 'statistic-get', { name: 'pkt4-parse-failed' });
  return (answer.arguments?.['pkt4-parse-failed'] as [number, string][])[0]![0];
};

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'kk-drops-'));
  socket = path.join(dir, 'kea4.sock');
  // Ports of this run only: two runs on one machine do not meet.
  port = 20_000 + Math.floor(Math.random() * 20_000) * 2;
  await writeFile(path.join(dir, 'kea4.json'), keaConfig());
  sup = await startSupervisor({
    'kea4.yaml': [
      'name: kea4',
      `command: [kea-dhcp4, -c, ${JSON.stringify(path.join(dir, 'kea4.json'))}, -p, "${port}", -P, "${port + 1}"]`,
      `environment: {KEA_PIDFILE_DIR: ${JSON.stringify(dir)}, KEA_LOCKFILE_DIR: ${JSON.stringify(dir)}}`,
      `ready: {socket: ${JSON.stringify(socket)}}`,
      `kea_control_socket: ${JSON.stringify(socket)}`,
      '',
    ].join('\n'),
  });
  await sup.waitFor(byMsg('kea4', /kea4 is ready/), 20_000);
});

afterAll(async () => {
  await sup?.cleanup();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("Kea's packet drops", () => {
  it('show in /metrics and in a warning naming the daemon and the count', async () => {
    const scrape = async () => (await callApi<string>({ socket: sup.socket }, 'GET', '/metrics')).body;
    expect(await scrape()).toContain('kea_knot_kea_packets_dropped_total{service="kea4",statistic="pkt4-parse-failed"} 0');
    await sendMalformed();
    await until(async () => (await parseFailed()) === 1, 5000, 'Kea to count the packet');
    const text = await scrape();
    expect(text).toContain('kea_knot_kea_packets_dropped_total{service="kea4",statistic="pkt4-parse-failed"} 1');
    expect(text).toContain('kea_knot_kea_packets_dropped_total{service="kea4",statistic="pkt4-receive-drop"} 1');
    const warning = await sup.waitFor(byMsg('kea4', /kea4 dropped received packets: 1 more pkt4-parse-failed \(1 since it started\)/));
    expect(warning).toMatchObject({ level: 40, dropped: { 'pkt4-parse-failed': 1, 'pkt4-receive-drop': 1 } });
    // Said once: the next scrape sees no growth.
    await scrape();
    expect(sup.records.filter(byMsg('kea4', /dropped received packets/))).toHaveLength(1);
  });

  it('are looked at on a timer too, without a scrape, until stopped', async () => {
    const lines: { msg: string; dropped: Record<string, number> }[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => { lines.push(JSON.parse(line) as (typeof lines)[number]); } });
    const status = await callApi<{ pid: number }>({ socket: sup.socket }, 'GET', '/v1/services/kea4');
    const watch = new DropWatch({ targets: () => [{ service: 'kea4', socket, pid: status.body.pid }], logFor: () => logger, intervalMs: 50 });
    await watch.read(); // a first look counts from 0: it reports the earlier drop
    expect(lines.map((l) => l.dropped)).toEqual([{ 'pkt4-parse-failed': 1, 'pkt4-receive-drop': 1 }]);
    lines.length = 0;
    watch.start();
    try {
      await sendMalformed();
      await until(async () => lines.length > 0, 5000, 'the timer to see the drop');
      expect(lines[0]).toMatchObject({ dropped: { 'pkt4-parse-failed': 1 } });
      expect(lines[0]!.msg).toContain('(2 since it started)');
    } finally {
      watch.stop();
    }
  });

  it('does not keep the supervisor from exiting', async () => {
    sup.child.kill('SIGTERM');
    expect(await sup.exited).toBe(0);
  });
});
