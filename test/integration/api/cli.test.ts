import { execFile } from 'node:child_process';
import { mkdtemp, rename, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CLI, ROOT, byLine, byMsg, startSupervisor, svc, type SupervisorHandle } from '../../helpers/supervisor-process.js';

interface Result { code: number; stdout: string; stderr: string; ms: number }

function exec(file: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<Result> {
  const started = performance.now();
  return new Promise((resolve) => {
    execFile(file, args, { env: { ...process.env, ...env } }, (error, stdout, stderr) => {
      resolve({ code: error ? (error.code as number) : 0, stdout, stderr, ms: performance.now() - started });
    });
  });
}

let run: SupervisorHandle | undefined;
let bin: string;
const kk = (args: string[]) => exec(process.execPath, [CLI, ...args, '--socket', run!.socket]);
const wrapper = (name: string) => exec(path.join(bin, name), [], { KEA_KNOT_SOCKET: run!.socket });

beforeAll(async () => {
  // The wrappers find their service from the name they are called by, as on the image's PATH.
  bin = await mkdtemp(path.join(tmpdir(), 'kk-bin-'));
  for (const name of ['daemon-reload', 'refuser-reload', 'nosuch-reload']) await symlink(path.join(ROOT, 'dist/cli/reload-wrapper.js'), path.join(bin, name));
});
afterAll(async () => { await rm(bin, { recursive: true, force: true }); });
afterEach(async () => { await run?.cleanup(); run = undefined; });

const CHECK = (conf: string) => `check: {command: [sh, -c, "grep -q good ${conf} || { echo 'error: config, file ${conf}, line 1, bad' >&2; exit 1; }"]}\n`;

describe('kea-knot CLI and wrappers against a running supervisor', () => {
  it('status, reload, stop, start, restart, logs and health, with exit codes scripts can rely on', async () => {
    const conf = path.join(tmpdir(), `kk-cli-${process.pid}-${Date.now()}.conf`);
    await writeFile(conf, 'good\n');
    try {
      run = await startSupervisor({
        'daemon.yaml': svc('daemon', ['run'], `${CHECK(conf)}reload: {signal: HUP}\n`),
        'refuser.yaml': svc('refuser', ['run'], 'reload: {command: [sh, -c, "echo error: parser failed; exit 1"]}\n'),
      });
      await run.waitFor(byMsg('daemon', /is ready/));
      await run.waitFor(byMsg('refuser', /is ready/));

      const status = await kk(['status']);
      expect(status.code).toBe(0);
      expect(status.stdout).toMatch(/^SERVICE\s+STATE\s+PID\s+FOR\s+RESTARTS\s+LAST EXIT\s+LAST ERROR\ndaemon\s+ready\s+\d+/);
      const json = JSON.parse((await kk(['status', '--json'])).stdout) as { services: { name: string }[] };
      expect(json.services.map((s) => s.name)).toEqual(['daemon', 'refuser']);
      expect((await kk(['health'])).code).toBe(0);

      const reload = await wrapper('daemon-reload');
      expect(reload).toMatchObject({ code: 0, stderr: '' });
      expect(reload.stdout).toMatch(/^daemon reloaded \(SIGHUP\) in \d+ ms/);
      await run.waitFor(byLine('daemon', /^got HUP$/));

      const pid = run.records.find(byMsg('daemon', /is ready/))!.pid;
      await writeFile(conf, 'bad\n');
      const refused = await wrapper('daemon-reload');
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain('check of daemon failed');
      expect(refused.stderr).toContain(`error: config, file ${conf}, line 1, bad`);
      const still = JSON.parse((await kk(['status', '--json'])).stdout) as { services: { name: string; pid: number; state: string }[] };
      expect(still.services[0]).toMatchObject({ name: 'daemon', state: 'ready', pid });
      await writeFile(conf, 'good\n');

      const daemonRefusal = await wrapper('refuser-reload');
      expect(daemonRefusal.code).toBe(1);
      expect(daemonRefusal.stderr).toContain('error: parser failed');
      expect((await wrapper('nosuch-reload')).code).toBe(64);
      expect((await kk(['reload', '--all'])).code).toBe(1);

      const stop = await kk(['stop', 'refuser']);
      expect(stop).toMatchObject({ code: 0, stdout: 'refuser is stopped\n' });
      const health = await kk(['health']);
      expect(health.code).toBe(1);
      expect(health.stderr).toBe('not ready: refuser is stopped\n');
      expect((await kk(['start', 'refuser'])).stdout).toMatch(/^refuser is ready \(pid \d+\)/);
      expect((await kk(['restart', 'daemon'])).stdout).toMatch(/^daemon is ready \(pid \d+\)/);
      expect((await kk(['stop', 'ghost'])).code).toBe(64);
      expect((await kk(['stop'])).code).toBe(64);

      const logs = await kk(['logs', 'daemon', '-n', '50']);
      expect(logs.stdout).toContain('got HUP\n');
    } finally {
      await unlink(conf).catch(() => undefined);
    }
  });

  it('follows a service log as new lines arrive', async () => {
    run = await startSupervisor({ 'ticker.yaml': 'name: ticker\ncommand: [sh, -c, "i=0; while :; do echo tick $i; i=$((i+1)); sleep 0.05; done"]\n' });
    await run.waitFor(byLine('ticker', /tick 3/));
    const lines: string[] = [];
    await new Promise<void>((resolve, reject) => {
      const req = request({ socketPath: run!.socket, path: '/v1/services/ticker/logs?lines=1&follow=true' }, (res) => {
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          lines.push(...chunk.split('\n').filter(Boolean));
          if (lines.length >= 5) { req.destroy(); resolve(); }
        });
      });
      req.on('error', (error) => { if (lines.length < 5) reject(error); });
      req.end();
    });
    const ticks = lines.map((line) => Number((JSON.parse(line) as { msg: string }).msg.split(' ')[1]));
    expect(ticks).toEqual([ticks[0], ticks[0]! + 1, ticks[0]! + 2, ticks[0]! + 3, ticks[0]! + 4]);
  });

  it('reloads on a watched file change; a bad edit (written by rename) is refused and logged, the daemon untouched', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'kk-watch-'));
    const conf = path.join(dir, 'daemon.conf');
    await writeFile(conf, 'good 1\n');
    try {
      run = await startSupervisor({ 'daemon.yaml': svc('daemon', ['run'], `${CHECK(conf)}reload: {signal: HUP}\nwatch: [${conf}]\n`) });
      const ready = await run.waitFor(byMsg('daemon', /is ready/));
      const hups = () => run!.records.filter(byLine('daemon', /^got HUP$/)).length;
      await writeFile(conf, 'good 2\n');
      await run.waitFor(byLine('daemon', /^got HUP$/), 5000);
      // Saved again without a change: the file holds what the daemon runs, so no reload.
      await writeFile(conf, 'good 2\n');
      await run.waitFor(byMsg('daemon', /changed, and holds what daemon runs; not reloaded/), 5000);
      expect(hups()).toBe(1);
      // An editor's save: write a temp file, rename it over the original.
      await writeFile(`${conf}.tmp`, 'bad\n');
      await rename(`${conf}.tmp`, conf);
      const refused = await run.waitFor(byMsg('daemon', /kept its running configuration/), 5000);
      expect(refused.level).toBe(50);
      expect(refused.details).toEqual([`error: config, file ${conf}, line 1, bad`]);
      expect(hups()).toBe(1);
      const status = JSON.parse((await kk(['status', '--json'])).stdout) as { services: { pid: number; state: string }[] };
      expect(status.services[0]).toMatchObject({ state: 'ready', pid: ready.pid });
      // The bad edit undone: what runs, but after a failed reload it is reloaded, so status shows it took.
      await writeFile(conf, 'good 2\n');
      await run.waitFor(() => hups() === 2, 5000);
      await run.waitFor(byMsg('daemon', /daemon\.conf changed; daemon checked and reloaded/), 5000);
      // An explicit reload is always made.
      expect((await kk(['reload', 'daemon'])).code).toBe(0);
      await run.waitFor(() => hups() === 3, 5000);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('re-reads services.d on HUP; a broken services.d is refused whole and everything keeps running', async () => {
    run = await startSupervisor({ 'a.yaml': svc('a', ['run']), 'b.yaml': svc('b', ['run']) });
    const a = await run.waitFor(byMsg('a', /is ready/));
    const b = await run.waitFor(byMsg('b', /is ready/));
    await writeFile(path.join(run.dir, 'c.yaml'), svc('c', ['run'], 'depends_on: [nothing]\n'));
    run.child.kill('SIGHUP');
    const refused = await run.waitFor((r) => /services.d not applied/.test(r.msg));
    expect(refused.problems).toEqual([`${run.dir}/c.yaml: depends_on.0: no service is named "nothing" (known: a, b, c)`]);
    const status = JSON.parse((await kk(['status', '--json'])).stdout) as { services: { name: string; pid: number; state: string }[] };
    expect(status.services.map((s) => [s.name, s.state, s.pid])).toEqual([['a', 'ready', a.pid], ['b', 'ready', b.pid]]);

    // Fixed: c is added, b removed, a changed (restarted with a new pid).
    await writeFile(path.join(run.dir, 'c.yaml'), svc('c', ['run'], 'depends_on: [a]\n'));
    await unlink(path.join(run.dir, 'b.yaml'));
    await writeFile(path.join(run.dir, 'a.yaml'), svc('a', ['run'], 'stop_grace: 5s\n'));
    run.child.kill('SIGHUP');
    await run.waitFor((r) => r.msg === 'services.d re-read: 1 added, 1 removed, 1 changed');
    await run.waitFor(byMsg('c', /is ready/));
    const after = JSON.parse((await kk(['status', '--json'])).stdout) as { services: { name: string; pid: number; state: string }[] };
    expect(after.services.map((s) => [s.name, s.state])).toEqual([['a', 'ready'], ['c', 'ready']]);
    expect(after.services[0]!.pid).not.toBe(a.pid);
    expect(run.records.some(byMsg('b', /stopped$/))).toBe(true);
  });

  it('says clearly when the supervisor is not running (exit 69)', async () => {
    const missing = path.join(bin, 'no-such.sock'); // in this run's own dir: nothing is there
    const result = await exec(process.execPath, [CLI, 'status', '--socket', missing]);
    expect(result.code).toBe(69);
    expect(result.stderr).toContain(`cannot reach the kea-knot supervisor: no socket at ${missing}`);
    const health = await exec(process.execPath, [CLI, 'health'], { KEA_KNOT_SOCKET: missing });
    expect(health.code).toBe(69);
  });

  it('check validates services.d and runs every check without starting anything', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'kk-check-'));
    try {
      await writeFile(path.join(dir, 'good.yaml'), 'name: good\ncommand: [/nonexistent]\ncheck: {command: [sh, -c, "exit 0"]}\n');
      await writeFile(path.join(dir, 'bad.yaml'), 'name: bad\ncommand: [/nonexistent]\ncheck: {command: [sh, -c, "echo broken line 7; exit 1"]}\n');
      const result = await exec(process.execPath, [CLI, 'check', '--services-dir', dir]);
      expect(result.code).toBe(1);
      expect(result.stdout).toMatch(/FAIL {2}bad: check of bad failed \(sh -c echo broken line 7; exit 1 exited with code 1\): broken line 7; .*\n {8}broken line 7\n/);
      expect(result.stdout).toContain('ok    good: sh -c exit 0');
      await writeFile(path.join(dir, 'bad.yaml'), 'name: bad\ncommand: /x\n');
      expect((await exec(process.execPath, [CLI, 'check', '--services-dir', dir])).code).toBe(78);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
