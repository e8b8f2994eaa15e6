import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeStalePidFile } from '../../../src/supervisor/pidfile.js';
import { listPids, readProcStat } from '../../../src/supervisor/proc.js';

let dir: string;
let file: string;
const children: ChildProcess[] = [];

function start(command: string, args: string[]): ChildProcess {
  const child = spawn(command, args, { stdio: 'ignore' });
  children.push(child);
  return child;
}

async function startAndWait(command: string, args: string[]): Promise<number> {
  const child = start(command, args);
  await once(child, 'spawn');
  return child.pid ?? -1;
}

function writePid(content: string | number): void {
  writeFileSync(file, typeof content === 'number' ? `${content}\n` : content);
}

async function poll<T>(probe: () => T | undefined, ms = 3000): Promise<T> {
  for (const deadline = Date.now() + ms; Date.now() < deadline; await new Promise((r) => setTimeout(r, 10))) {
    const value = probe();
    if (value !== undefined) return value;
  }
  throw new Error('condition not met in time');
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'pidfile-test-'));
  file = join(dir, 'kea-dhcp4.pid');
});

afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

describe('removeStalePidFile', () => {
  it('keeps the file of a live process running the same program', async () => {
    const pid = await startAndWait('sleep', ['30']);
    writePid(pid);
    const decision = await removeStalePidFile(file, '/usr/bin/sleep');
    expect(decision.removed).toBe(false);
    expect(decision.reason).toContain(`PID ${pid}`);
    expect(existsSync(file)).toBe(true);
  });

  it('compares by the basename of argv[0]', async () => {
    // A sleep that looks like kea-dhcp4 from /proc, as the real daemon would.
    const fake = join(dir, 'kea-dhcp4');
    symlinkSync('/bin/sleep', fake);
    writePid(await startAndWait(fake, ['30']));
    expect((await removeStalePidFile(file, '/usr/sbin/kea-dhcp4')).removed).toBe(false);
    expect(existsSync(file)).toBe(true);
  });

  it('removes the file when the PID runs another program', async () => {
    writePid(await startAndWait('sleep', ['30']));
    const decision = await removeStalePidFile(file, '/usr/sbin/kea-dhcp4');
    expect(decision).toEqual({ removed: true, reason: expect.stringMatching(/running sleep, not kea-dhcp4/) });
    expect(existsSync(file)).toBe(false);
  });

  it('removes the file when the PID belongs to a known other process', async () => {
    const pid = await startAndWait('sleep', ['30']);
    writePid(pid);
    const decision = await removeStalePidFile(file, 'sleep', new Set([pid]));
    expect(decision).toEqual({ removed: true, reason: expect.stringMatching(/another known process/) });
    expect(existsSync(file)).toBe(false);
  });

  it('removes the file when the PID is our own', async () => {
    writePid(process.pid);
    const decision = await removeStalePidFile(file, process.argv0);
    expect(decision).toEqual({ removed: true, reason: expect.stringMatching(/supervisor itself/) });
    expect(existsSync(file)).toBe(false);
  });

  it('removes the file when no process has the PID', async () => {
    const child = start('/bin/true', []);
    await once(child, 'exit');
    writePid(child.pid ?? -1);
    const decision = await removeStalePidFile(file, '/bin/true');
    expect(decision).toEqual({ removed: true, reason: expect.stringMatching(/no process has PID/) });
    expect(existsSync(file)).toBe(false);
  });

  it('removes the file when the PID is a zombie, even of the same program', async () => {
    // sh starts a short background sleep and then becomes `sleep 30`, which never reaps it.
    const parent = await startAndWait('/bin/sh', ['-c', 'sleep 0 & exec sleep 30']);
    const zombie = await poll(() =>
      listPids().find((pid) => {
        const stat = readProcStat(pid);
        return stat?.ppid === parent && stat.state === 'Z';
      }),
    );
    writePid(zombie);
    const decision = await removeStalePidFile(file, 'sleep');
    expect(decision).toEqual({ removed: true, reason: expect.stringMatching(/is a zombie/) });
    expect(existsSync(file)).toBe(false);
  });

  it.each([['hello\n'], ['12abc\n'], ['-5\n'], ['0\n'], ['4194304\n'], ['1 2\n']])(
    'removes a file holding garbage: %j',
    async (content) => {
      writePid(content);
      const decision = await removeStalePidFile(file, 'kea-dhcp4');
      expect(decision).toEqual({ removed: true, reason: expect.stringMatching(/does not hold a PID/) });
      expect(existsSync(file)).toBe(false);
    },
  );

  it('removes an empty file', async () => {
    writePid(' \n');
    expect(await removeStalePidFile(file, 'kea-dhcp4')).toEqual({ removed: true, reason: expect.stringMatching(/empty/) });
    expect(existsSync(file)).toBe(false);
  });

  it('reports a missing file without removing anything', async () => {
    expect(await removeStalePidFile(join(dir, 'none.pid'), 'kea-dhcp4')).toEqual({
      removed: false,
      reason: expect.stringMatching(/no PID file/),
    });
  });

  it('fails with E_IO when the file cannot be read', async () => {
    await expect(removeStalePidFile(dir, 'kea-dhcp4')).rejects.toMatchObject({ code: 'E_IO' });
  });
});
