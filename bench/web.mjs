// What the web dashboard costs a small machine: the supervisor's resident memory without
// and with KEA_KNOT_WEB_LISTEN, side by side in one run (same fixture service, same
// settling time), and the time to serve the login page and a logged-in overview.
//   node bench/web.mjs [--rounds 3] [--requests 200]
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { vmKiB } from './lib/proc.mjs';
import { summary } from './lib/stats.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLI = path.join(ROOT, 'dist/cli/main.js');
const flag = (name, fallback) => { const i = process.argv.indexOf(name); return i === -1 ? fallback : Number(process.argv[i + 1]); };
const ROUNDS = flag('--rounds', 3);
const REQUESTS = flag('--requests', 200);
const SETTLE_MS = 5000;
const PASSWORD = 'bench-password-of-enough-length';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const freePort = () => new Promise((resolve) => { const s = createServer().listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); }); });

async function start(web) {
  const dir = await mkdtemp(path.join(tmpdir(), 'kk-bench-web-'));
  await writeFile(path.join(dir, 'svc.yaml'), `name: svc\ncommand: [${path.join(ROOT, 'test/fixtures/bin/svc.sh')}, run]\n`);
  await writeFile(path.join(dir, 'password'), `${PASSWORD}\n`, { mode: 0o600 });
  const port = await freePort();
  const env = { ...process.env, KEA_KNOT_LOG_LEVEL: 'warn', ...(web ? { KEA_KNOT_WEB_LISTEN: `127.0.0.1:${port}`, KEA_KNOT_WEB_PASSWORD_FILE: path.join(dir, 'password') } : {}) };
  const child = spawn(process.execPath, [CLI, 'supervise', '--services-dir', dir, '--socket', path.join(dir, 'api.sock')], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  return { child, dir, base: `http://127.0.0.1:${port}` };
}

async function stop(run) {
  run.child.kill('SIGTERM');
  await new Promise((resolve) => run.child.once('exit', resolve));
  await rm(run.dir, { recursive: true, force: true });
}

/** Logs in as the browser would: the login form's token, then the password. */
async function login(base) {
  const form = await fetch(`${base}/login`);
  const cookie = form.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  const token = /name="_csrf" value="([^"]+)"/.exec(await form.text())?.[1] ?? '';
  const response = await fetch(`${base}/login`, {
    method: 'POST', redirect: 'manual',
    headers: { cookie, 'content-type': 'application/x-www-form-urlencoded', origin: base },
    body: new URLSearchParams({ _csrf: token, password: PASSWORD }).toString(),
  });
  const session = response.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  if (response.status !== 303 || !session) throw new Error(`login failed: ${response.status}`);
  return session;
}

async function timeRequests(url, headers) {
  const ms = [];
  for (let i = 0; i < REQUESTS; i += 1) {
    const t0 = performance.now();
    const response = await fetch(url, { headers });
    await response.arrayBuffer();
    if (response.status !== 200) throw new Error(`${url}: ${response.status}`);
    ms.push(performance.now() - t0);
  }
  return ms;
}

const rss = { off: [], on: [], afterPages: [] };
const pages = { login: [], overview: [] };
for (let round = 1; round <= ROUNDS; round += 1) {
  // Alternate which starts first: the machine is noisy.
  const order = round % 2 ? [false, true] : [true, false];
  const runs = [];
  for (const web of order) runs.push({ web, run: await start(web) });
  await sleep(SETTLE_MS);
  for (const { web, run } of runs) rss[web ? 'on' : 'off'].push(vmKiB(run.child.pid) / 1024);
  const { run } = runs.find((r) => r.web);
  pages.login.push(...await timeRequests(`${run.base}/login`, {}));
  const cookie = await login(run.base);
  pages.overview.push(...await timeRequests(`${run.base}/`, { cookie }));
  rss.afterPages.push(vmKiB(run.child.pid) / 1024);
  for (const { run: r } of runs) await stop(r);
  process.stdout.write(`round ${round}: RSS without ${rss.off.at(-1).toFixed(1)} MiB, with ${rss.on.at(-1).toFixed(1)} MiB, after ${2 * REQUESTS} pages ${rss.afterPages.at(-1).toFixed(1)} MiB\n`);
}
const fmt = (s, unit) => `median ${s.median.toFixed(1)}${unit}, p90 ${s.p90.toFixed(1)}${unit}`;
console.log(`supervisor RSS after ${SETTLE_MS / 1000} s, dashboard off: ${fmt(summary(rss.off), ' MiB')}`);
console.log(`supervisor RSS after ${SETTLE_MS / 1000} s, dashboard on:  ${fmt(summary(rss.on), ' MiB')}`);
console.log(`supervisor RSS after ${2 * REQUESTS} page views:        ${fmt(summary(rss.afterPages), ' MiB')}`);
console.log(`GET /login (${pages.login.length} requests): ${fmt(summary(pages.login), ' ms')}`);
console.log(`GET / overview, logged in (${pages.overview.length} requests): ${fmt(summary(pages.overview), ' ms')}`);
