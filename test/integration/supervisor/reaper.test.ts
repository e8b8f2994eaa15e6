import { execFile, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '../../..');
const dist = join(root, 'dist/supervisor');
const harness = join(root, 'test/fixtures/reaper-harness.mjs');
const modules = ['reaper', 'proc', 'spawned', 'libc'];
// Needs root (or CAP_SYS_ADMIN) and a kernel/container that allows PID namespaces.
const canBePid1 = spawnSync('unshare', ['--pid', '--fork', '--mount-proc', 'true']).status === 0;

interface Report {
  pid: number;
  active: boolean;
  activeAfterStop: boolean;
  makerCode?: number;
  adopted?: number;
  exits?: number;
  wrongCodes?: unknown[];
  execFile?: { code: number; stdout: string };
  reaped?: number;
  leftoverZombies?: number;
  adoptedAtEnd?: number;
  zombiesBeforeStop?: number;
  zombiesAfterStop?: number;
  logs: { level: number; msg: string; code?: number }[];
}

async function runHarness(command: string[], args: string[]): Promise<Report & { exitCode: number }> {
  const [file, ...pre] = command as [string, ...string[]];
  // Keep the report when the harness exits non-zero: it says what went wrong.
  const { stdout, code } = await run(file, [...pre, harness, ...args], { timeout: 25_000 }).then(
    (r) => ({ stdout: r.stdout, code: 0 }),
    (err: { stdout?: string; code?: number }) => ({ stdout: err.stdout ?? '', code: err.code ?? -1 }),
  );
  return { ...(JSON.parse(stdout) as Report), exitCode: code };
}

function expectAllReapedAndNoneStolen(report: Report & { exitCode: number }, orphans: number, children: number): void {
  expect(report.active).toBe(true);
  expect(report.makerCode).toBe(0);
  // The orphans were alive and ours right after the maker exited...
  expect(report.adopted).toBe(orphans);
  // ...and all were reaped, with their own exit status, leaving no zombie.
  expect(report.reaped).toBe(orphans);
  expect(report.leftoverZombies).toBe(0);
  expect(report.adoptedAtEnd).toBe(0);
  // stop() reaps the one that died while no scan could run; the logs include it.
  expect(report.zombiesBeforeStop).toBe(1);
  expect(report.zombiesAfterStop).toBe(0);
  expect(report.logs.filter((l) => l.msg === 'reaped orphan' && l.code === 3)).toHaveLength(orphans + 1);
  // Node's own children all got their 'exit' event with the right code.
  expect(report.exits).toBe(children);
  expect(report.wrongCodes).toEqual([]);
  expect(report.execFile).toEqual({ code: 42, stdout: 'done' });
  expect(report.activeAfterStop).toBe(false);
  // Exited by itself: no child handle left waiting for an 'exit' that never came.
  expect(report.exitCode).toBe(0);
}

describe('orphan reaper with real processes', () => {
  beforeAll(async () => {
    const started = Date.now();
    // Type errors are `tsc --noEmit`'s business (and other modules may be mid-edit): tsc
    // emits JavaScript regardless, and this only needs fresh JavaScript.
    await run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', root]).catch(() => undefined);
    for (const m of modules) expect(statSync(join(dist, `${m}.js`)).mtimeMs).toBeGreaterThanOrEqual(started - 1000);
  }, 60_000);

  it('as a subreaper, reaps every orphan without stealing any exit event', async () => {
    const report = await runHarness([process.execPath], [dist, '30', '0.3', '100']);
    expect(report.pid).not.toBe(1);
    expectAllReapedAndNoneStolen(report, 30, 100);
  });

  it.skipIf(!canBePid1)('as PID 1 of a PID namespace, does the same', async () => {
    const report = await runHarness(['unshare', '--pid', '--fork', '--mount-proc', process.execPath], [dist, '30', '0.3', '100']);
    expect(report.pid).toBe(1);
    expectAllReapedAndNoneStolen(report, 30, 100);
  });

  it('without koffi, warns once and returns an inactive reaper', async () => {
    // A copy outside the project has no node_modules to find koffi in.
    const bare = mkdtempSync(join(tmpdir(), 'reaper-nokoffi-'));
    try {
      for (const m of modules) copyFileSync(join(dist, `${m}.js`), join(bare, `${m}.js`));
      const report = await runHarness([process.execPath], [bare]);
      expect(report.active).toBe(false);
      expect(report.exitCode).toBe(0);
      expect(report.logs).toHaveLength(1);
      expect(report.logs[0]).toMatchObject({ level: 40 });
      expect(report.logs[0]?.msg).toMatch(/orphaned processes will stay zombies/);
    } finally {
      rmSync(bare, { recursive: true, force: true });
    }
  });
});
