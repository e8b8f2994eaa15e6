// The real product on this machine, without touching its network: kea-knot supervise with
// the repository's services.d (real Kea and Knot) in a network namespace on 192.0.2.0/24,
// three simulated DHCP clients in namespaces of their own on the same bridge, and the web
// dashboard, reachable at 127.0.0.1 here through a small forwarder (nothing is added to
// this machine's own network). Ctrl-C stops the supervisor and removes everything.
//   node scripts/demo.mjs [--port 8080]      (scripts/demo builds first)
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLI = path.join(ROOT, 'dist/cli/main.js');
const PREFIX = 'kkd-';
const portFlag = process.argv.indexOf('--port');
const port = portFlag === -1 ? 8080 : Number(process.argv[portFlag + 1]);
const id = `${PREFIX}${process.pid}`;
const ns = { bridge: `${id}-br`, server: `${id}-srv` };
const CLIENTS = [{ name: 'laptop', hostname: 'laptop' }, { name: 'printer', hostname: 'printer' }, { name: 'phone' }];
const DOMAIN = 'home.arpa';
const SERVER = '192.0.2.1';
const WEB = '127.0.0.1:8080';

const say = (line) => process.stdout.write(`[demo] ${line}\n`);
function ip(...args) {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr.trim()}`);
}

/** Namespaces of an earlier demo that was killed (its pid is gone) are removed first. */
function sweepStale() {
  const names = existsSync('/run/netns') ? readdirSync('/run/netns') : [];
  for (const name of names) {
    const pid = new RegExp(`^${PREFIX}(\\d+)-`).exec(name)?.[1];
    if (pid && !existsSync(`/proc/${pid}`)) spawnSync('ip', ['netns', 'del', name]);
  }
}

const children = new Set();
function inNs(name, argv, options = {}) {
  const child = spawn('ip', ['netns', 'exec', name, ...argv], { stdio: options.stdio ?? ['ignore', 'pipe', 'pipe'], env: options.env ?? process.env, detached: true });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}
function run(name, argv, env) {
  return new Promise((resolve) => {
    const child = inNs(name, argv, env ? { env } : {});
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { out += d; });
    child.once('exit', (code) => resolve({ code, out }));
  });
}

let dir;
let supervisor;
let forwarder;
let cleaning;
async function cleanUp() {
  cleaning ??= (async () => {
    forwarder?.close();
    if (supervisor && supervisor.exitCode === null) {
      say('stopping the supervisor (it stops every daemon first)');
      supervisor.kill('SIGTERM');
      await new Promise((resolve) => { supervisor.once('exit', resolve); setTimeout(resolve, 60_000); });
    }
    for (const child of children) { try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ } }
    for (const name of [...CLIENTS.map((c) => `${id}-${c.name}`), ns.server, ns.bridge]) spawnSync('ip', ['netns', 'del', name]);
    if (dir) await rm(dir, { recursive: true, force: true });
    say('namespaces and files removed');
  })();
  return cleaning;
}

async function main() {
  if (process.getuid?.() !== 0) throw new Error('the demo makes network namespaces: run it as root');
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run scripts/demo (it builds first)`);
  sweepStale();
  dir = await mkdtemp(path.join(tmpdir(), 'kk-demo-'));
  await chmod(dir, 0o755); // Knot drops to its own user and must reach its directories.
  const bin = path.join(dir, 'bin');
  await mkdir(bin);
  await symlink(CLI, path.join(bin, 'kea-knot'));
  for (const s of ['knot', 'kea-dhcp4', 'kea-dhcp-ddns', 'kea-ctrl-agent']) await symlink(path.join(ROOT, 'dist/cli/reload-wrapper.js'), path.join(bin, `${s}-reload`));
  const password = randomBytes(9).toString('base64url');
  await writeFile(path.join(dir, 'web-password'), `${password}\n`, { mode: 0o600 });

  // A LAN: one namespace holds the bridge, each host gets a veth end named eth0.
  ip('netns', 'add', ns.bridge);
  ip('-n', ns.bridge, 'link', 'add', 'br0', 'type', 'bridge');
  ip('-n', ns.bridge, 'link', 'set', 'br0', 'up');
  const hosts = [{ ns: ns.server, address: `${SERVER}/24` }, ...CLIENTS.map((c) => ({ ns: `${id}-${c.name}`, address: '' }))];
  for (const [i, host] of hosts.entries()) {
    ip('netns', 'add', host.ns);
    ip('-n', host.ns, 'link', 'set', 'lo', 'up');
    ip('-n', ns.bridge, 'link', 'add', `v${i}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', host.ns);
    ip('-n', ns.bridge, 'link', 'set', `v${i}`, 'master', 'br0');
    ip('-n', ns.bridge, 'link', 'set', `v${i}`, 'up');
    if (host.address) ip('-n', host.ns, 'addr', 'add', host.address, 'dev', 'eth0');
    ip('-n', host.ns, 'link', 'set', 'eth0', 'up');
  }

  const env = {
    ...process.env,
    PATH: `${bin}:${process.env.PATH}`,
    KEA_CONF_DIR: `${dir}/etc/kea`, KNOT_CONF_DIR: `${dir}/etc/knot`, KEA_RUN_DIR: `${dir}/run/kea`,
    KNOT_RUN_DIR: `${dir}/run/knot`, KEA_LIB_DIR: `${dir}/lib/kea`, KNOT_LIB_DIR: `${dir}/lib/knot`,
    KEA_KNOT_SOCKET: `${dir}/api.sock`, KEA_KNOT_LOG_FORMAT: process.env.KEA_KNOT_LOG_FORMAT ?? 'pretty',
    KEA_KNOT_DOMAIN: DOMAIN, KEA_KNOT_SUBNET: '192.0.2.0/24', KEA_KNOT_ADDRESS: SERVER,
    KEA_KNOT_POOLS: '192.0.2.100-192.0.2.199', KEA_KNOT_INTERFACE: 'eth0', KEA_KNOT_KNOT_USER: 'knot',
    KEA_KNOT_WEB_LISTEN: WEB, KEA_KNOT_WEB_PASSWORD_FILE: path.join(dir, 'web-password'),
  };
  say(`starting kea-knot supervise in namespace ${ns.server} (${SERVER}, domain ${DOMAIN})`);
  supervisor = inNs(ns.server, [process.execPath, CLI, 'supervise', '--services-dir', path.join(ROOT, 'services.d')], { env, stdio: ['ignore', 'inherit', 'inherit'] });
  supervisor.once('exit', (code) => { if (!cleaning) { say(`the supervisor exited with ${code}`); void cleanUp().then(() => process.exit(1)); } });
  for (let i = 0; ; i += 1) {
    if ((await run(ns.server, [process.execPath, CLI, 'health'], env)).code === 0) break;
    if (i > 120) throw new Error('the stack did not become healthy within 60 s (its log lines are above)');
    await new Promise((resolve) => setTimeout(resolve, 500));
  }

  // The browser here reaches the dashboard inside the namespace: each connection is piped
  // through a small relay started in it.
  forwarder = createServer((socket) => {
    const relay = inNs(ns.server, [process.execPath, '-e', `const s=require('net').connect(${WEB.split(':')[1]},'127.0.0.1');process.stdin.pipe(s).pipe(process.stdout);s.on('error',()=>process.exit(0))`], { stdio: ['pipe', 'pipe', 'ignore'] });
    socket.pipe(relay.stdin);
    relay.stdout.pipe(socket);
    socket.on('error', () => relay.kill());
    socket.on('close', () => relay.kill());
    relay.on('exit', () => socket.destroy());
  });
  await new Promise((resolve, reject) => { forwarder.once('error', reject); forwarder.listen(port, '127.0.0.1', resolve); });

  const script = path.join(dir, 'udhcpc-event.sh');
  await writeFile(script, '#!/bin/sh\n[ "$1" = bound ] && echo "leased $ip"\nexit 0\n', { mode: 0o755 });
  for (const c of CLIENTS) {
    const argv = ['udhcpc', '-i', 'eth0', '-n', '-q', '-f', '-t', '5', '-T', '1', '-s', script, ...(c.hostname ? ['-x', `hostname:${c.hostname}`] : [])];
    const { out } = await run(`${id}-${c.name}`, argv);
    const leased = /leased (\S+)/.exec(out)?.[1];
    say(leased ? `${c.name} leased ${leased}${c.hostname ? ` as ${c.hostname}.${DOMAIN}` : ' (no name sent: Kea gives it one)'}` : `${c.name} got no lease: ${out.trim()}`);
  }
  say(`open http://127.0.0.1:${port}/ and log in with the password ${password}`);
  say(`or ask the supervisor: KEA_KNOT_SOCKET=${dir}/api.sock node ${CLI} status   (leases, reservations, dns ...)`);
  say('Ctrl-C stops everything');
}

for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => { void cleanUp().then(() => process.exit(0)); });
main().catch(async (error) => {
  process.stderr.write(`[demo] ${error.message}\n`);
  await cleanUp();
  process.exit(1);
});
