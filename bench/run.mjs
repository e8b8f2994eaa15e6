#!/usr/bin/env node
// Supervisor benchmark: s6, supervisord and kea-knot side by side, in one run, on the same
// fixture programs (bench/fixtures/*.c, compiled here with cc). Prints a markdown table.
//
//   node bench/run.mjs            (or scripts/bench, which also builds kea-knot)
//
// Settings (environment):
//   BENCH_SUPERVISORS          s6,supervisord,kea-knot
//   BENCH_TESTS                respawn,stop,idle,log
//   BENCH_RESPAWN_SAMPLES      30     kills per supervisor
//   BENCH_RESPAWN_SETTLE_MS    1500   the service has run this long before each kill
//   BENCH_STOP_SAMPLES         15     supervisor starts and stops per supervisor
//   BENCH_STOP_SETTLE_MS       1500   the 5 services have run this long before SIGTERM
//   BENCH_IDLE_SECONDS         60     idle CPU window
//   BENCH_IDLE_SETTLE_SECONDS  20     wait after the services are up before RSS and idle CPU
//   BENCH_LOG_LINES            10000000 lines written by the log fixture (~4 s: steady state, past JIT warm-up)
//   BENCH_LOG_RUNS             5      log throughput runs per supervisor, alternating (median reported)
//   BENCH_LOG_NAP_US           200    the counter's nap after draining the pipe (0 = none)
//   BENCH_KEA_KNOT_RESET_AFTER 0s     backoff.reset_after in kea-knot's respawn test only ('' = default)
//   BENCH_KEA_KNOT_MAX_CRASHES 1000   backoff.max_crashes in kea-knot's respawn test only ('' = default)
//   BENCH_TMP                  temp dir to work in (default: a new one, removed at the end)
//   BENCH_KEEP_TMP             1 = leave the temp dir (logs, configs) in place
//   BENCH_JSON                 also write the raw results (every sample) to this file
//   BENCH_CC                   C compiler (default cc)
import { spawn, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, openSync, closeSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir, cpus, release, totalmem } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { Announcements } from './lib/announce.mjs';
import { s6, supervisord, keaKnot } from './lib/supervisors.mjs';
import { summary } from './lib/stats.mjs';
import { CLK_TCK, supervisorPids, sumKiB, cpuTicks, running, nameOf, killTreeSync, killByExeDirSync } from './lib/proc.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoDir = path.resolve(here, '..');
const now = () => process.hrtime.bigint();
const msSince = (t0, t1 = now()) => Number(t1 - t0) / 1e6;

