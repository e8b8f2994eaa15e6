import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { constants, mkdtempSync, openSync, closeSync, readdirSync, readFileSync, readlinkSync, readSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { inProcessSupervisor, type InProcess } from '../../helpers/in-process.js';
import { openChildOutputPipes, PIPE_BYTES } from '../../../src/logs/child-output.js';
import { LogHistory } from '../../../src/logs/history.js';
import { parseServiceLevel } from '../../../src/logs/levels.js';
import { LineSplitter } from '../../../src/logs/line-splitter.js';
import { serviceRecordsJson } from '../../../src/logs/records.js';
import { createLogOutput, type LogOutput } from '../../../src/logs/output.js';
import { pipeServiceOutput } from '../../../src/logs/service-pipe.js';
import { F_GETPIPE_SZ, tryLoadLibc } from '../../../src/supervisor/libc.js';

const hasKoffi = tryLoadLibc() !== undefined;
const ownFds = (): string[] => readdirSync('/proc/self/fd').map((fd) => { try { return readlinkSync(`/proc/self/fd/${fd}`); } catch { return ''; } });
const pipeFds = (): number => ownFds().filter((target) => target.startsWith('pipe:')).length;

/** A FIFO in a temp dir, open for reading (non-blocking) and writing; the write end is the caller's to close. */
async function withFifo(use: (fifo: string, readFd: number, writeFd: number) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'kk-fifo-'));
  try {
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const readFd = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    try {
      await use(fifo, readFd, openSync(fifo, 'w'));
    } finally {
      closeSync(readFd);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

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

  it('writes every line as the same record, whether its bytes are copied or its string encoded', async () => {
    // ~1.5 MiB in writes of odd sizes, so reads cut lines (and a multibyte character) anywhere:
    // runs of plain lines (copied as bytes) and lines that need escaping, are not ASCII,
    // end in CRLF or are longer than a line may be (built from their strings).
    const plain = Array.from({ length: 20_000 }, (_, i) => `2024-05-01 12:00:00.${i % 1000} INFO  [kea-dhcp4.leases/1] DHCP4_LEASE_ALLOC ${i}`);
    const odd = ['say "hi"', 'tab\there', 'größe 😀', 'crlf\r', 'x'.repeat(40_000), '', 'back\\slash', 'WARN  [kea.x/1] warning line'];
    const text = plain.map((line, i) => (i % 997 === 0 ? `${odd[(i / 997) % odd.length]}\n` : '') + `${line}\n`).join('') + 'tail without newline';
    const dir = mkdtempSync(join(tmpdir(), 'kk-records-'));
    try {
      const file = join(dir, 'out.jsonl');
      const pipes = openChildOutputPipes()!;
      // Writes of 1..9999 bytes, cut at byte (not character) boundaries.
      const script = 'const b = Buffer.from(require("fs").readFileSync(0)); for (let i = 0, n = 1; i < b.length; i += n, n = (n * 7919) % 9999 + 1) require("fs").writeSync(1, b.subarray(i, i + n));';
      let child;
      try {
        child = spawn(process.execPath, ['-e', script], { stdio: ['pipe', pipes.stdio[1], pipes.stdio[2]] });
      } finally {
        pipes.closeWriteEnds();
      }
      child.stdin!.end(text);
      const output = createLogOutput({ format: 'json', level: 'info', fd: openSync(file, 'w') });
      const history = new LogHistory(0);
      pipeServiceOutput({ service: 'kea-dhcp4', streamName: 'stdout', fd: pipes.stdout, output, history });
      pipeServiceOutput({ service: 'kea-dhcp4', streamName: 'stderr', fd: pipes.stderr, output, history });
      await once(child, 'exit');
      // Read until the tail (written last, flushed at end of file) is in.
      let records: { level: number; time: number; service: string; stream: 'stdout' | 'stderr'; msg: string }[] = [];
      await expect.poll(() => {
        const lines = readFileSync(file, 'utf8').split('\n').slice(0, -1);
        records = lines.map((line) => JSON.parse(line) as (typeof records)[number]);
        // Byte for byte what serviceRecordsJson writes for the same entry.
        for (const [i, record] of records.entries()) expect(`${lines[i]}\n`).toBe(serviceRecordsJson('"kea-dhcp4"', [record]));
        return records.at(-1)?.msg;
      }, { timeout: 5000 }).toBe('tail without newline');
      output.close();
      const splitter = new LineSplitter();
      const expected = [...splitter.push(text), splitter.flush()];
      expect(records.map((r) => r.msg)).toEqual(expected);
      expect(records.map((r) => r.level)).toEqual(expected.map((msg) => parseServiceLevel(msg!) ?? 30));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('closes the read ends when the program cannot be run', async () => {
    const before = pipeFds();
    sup = await inProcessSupervisor({ 'missing.yaml': 'name: missing\ncommand: [/nonexistent/program]\nbackoff: {max_crashes: 1}\n' });
    await sup.until('missing', 'failed');
    await expect.poll(() => pipeFds(), { timeout: 2000 }).toBe(before);
  });

  it("writes to a pipe through a non-blocking description of its own, leaving the fd's own blocking", () =>
    withFifo(async (fifo, readFd, writeFd) => {
      const fdsOnFifo = (): number[] => readdirSync('/proc/self/fd').map(Number).filter((fd) => { try { return readlinkSync(`/proc/self/fd/${fd}`) === fifo; } catch { return false; } });
      const flags = (fd: number): number => parseInt(/^flags:\s+(\d+)$/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))![1]!, 8);
      const output = createLogOutput({ format: 'json', level: 'info', fd: writeFd, growPipe: false });
      const own = fdsOnFifo().filter((fd) => fd !== readFd && fd !== writeFd);
      expect(own).toHaveLength(1);
      expect(flags(own[0]!) & constants.O_NONBLOCK).toBe(constants.O_NONBLOCK);
      expect(flags(writeFd) & constants.O_NONBLOCK).toBe(0);

      output.writeServiceLines('knot', [{ time: 1, stream: 'stdout', level: 30, msg: 'through the pipe' }]);
      await output.flush(2000);
      const buffer = Buffer.alloc(4096);
      expect(buffer.toString('utf8', 0, readSync(readFd, buffer))).toBe('{"level":30,"time":1,"service":"knot","stream":"stdout","msg":"through the pipe"}\n');
      output.close();
      // Both write ends are closed: ours and the one handed over.
      await expect.poll(() => fdsOnFifo(), { timeout: 2000 }).toEqual([readFd]);
    }));

  it("grows the supervisor's own stdout to PIPE_BYTES when it is a pipe or FIFO", () =>
    withFifo(async (_fifo, readFd, writeFd) => {
      const libc = tryLoadLibc()!;
      expect(libc.fcntl(writeFd, F_GETPIPE_SZ)).toBeLessThan(PIPE_BYTES);
      const output = createLogOutput({ format: 'json', level: 'info', fd: writeFd });
      expect(libc.fcntl(readFd, F_GETPIPE_SZ)).toBe(PIPE_BYTES);
      output.close();
      await output.flush(1000);
    }));
});
