import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { listPids, parseProcStat, readCmdline, readProcStat } from '../../../src/supervisor/proc.js';

// Above Linux's PID_MAX_LIMIT, so certainly no such process.
const NO_SUCH_PID = 4_194_305;
const TAIL = ' 0 -1 4194560 99 0 0 0 0 0 0 0 20 0 1 0 123 2469888 143 18446744073709551615\n';

describe('parseProcStat', () => {
  it.each([
    ['plain', `1234 (kea-dhcp4) S 1 1234${TAIL}`, { pid: 1234, comm: 'kea-dhcp4', state: 'S', ppid: 1, pgrp: 1234 }],
    ['spaces', `42 (tmux: server) R 7 42${TAIL}`, { pid: 42, comm: 'tmux: server', state: 'R', ppid: 7, pgrp: 42 }],
    ['a fake end of comm', `77 (a) Z 9 (b) S 3 5${TAIL}`, { pid: 77, comm: 'a) Z 9 (b', state: 'S', ppid: 3, pgrp: 5 }],
    ['only a parenthesis', `5 ()) Z 1 5${TAIL}`, { pid: 5, comm: ')', state: 'Z', ppid: 1, pgrp: 5 }],
    ['open parentheses', `6 (((() T 2 6${TAIL}`, { pid: 6, comm: '(((', state: 'T', ppid: 2, pgrp: 6 }],
    ['a newline', `8 (x\ny) S 1 8${TAIL}`, { pid: 8, comm: 'x\ny', state: 'S', ppid: 1, pgrp: 8 }],
    ['nothing', `9 () I 2 0${TAIL}`, { pid: 9, comm: '', state: 'I', ppid: 2, pgrp: 0 }],
  ])('handles a comm with %s', (_name, text, expected) => {
    expect(parseProcStat(text)).toEqual(expected);
  });

  it.each([[''], ['hello'], ['12 (x'], ['(x) S 1 1'], ['x1 (a) S 1 1'], ['3 (a) S'], ['3 (a) S one 1']])(
    'rejects %j',
    (text) => {
      expect(parseProcStat(text)).toBeNull();
    },
  );
});

describe('reading /proc', () => {
  it('reads our own stat, cmdline and pid', () => {
    const stat = readProcStat(process.pid);
    expect(stat).toMatchObject({ pid: process.pid, ppid: process.ppid });
    expect(['R', 'S']).toContain(stat?.state);
    expect(readCmdline(process.pid)?.[0]).toBe(process.argv0);
    expect(listPids()).toContain(process.pid);
  });

  it('returns null for a process that does not exist', () => {
    expect(readProcStat(NO_SUCH_PID)).toBeNull();
    expect(readCmdline(NO_SUCH_PID)).toBeNull();
  });

  it('reads a real comm that contains spaces and parentheses', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'proc-test-'));
    // The kernel takes comm from the executed file name: run sleep under a hostile name.
    const tricky = join(dir, 'a) b (c');
    symlinkSync('/bin/sleep', tricky);
    const child = spawn(tricky, ['30'], { stdio: 'ignore' });
    try {
      await new Promise((resolve) => child.once('spawn', resolve));
      const stat = readProcStat(child.pid ?? -1);
      expect(stat).toMatchObject({ pid: child.pid, comm: 'a) b (c', ppid: process.pid });
      expect(readCmdline(child.pid ?? -1)).toEqual([tricky, '30']);
    } finally {
      child.kill();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