function intEnv(name, fallback) {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name}=${text} is not a non-negative number`);
  return value;
}

const cfg = {
  supervisors: (process.env.BENCH_SUPERVISORS || 's6,supervisord,kea-knot').split(',').map((s) => s.trim()).filter(Boolean),
  tests: (process.env.BENCH_TESTS || 'respawn,stop,idle,log').split(',').map((s) => s.trim()).filter(Boolean),
  respawnSamples: intEnv('BENCH_RESPAWN_SAMPLES', 30),
  respawnSettleMs: intEnv('BENCH_RESPAWN_SETTLE_MS', 1500),
  stopSamples: intEnv('BENCH_STOP_SAMPLES', 15),
  stopSettleMs: intEnv('BENCH_STOP_SETTLE_MS', 1500),
  idleSeconds: intEnv('BENCH_IDLE_SECONDS', 60),
  idleSettleSeconds: intEnv('BENCH_IDLE_SETTLE_SECONDS', 20),
  logLines: intEnv('BENCH_LOG_LINES', 10_000_000),
  logRuns: intEnv('BENCH_LOG_RUNS', 5),
  logNapUs: intEnv('BENCH_LOG_NAP_US', 200),
  keaKnotResetAfter: process.env.BENCH_KEA_KNOT_RESET_AFTER ?? '0s',
  keaKnotMaxCrashes: process.env.BENCH_KEA_KNOT_MAX_CRASHES ?? '1000',
  cc: process.env.BENCH_CC || 'cc',
};
const START_TIMEOUT_MS = 20_000;   // supervisor start -> all services announced
const SAMPLE_TIMEOUT_MS = 15_000;  // kill -> respawn, SIGTERM -> all gone
const STOP_TIMEOUT_MS = 30_000;    // clean-up stop between tests
const LOG_TIMEOUT_MS = 600_000;    // one log throughput run
const LOG_IDLE_MS = 5_000;         // the counter reports after this long without data
const MARKER = 'kkbench-line';
const DROP_KEY = '"dropped":';     // kea-knot's record of service lines it dropped: {"dropped":N,...}

const ownTmp = !process.env.BENCH_TMP;
const tmp = process.env.BENCH_TMP ? path.resolve(process.env.BENCH_TMP) : mkdtempSync(path.join(tmpdir(), 'kk-bench-'));
const binDir = path.join(tmp, 'bin');
let dirCounter = 0;
const newDir = (label) => {
  const dir = path.join(tmp, `${String(++dirCounter).padStart(3, '0')}-${label}`);
  mkdirSync(dir, { recursive: true });
  return dir;
};

const log = (...args) => process.stderr.write(`[bench] ${args.join(' ')}\n`);

// ---------------------------------------------------------------------------------------
// Clean-up: every supervisor we started, its descendants, and any fixture left orphaned.

const live = new Set(); // Instances not yet known to be gone
function cleanupSync() {
  for (const inst of live) {
    try { killTreeSync(inst.child.pid); } catch { /* gone */ }
  }
  live.clear();
  try { killByExeDirSync(binDir); } catch { /* nothing left */ }
}
let cleaned = false;
function finalCleanup() {
  if (cleaned) return;
  cleaned = true;
  cleanupSync();
  if (ownTmp && process.env.BENCH_KEEP_TMP !== '1') rmSync(tmp, { recursive: true, force: true });
}
process.on('exit', finalCleanup);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => { log(`${signal}: cleaning up`); finalCleanup(); process.exit(130); });
}

// ---------------------------------------------------------------------------------------
// One running supervisor.

class Instance {
  constructor(sup, dir, services, opts = {}) {
    this.sup = sup;
    this.dir = dir;
    this.sock = path.join(dir, 'a.sock');
    if (Buffer.byteLength(this.sock) > 100) throw new Error(`socket path too long for a unix socket: ${this.sock} (set TMPDIR or BENCH_TMP to a shorter dir)`);
    this.ann = new Announcements(this.sock);
    this.services = services;
    this.opts = opts;
  }

  async start() {
    await this.ann.listen();
    const ctx = { binDir, sock: this.sock, lines: cfg.logLines, respawn: !!this.opts.respawn, keaKnotResetAfter: cfg.keaKnotResetAfter, keaKnotMaxCrashes: cfg.keaKnotMaxCrashes };
    const spec = this.sup.prepare(this.dir, this.services, ctx);
    const out = this.opts.stdoutFd ?? openSync(path.join(this.dir, 'stdout.log'), 'w');
    const err = openSync(path.join(this.dir, 'stderr.log'), 'w');
    this.child = spawn(spec.command, spec.args, {
      cwd: spec.cwd,
      env: { ...cleanEnv, ...spec.env, BENCH_SOCK: this.sock, BENCH_LINES: String(cfg.logLines) },
      stdio: ['ignore', out, err],
    });
    if (this.opts.stdoutFd === undefined) closeSync(out);
    closeSync(err);
    live.add(this);
    this.exited = new Promise((resolve, reject) => {
      this.child.once('error', (error) => { live.delete(this); reject(error); });
      this.child.once('exit', (code, signal) => { live.delete(this); resolve({ code, signal, ns: now() }); });
    });
    this.exited.catch(() => {});
    this.startedNs = now();
  }

  /** Waits until every service has announced itself; returns their records. */
  async waitAllUp(timeoutMs = START_TIMEOUT_MS) {
    const records = [];
    for (const service of this.services.filter((s) => s.program === 'announce')) {
      const exitedEarly = this.exited.then((e) => { throw new Error(`${this.sup.id} exited early (code ${e.code}, signal ${e.signal}); see ${this.dir}/stderr.log`); });
      records.push(await Promise.race([this.ann.waitAnnounce((r) => r.name === service.name && r.goneNs === null, timeoutMs, `${service.name} to start`), exitedEarly]));
    }
    return records;
  }

  supervisorPids() {
    return supervisorPids(this.child.pid, binDir);
  }

  /** SIGTERM, wait; SIGKILL the tree if it will not go. Then kill orphaned fixtures. */
  async stop(timeoutMs = STOP_TIMEOUT_MS) {
    let result = null;
    if (live.has(this)) {
      try { process.kill(this.child.pid, 'SIGTERM'); } catch { /* gone */ }
      result = await Promise.race([this.exited, sleep(timeoutMs).then(() => null)]);
      if (!result) {
        log(`${this.sup.id} did not stop within ${timeoutMs} ms; killing it`);
        killTreeSync(this.child.pid);
        await this.exited;
      }
    }
    const leftover = this.ann.live().filter((r) => running(r.pid));
    killByExeDirSync(binDir);
    await this.ann.close();
    return { result, leftover };
  }
}

// Defaults are what is measured: no KEA_KNOT_* settings leak in from the caller's environment.
const cleanEnv = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('KEA_KNOT_')));

const announceServices = (n) => Array.from({ length: n }, (_, i) => ({ name: `svc${i + 1}`, program: 'announce' }));

// ---------------------------------------------------------------------------------------
// The tests.

/** 1. kill -9 of the service -> the new process's first instruction in main(). */
async function respawnTest(sup) {
  const inst = new Instance(sup, newDir(`${sup.id}-respawn`), announceServices(1), { respawn: true });
  await inst.start();
  const samples = [];
  let error = null;
  try {
    let current = (await inst.waitAllUp())[0];
    for (let i = 0; i < cfg.respawnSamples; i++) {
      // The service has been up for the settle time: a crash after a healthy run.
      const upMs = msSince(current.startNs);
      if (upMs < cfg.respawnSettleMs) await sleep(cfg.respawnSettleMs - upMs);
      const t0 = now();
      process.kill(current.pid, 'SIGKILL');
      const next = await inst.ann.waitAnnounce((r) => r.name === 'svc1' && r.startNs > t0, SAMPLE_TIMEOUT_MS, `svc1 to come back (sample ${i + 1})`);
      samples.push(Number(next.startNs - t0) / 1e6);
      current = next;
    }
  } catch (e) {
    error = e.message;
  } finally {
    await inst.stop();
  }
  return { samples, ...summary(samples), error };
}

/** 2. SIGTERM to the supervisor -> supervisor exited and all 5 services gone. */
async function stopAllTest(sup) {
  const samples = [];
  const details = [];
  let error = null;
  for (let i = 0; i < cfg.stopSamples && !error; i++) {
    const inst = new Instance(sup, newDir(`${sup.id}-stop-${i + 1}`), announceServices(5));
    try {
      await inst.start();
      const records = await inst.waitAllUp();
      const wait = cfg.stopSettleMs - Math.min(...records.map((r) => msSince(r.startNs)));
      if (wait > 0) await sleep(wait);
      const pids = records.map((r) => r.pid);
      const t0 = now();
      process.kill(inst.child.pid, 'SIGTERM');
      const timeout = sleep(SAMPLE_TIMEOUT_MS).then(() => { throw new Error(`not stopped within ${SAMPLE_TIMEOUT_MS} ms (sample ${i + 1})`); });
      const [exit, goneNs] = await Promise.race([Promise.all([inst.exited, inst.ann.waitGone(pids, SAMPLE_TIMEOUT_MS)]), timeout]);
      const endNs = exit.ns > goneNs ? exit.ns : goneNs;
      const stillRunning = pids.filter(running);
      if (stillRunning.length) throw new Error(`services still running after the supervisor exited: ${stillRunning.join(',')}`);
      samples.push(msSince(t0, endNs));
      details.push({ supervisorExitMs: msSince(t0, exit.ns), servicesGoneMs: msSince(t0, goneNs), code: exit.code, signal: exit.signal });
    } catch (e) {
      error = e.message;
    } finally {
      await inst.stop();
    }
  }
  const codes = [...new Set(details.map((d) => (d.signal ? d.signal : `exit ${d.code}`)))];
  return { samples, details, exitStatus: codes.join(', '), ...summary(samples), error };
}

/** 3 + 4. RSS of the supervisor's own processes with 5 services up; CPU while idle. */
async function idleTest(sup) {
  const inst = new Instance(sup, newDir(`${sup.id}-idle`), announceServices(5));
  let out = { error: null };
  try {
    await inst.start();
    await inst.waitAllUp();
    // Idle means after start-up work is over: timers, first checks, and (for Node) V8's
    // one-off memory-reducing GC about 8 s after start, which also shrinks RSS.
    await sleep(cfg.idleSettleSeconds * 1000);
    const pids = inst.supervisorPids();
    const processes = pids.map((pid) => nameOf(pid));
    const rssKiB = sumKiB(pids);
    const ticks0 = cpuTicks(pids);
    const w0 = now();
    await sleep(cfg.idleSeconds * 1000);
    const ticks1 = cpuTicks(pids);
    const wallS = msSince(w0) / 1000;
    let ticks = 0;
    for (const [pid, t] of ticks1) if (ticks0.has(pid)) ticks += t - ticks0.get(pid);
    const after = inst.supervisorPids();
    out = {
      rssMiB: rssKiB / 1024,
      rssAfterIdleMiB: sumKiB(after) / 1024,
      processes,
      processCountChanged: after.length !== pids.length,
      cpuTicks: ticks,
      idleWallS: wallS,
      cpuPercent: (ticks / CLK_TCK / wallS) * 100,
      error: null,
    };
  } catch (e) {
    out.error = e.message;
  } finally {
    await inst.stop();
  }
  return out;
}

/** 5. One service writes N lines, one write() each; count them on the supervisor's stdout. */
async function logRun(sup, run) {
  const dir = newDir(`${sup.id}-log-${run}`);
  const fifo = path.join(dir, 'stdout.fifo');
  execFileSync('mkfifo', [fifo]);
  const counter = spawn(path.join(binDir, 'linecount'), [fifo, MARKER, String(cfg.logLines), String(LOG_IDLE_MS), String(cfg.logNapUs), DROP_KEY], { stdio: ['ignore', 'pipe', 'inherit'] });
  const counterExit = new Promise((resolve) => counter.once('exit', resolve));
  const firstLine = new Promise((resolve) => {
    let text = '';
    counter.stdout.setEncoding('utf8');
    counter.stdout.on('data', (chunk) => {
      text += chunk;
      const nl = text.indexOf('\n');
      if (nl >= 0) resolve(JSON.parse(text.slice(0, nl)));
    });
    counter.once('exit', () => resolve(null));
  });
  const fd = openSync(fifo, 'w'); // waits for the counter to open its end
  const inst = new Instance(sup, dir, [{ name: 'spew', program: 'spew' }], { stdoutFd: fd });
  let out = { error: null };
  let sampler = null;
  try {
    await inst.start();
    closeSync(fd);
    let peakKiB = 0;
    const sample = () => { peakKiB = Math.max(peakKiB, sumKiB(inst.supervisorPids())); };
    sampler = setInterval(sample, 50);
    const result = await Promise.race([firstLine, sleep(LOG_TIMEOUT_MS).then(() => null)]);
    clearInterval(sampler);
    sample();
    const hwmKiB = sumKiB(inst.supervisorPids(), 'VmHWM');
    if (!result) throw new Error('the line counter gave no result');
    // From the writer's first write to the last line out: a supervisor that makes the
    // writer wait (a full pipe) and then forwards in bursts gets no credit for the burst.
    const startNs = Number(readFileSync(`${inst.sock}.spew-start`, 'utf8'));
    const seconds = (result.last_ns - startNs) / 1e9;
    out = {
      received: result.count,
      dropped: result.dropped,
      complete: result.complete,
      seconds,
      linesPerSecond: seconds > 0 ? result.count / seconds : NaN,
      bytes: result.bytes,
      peakRssMiB: peakKiB / 1024,
      hwmMiB: hwmKiB / 1024,
      // Lines the supervisor says it dropped are a result, not an error; lines lost silently are.
      error: result.count + result.dropped >= cfg.logLines ? null : `${cfg.logLines - result.count - result.dropped} lines lost without a record of it`,
    };
  } catch (e) {
    out.error = e.message;
  } finally {
    clearInterval(sampler);
    try { closeSync(fd); } catch { /* closed already */ }
    await inst.stop();
    if (!(await Promise.race([counterExit.then(() => true), sleep(10_000).then(() => false)]))) {
      try { counter.kill('SIGKILL'); } catch { /* gone */ }
    }
  }
  return out;
}

/**
 * Runs alternate between the supervisors (run 1 of each, then run 2 of each...), so that
 * a change in the machine's load during the test hits them all alike.
 */
async function logTests(sups) {
  const runs = new Map(sups.map((sup) => [sup.id, []]));
  for (let run = 1; run <= cfg.logRuns; run++) {
    for (const sup of sups) {
      const done = runs.get(sup.id);
      if (done.some((r) => r.error)) continue;
      log(`log: ${sup.id} run ${run} ...`);
      done.push(await logRun(sup, run));
    }
  }
  const results = new Map();
  for (const [id, all] of runs) {
    const ok = all.filter((r) => !r.error);
    const rates = summary(ok.map((r) => r.linesPerSecond));
    results.set(id, {
      runs: all,
      linesPerSecond: rates.median,
      minLinesPerSecond: rates.min,
      maxLinesPerSecond: rates.max,
      peakRssMiB: Math.max(...all.map((r) => r.peakRssMiB ?? 0)),
      hwmMiB: Math.max(...all.map((r) => r.hwmMiB ?? 0)),
      received: all.map((r) => r.received ?? 0),
      dropped: all.map((r) => r.dropped ?? 0),
      error: all.find((r) => r.error)?.error ?? null,
    });
  }
  return results;
}

// ---------------------------------------------------------------------------------------
// Output.

const fmt = (value, digits = 1) => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a');
const fmtInt = (value) => (Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : 'n/a');

function table(sups, results) {
  const cell = (sup, test, render) => {
    const status = results[sup.id];
    if (status.skipped) return status.skipped === true ? 'not run' : `not run: ${status.skipped}`;
    const r = status[test];
    if (!r) return 'not run';
    const text = render(r);
    return r.error ? `${text} (error: ${r.error.replace(/\|/g, '/')})` : text;
  };
  const rows = [
    [`respawn after kill -9, median (ms)`, 'respawn', (r) => fmt(r.median)],
    [`respawn after kill -9, p90 (ms)`, 'respawn', (r) => fmt(r.p90)],
    [`respawn: min / max (ms), samples`, 'respawn', (r) => `${fmt(r.min)} / ${fmt(r.max)}, n=${r.n}`],
    [`stop-all (5 services), median (ms)`, 'stop', (r) => fmt(r.median)],
    [`stop-all (5 services), p90 (ms)`, 'stop', (r) => fmt(r.p90)],
    [`stop-all: min / max (ms), samples`, 'stop', (r) => `${fmt(r.min)} / ${fmt(r.max)}, n=${r.n}`],
    [`supervisor RSS, 5 services up (MiB)`, 'idle', (r) => fmt(r.rssMiB)],
    [`supervisor processes counted`, 'idle', (r) => (r.processes ? summarizeNames(r.processes) : 'n/a')],
    [`idle CPU over ${cfg.idleSeconds} s (% of one core)`, 'idle', (r) => fmt(r.cpuPercent, 3)],
    [`log throughput, median of ${cfg.logRuns} (lines/s)`, 'log', (r) => fmtInt(r.linesPerSecond)],
    [`log throughput: min / max (lines/s)`, 'log', (r) => `${fmtInt(r.minLinesPerSecond)} / ${fmtInt(r.maxLinesPerSecond)}`],
    [`log lines received (of ${fmtInt(cfg.logLines)}) per run`, 'log', (r) => r.received.map((n, i) => `${fmtInt(n)}${r.dropped?.[i] ? ` (${fmtInt(r.dropped[i])} dropped)` : ''}`).join(', ')],
    [`supervisor peak RSS during log run (MiB)`, 'log', (r) => fmt(r.peakRssMiB)],
  ];
  const lines = [
    `| metric | ${sups.map((s) => s.title).join(' | ')} |`,
    `| --- | ${sups.map(() => '---:').join(' | ')} |`,
  ];
  for (const [label, test, render] of rows) lines.push(`| ${label} | ${sups.map((s) => cell(s, test, render)).join(' | ')} |`);
  return lines.join('\n');
}

function summarizeNames(names) {
  const counts = new Map();
  for (const name of names) counts.set(name, (counts.get(name) ?? 0) + 1);
  return [...counts].map(([name, n]) => (n > 1 ? `${n}× ${name}` : name)).join(' + ');
}

function machine() {
  const cpu = cpus();
  return `${cpu.length} × ${cpu[0]?.model ?? '?'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Linux ${release()}, node ${process.version}`;
}

function commandLine() {
  const vars = Object.keys(process.env).filter((k) => k.startsWith('BENCH_') && !['BENCH_TMP', 'BENCH_COMMAND'].includes(k)).sort();
  const prefix = vars.map((k) => `${k}=${process.env[k]}`).join(' ');
  const command = process.env.BENCH_COMMAND || `node ${path.relative(process.cwd(), fileURLToPath(import.meta.url)) || 'bench/run.mjs'}`;
  return `${prefix ? prefix + ' ' : ''}${command}`;
}

// ---------------------------------------------------------------------------------------

async function main() {
  mkdirSync(binDir, { recursive: true });
  for (const name of ['announce', 'spew', 'linecount']) {
    execFileSync(cfg.cc, ['-O2', '-Wall', '-o', path.join(binDir, name), path.join(here, 'fixtures', `${name}.c`)], { stdio: 'inherit' });
  }

  const known = { s6, supervisord, 'kea-knot': keaKnot(repoDir) };
  const sups = [];
  const results = {};
  for (const id of cfg.supervisors) {
    const sup = known[id];
    if (!sup) throw new Error(`unknown supervisor "${id}" in BENCH_SUPERVISORS (known: ${Object.keys(known).join(', ')})`);
    sups.push(sup);
    const availability = sup.available();
    results[id] = availability.ok ? { version: sup.version() } : { skipped: availability.why };
    log(`${id}: ${availability.ok ? results[id].version : `skipped: ${availability.why}`}`);
  }
  const ready = sups.filter((s) => !results[s.id].skipped);
  const started = Date.now();

  // Each runs once per supervisor, one supervisor after the other; log interleaves its runs.
  const perSupervisor = { respawn: respawnTest, stop: stopAllTest, idle: idleTest };
  const testNames = [...Object.keys(perSupervisor), 'log'];
  for (const test of cfg.tests) if (!testNames.includes(test)) throw new Error(`unknown test "${test}" in BENCH_TESTS (known: ${testNames.join(', ')})`);
  for (const test of cfg.tests) {
    if (test === 'log') {
      const t0 = Date.now();
      const logResults = await logTests(ready).catch((e) => new Map(ready.map((sup) => [sup.id, { error: e.message, samples: [], received: [] }])));
      for (const sup of ready) {
        results[sup.id].log = logResults.get(sup.id);
        log(`log: ${sup.id}${results[sup.id].log.error ? ` (error: ${results[sup.id].log.error})` : ''}`);
      }
      log(`log: done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      continue;
    }
    for (const sup of ready) {
      log(`${test}: ${sup.id} ...`);
      const t0 = Date.now();
      try {
        results[sup.id][test] = await perSupervisor[test](sup);
      } catch (e) {
        results[sup.id][test] = { error: e.message, samples: [], received: [] };
      }
      const r = results[sup.id][test];
      log(`${test}: ${sup.id} done in ${((Date.now() - t0) / 1000).toFixed(1)} s${r.error ? ` (error: ${r.error})` : ''}`);
    }
  }

  const settle = `the service had run ${cfg.respawnSettleMs} ms before each kill`;
  const report = [
    `Command: \`${commandLine()}\``,
    '',
    `Machine: ${machine()}. Run took ${((Date.now() - started) / 1000).toFixed(0)} s, ${new Date().toISOString()}.`,
    '',
    'Supervisors:',
    ...sups.map((s) => `- ${results[s.id].version ?? s.title}${results[s.id].skipped ? ` — not run: ${results[s.id].skipped}` : ''}`),
    '',
    table(sups, results),
    '',
    'How each figure is taken:',
    `- respawn: SIGKILL to the service; until the new process's own CLOCK_MONOTONIC reading at the top of main() (${settle}; ${cfg.respawnSamples} kills). kea-knot's respawn service file sets backoff.reset_after: ${cfg.keaKnotResetAfter || '(default)'} and max_crashes: ${cfg.keaKnotMaxCrashes || '(default)'}, so that every kill counts as a crash after a healthy run, as it does for the others.`,
    `- stop-all: SIGTERM to the supervisor; until both the supervisor has exited and all 5 services' processes are gone (each holds a socket the kernel closes at its exit); ${cfg.stopSettleMs} ms after the last service started; ${cfg.stopSamples} starts.`,
    `- RSS: sum of VmRSS of the supervisor's own processes (the services excluded), ${cfg.idleSettleSeconds} s after all 5 services announced themselves (the same wait for every supervisor). Idle CPU: utime+stime of the same processes over ${cfg.idleSeconds} s, as % of one core (clock tick ${1000 / CLK_TCK} ms).`,
    `- log: one service writes ${fmtInt(cfg.logLines)} lines of 41 bytes, one write() each; the supervisor's stdout is a FIFO (64 KiB; kea-knot grows it to 1 MiB, as it does any stdout pipe) read by a C counter in reads of up to 1 MiB, napping ${cfg.logNapUs} µs whenever it has emptied the pipe so it reads in batches rather than once per line; lines/s = lines received / time from the writer's first write (its own CLOCK_MONOTONIC reading) to the last line read. kea-knot's lines arrive as JSON records naming the service, counted as records; lines it drops when its stdout falls behind (it says so in \`{"dropped":N}\` records) are shown as dropped. Peak RSS sampled every 50 ms (sum over the supervisor's processes). With s6 (no logger) the service writes straight into the FIFO, so s6 is not in the data path: that column is the fixture writing into the counter's 64 KiB FIFO directly (the others read the fixture's pipe into their own).`,
    '',
  ].join('\n');
  process.stdout.write(report);

  if (process.env.BENCH_JSON) {
    writeFileSync(process.env.BENCH_JSON, JSON.stringify({ command: commandLine(), machine: machine(), cfg, results }, null, 2) + '\n');
    log(`raw results in ${process.env.BENCH_JSON}`);
  }
}

main().then(
  () => { finalCleanup(); process.exit(0); },
  (e) => { log(`failed: ${e.stack ?? e.message}`); finalCleanup(); process.exit(1); },
);
