import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { constants, mkdtempSync, openSync, closeSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { inProcessSupervisor, type InProcess } from '../../helpers/in-process.js';
import { openChildOutputPipes, PIPE_BYTES } from '../../../src/logs/child-output.js';
import { LogHistory } from '../../../src/logs/history.js';
import { createLogOutput, type LogOutput } from '../../../src/logs/output.js';
import { pipeServiceOutput } from '../../../src/logs/service-pipe.js';
import { F_GETPIPE_SZ, tryLoadLibc } from '../../../src/supervisor/libc.js';

const hasKoffi = tryLoadLibc() !== undefined;
const ownFds = (): string[] => readdirSync('/proc/self/fd').map((fd) => { try { return readlinkSync(`/proc/self/fd/${fd}`); } catch { return ''; } });
const pipeFds = (): number => ownFds().filter((target) => target.startsWith('pipe:')).length;

let sup: InProcess | undefined;
afterEach(async () => { await sup?.cleanup(); sup = undefined; });

describe.skipIf(!hasKoffi)('service output through real pipes', () => {
  it('gives the service a pipe (not a socket) on fds 1 and 2, and logs a last line without newline', async () => {
    sup = await inProcessSupervisor({
      'talker.yaml': [
        'name: talker',
        'type: oneshot',
        // Waits until the test has looked at its fds (it removes $DIR/hold), then ends with
        // a line that has no newline, written just before exit.
        `command: [sh, -c, 'echo started; echo to-stderr >&2; while [ -e "$DIR/hold" ]; do sleep 0.02; done; printf "last words"']`,
        '',
      ].join('\n'),
      hold: '',
    });
    const runner = sup.supervisor.runner('talker');
    await expect.poll(() => runner.history.last().map((e) => e.msg), { timeout: 5000 }).toContain('started');
    const pid = runner.pid as number;
    expect(readlinkSync(`/proc/${pid}/fd/1`)).toMatch(/^pipe:\[\d+\]$/);
    expect(readlinkSync(`/proc/${pid}/fd/2`)).toMatch(/^pipe:\[\d+\]$/);
    expect(readlinkSync(`/proc/${pid}/fd/1`)).not.toBe(readlinkSync(`/proc/${pid}/fd/2`));

    const { unlink } = await import('node:fs/promises');
    await unlink(`${sup.dir}/hold`);
    await sup.until('talker', 'exited');
    // The two pipes are read independently: their order relative to each other may vary.
    await expect.poll(() => runner.history.last().map((e) => `${e.stream} ${e.msg}`).sort(), { timeout: 2000 }).toEqual([
      'stderr to-stderr',
      'stdout last words',
      'stdout started',
    ]);
  });

  it('creates close-on-exec pipes of PIPE_BYTES and closes every fd once the child is gone', async () => {
    const before = pipeFds();
    const pipes = openChildOutputPipes();
    if (pipes === undefined) throw new Error('koffi loaded above');
    const libc = tryLoadLibc()!;
    expect(libc.fcntl(pipes.stdio[1], F_GETPIPE_SZ)).toBe(PIPE_BYTES);
    expect(pipeFds()).toBe(before + 4);

    const batches: string[][] = [];
    const output = { writeServiceLines: (_: string, entries: readonly { msg: string }[]) => batches.push(entries.map((e) => e.msg)) } as unknown as LogOutput;
    // 20000 lines, one write each, then a partial line and a multibyte character cut by nothing.
    const script = 'for (let i = 0; i < 20000; i++) require("fs").writeSync(1, `line ${i}\\n`); require("fs").writeSync(1, "größe 😀 end"); require("fs").writeSync(2, "err\\n");';
    let child;
    try {
      child = spawn(process.execPath, ['-e', script], { stdio: pipes.stdio });
    } finally {
      pipes.closeWriteEnds();
    }
    expect(pipeFds()).toBe(before + 2);
    pipeServiceOutput({ service: 'n', streamName: 'stdout', fd: pipes.stdout, output, history: new LogHistory(0) });
    pipeServiceOutput({ service: 'n', streamName: 'stderr', fd: pipes.stderr, output, history: new LogHistory(0) });
    await once(child, 'exit');
    await expect.poll(() => pipeFds(), { timeout: 2000 }).toBe(before);
    const lines = batches.flat();
    expect(lines).toHaveLength(20002);
    expect(lines.filter((l) => l.startsWith('line '))).toEqual(Array.from({ length: 20000 }, (_, i) => `line ${i}`));
    expect(lines).toContain('größe 😀 end');
    expect(lines).toContain('err');
    // Batched: far fewer batches than lines.
    expect(batches.length).toBeLessThan(2000);
  });

  it('closes the read ends when the program cannot be run', async () => {
    const before = pipeFds();
    sup = await inProcessSupervisor({ 'missing.yaml': 'name: missing\ncommand: [/nonexistent/program]\nbackoff: {max_crashes: 1}\n' });
    await sup.until('missing', 'failed');
    await expect.poll(() => pipeFds(), { timeout: 2000 }).toBe(before);
  });

  it("grows the supervisor's own stdout to PIPE_BYTES when it is a pipe or FIFO", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kk-fifo-'));
    try {
      const fifo = join(dir, 'fifo');
      execFileSync('mkfifo', [fifo]);
      const readFd = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
      const writeFd = openSync(fifo, 'w');
      const libc = tryLoadLibc()!;
      expect(libc.fcntl(writeFd, F_GETPIPE_SZ)).toBeLessThan(PIPE_BYTES);
      const output = createLogOutput({ format: 'json', level: 'info', fd: writeFd });
      expect(libc.fcntl(readFd, F_GETPIPE_SZ)).toBe(PIPE_BYTES);
      output.close();
      await output.flush(1000);
      closeSync(readFd);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
