// Races and half-working operations of PID 1, each reproduced against a real supervisor
// with fixture services: a stop signal during start-up, a re-read during shutdown, a
// reload whose long check outlives the daemon, the start of a disabled service.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CLI, byLine, byMsg, startSupervisor, svc, type SupervisorHandle } from '../../helpers/supervisor-process.js';

interface Result { code: number; stdout: string; stderr: string }
const exec = (args: string[]): Promise<Result> => new Promise((resolve) => {
  execFile(process.execPath, [CLI, ...args], (error, stdout, stderr) => resolve({ code: error ? (error.code as number) : 0, stdout, stderr }));
});

const runs: SupervisorHandle[] = [];
afterEach(async () => { await Promise.all(runs.splice(0).map((r) => r.cleanup())); });
async function supervisor(files: Record<string, string>, env?: NodeJS.ProcessEnv): Promise<SupervisorHandle> {
  const run = await startSupervisor(files, env ? { env } : {});
  runs.push(run);
  return run;
}
const kk = (run: SupervisorHandle, args: string[]) => exec([...args, '--socket', run.socket]);

/** Resolves with the exit code, or 'hung' when the supervisor is still there after `ms`. */
function exitWithin(run: SupervisorHandle, ms: number): Promise<number | 'hung'> {
  return Promise.race([run.exited, new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), ms))]);
}

describe('PID-1 races', () => {
  it('ends on a stop signal that arrives at any moment of start-up', async () => {
    // Spread over the whole start-up: reading services.d, opening the API socket, loading
    // the watcher, starting the services. Five at a time, each with its own socket.
    const delays = Array.from({ length: 24 }, (_, i) => i * 60);
    const outcomes: string[] = [];
    for (let i = 0; i < delays.length; i += 5) {
      await Promise.all(delays.slice(i, i + 5).map(async (delay) => {
        const run = await supervisor({ 'a.yaml': svc('a', ['run'], 'watch: [/etc/hostname]\n') });
        await new Promise((resolve) => setTimeout(resolve, delay));
        run.child.kill('SIGTERM');
        const outcome = await exitWithin(run, 15_000);
        if (outcome === 'hung') console.log(JSON.stringify(run.records.map((r) => r.msg)), run.stderr());
        outcomes.push(`${delay} ms: ${outcome}`);
      }));
    }
    // 143: killed by the TERM before Node ran our code (outside PID 1 the default action).
    expect(outcomes.filter((o) => !/: (0|143)$/.test(o))).toEqual([]);
  }, 120_000);

  it('starts nothing from a re-read that comes during shutdown', async () => {
    const run = await supervisor({ 'slow.yaml': svc('slow', ['ignore-term'], 'stop_grace: 3s\n') });
    await run.waitFor(byMsg('slow', /is ready/));
    run.child.kill('SIGTERM');
    await run.waitFor((r) => /stopping all services/.test(r.msg));
    await writeFile(path.join(run.dir, 'late.yaml'), svc('late', ['run']));
    run.child.kill('SIGHUP');
    await run.waitFor((r) => /services\.d not applied/.test(r.msg) && /shutting down/.test(r.msg));
    expect(await run.exited).toBe(0);
    expect(run.records.filter((r) => r.service === 'late')).toEqual([]);
  });

  it('refuses to start or restart a disabled service, and leaves it disabled', async () => {
    const run = await supervisor({ 'on.yaml': svc('on', ['run']), 'off.yaml': svc('off', ['run'], 'enabled: false\n') });
    await run.waitFor(byMsg('on', /is ready/));
    for (const command of ['start', 'restart']) {
      const result = await kk(run, [command, 'off']);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`off is disabled (enabled is false in ${path.join(run.dir, 'off.yaml')})`);
    }
    const status = JSON.parse((await kk(run, ['status', '--json'])).stdout) as { services: { name: string; state: string; pid: number | null }[] };
    expect(status.services.find((s) => s.name === 'off')).toMatchObject({ state: 'disabled', pid: null });
    expect(run.records.filter((r) => r.service === 'off' && r.stream !== undefined)).toEqual([]);
  });

  it('reads the pid to reload after the check, never the pid of a daemon that died during it', async () => {
    // The check takes 2 s; the daemon is killed 0.3 s into it and comes back through its
    // own 2 s check, so when the reload's check ends the service is starting again.
    const run = await supervisor({ 'daemon.yaml': svc('daemon', ['run'], 'check: {command: [sleep, "2"]}\nreload: {signal: HUP}\n') });
    await run.waitFor(byMsg('daemon', /is ready/));
    const { pid } = (JSON.parse((await kk(run, ['status', '--json'])).stdout) as { services: { pid: number }[] }).services[0]!;
    const reload = kk(run, ['reload', 'daemon']);
    await new Promise((resolve) => setTimeout(resolve, 300));
    process.kill(pid, 'SIGKILL');
    const result = await reload;
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/daemon is (starting|backoff), not ready; start or restart it instead of reloading/);
    // The daemon that runs now got no signal either.
    await run.waitFor((r) => r.service === 'daemon' && r.msg === 'daemon is ready' && r.pid !== pid);
    expect(run.records.some(byLine('daemon', /got HUP/))).toBe(false);
  }, 20_000);

  it('shows every time in status as epoch milliseconds', async () => {
    const run = await supervisor({ 'once.yaml': svc('once', ['exit', '3'], 'restart: never\n') });
    await run.waitFor(byMsg('once', /failed/));
    const before = Date.now();
    const [once] = (JSON.parse((await kk(run, ['status', '--json'])).stdout) as { services: { since: number; forMs: number; lastExit: { at: number; code: number } }[] }).services;
    expect(once!.lastExit.code).toBe(3);
    for (const at of [once!.since, once!.lastExit.at]) {
      expect(at).toBeGreaterThan(before - 60_000);
      expect(at).toBeLessThanOrEqual(Date.now());
    }
    expect(Math.abs(Date.now() - once!.since - once!.forMs)).toBeLessThan(5_000);
  });

  it('kills a service that ignores TERM without ps on PATH (tree-kill would throw ENOENT)', async () => {
    // PATH with only what the fixture needs: no ps.
    const bin = await mkdtemp(path.join(tmpdir(), 'kk-nops-'));
    try {
      await symlink('/bin/sleep', path.join(bin, 'sleep'));
      const run = await supervisor({ 'stubborn.yaml': svc('stubborn', ['ignore-term'], 'stop_grace: 300ms\n') }, { PATH: bin });
      await run.waitFor(byMsg('stubborn', /is ready/));
      run.child.kill('SIGTERM');
      expect(await run.exited).toBe(0);
      expect(run.records.some((r) => r.service === 'stubborn' && /no ps on PATH, so only its process group was killed/.test(r.msg))).toBe(true);
      expect(run.records.some((r) => /internal error/.test(r.msg))).toBe(false);
    } finally {
      await rm(bin, { recursive: true, force: true });
    }
  });
});
