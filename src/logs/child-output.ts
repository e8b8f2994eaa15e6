/**
 * Real pipes for a service's stdout and stderr.
 *
 * `spawn(..., { stdio: 'pipe' })` gives the child a unix socket pair, not a pipe: every
 * write() of a short line becomes one socket buffer whose overhead (truesize) fills the
 * socket's ~200 KB budget after a few hundred lines, so the writer blocks and the reader
 * is woken for every few lines. In a pipe, small writes are merged into its pages, and one
 * read takes ~1600 lines (64 KiB). Measured with 41-byte lines, one write() each, 2M lines
 * (scripts/bench, log test, 2-core machine): ~250-650k lines/s end to end through socket
 * pairs, ~1.7-1.8M lines/s through pipes, on a par with supervisord in the same runs.
 *
 * pipe2() and fcntl() come from libc through koffi; without koffi, openChildOutputPipes()
 * returns undefined and the caller uses `stdio: 'pipe'`.
 */
import { closeSync } from 'node:fs';
import { constants } from 'node:os';
import { F_SETPIPE_SZ, O_CLOEXEC, tryLoadLibc, type Libc } from '../supervisor/libc.js';

/** What each pipe is grown to; the kernel's default (64 KiB) is kept if this fails. */
export const PIPE_BYTES = 1024 * 1024;

export interface ChildOutputPipes {
  /** For spawn's `stdio`: the write ends become the child's fds 1 and 2. */
  readonly stdio: ['ignore', number, number];
  /** Read ends, for pipeServiceOutput({ fd }), which then owns (and closes) them. */
  readonly stdout: number;
  readonly stderr: number;
  /**
   * Closes our copies of the write ends. Call right after spawn() returns or throws: by
   * then the child has its own copies (libuv returns after exec), and the reader sees end
   * of file only once every copy is closed.
   */
  closeWriteEnds(): void;
  /** Closes the read ends, for when they are not handed to a reader (spawn threw). */
  closeReadEnds(): void;
}

/**
 * Two close-on-exec pipes (so no other child inherits them), grown to PIPE_BYTES.
 * Undefined when libc cannot be loaded through koffi; throws when pipe2() fails (EMFILE...).
 */
export function openChildOutputPipes(): ChildOutputPipes | undefined {
  const libc = tryLoadLibc();
  if (libc === undefined) return undefined;
  const out = openPipe(libc);
  let err: [number, number];
  try {
    err = openPipe(libc);
  } catch (error) {
    closeAll(out);
    throw error;
  }
  let writeOpen = true;
  let readOpen = true;
  return {
    stdio: ['ignore', out[1], err[1]],
    stdout: out[0],
    stderr: err[0],
    closeWriteEnds() {
      if (!writeOpen) return;
      writeOpen = false;
      closeAll([out[1], err[1]]);
    },
    closeReadEnds() {
      if (!readOpen) return;
      readOpen = false;
      closeAll([out[0], err[0]]);
    },
  };
}

/** [read end, write end]. */
function openPipe(libc: Libc): [number, number] {
  const fds = new Int32Array(2);
  if (libc.pipe2(fds, O_CLOEXEC) !== 0) {
    const errno = libc.errno();
    const code = Object.entries(constants.errno).find(([, value]) => value === errno)?.[0] ?? `errno ${errno}`;
    throw Object.assign(new Error(`pipe2 failed: ${code}`), { code, errno });
  }
  const pipe: [number, number] = [fds[0] as number, fds[1] as number];
  growPipe(pipe[1], libc);
  return pipe;
}

/**
 * Grows the pipe behind `fd` to PIPE_BYTES; false when it cannot (koffi missing, `fd` not a
 * pipe or FIFO, or EPERM above /proc/sys/fs/pipe-max-size or the user's pipe page quota).
 * Failure is harmless: the default size (64 KiB) still works, the writer only blocks sooner
 * while the reader is busy.
 */
export function growPipe(fd: number, libc: Libc | undefined = tryLoadLibc()): boolean {
  if (libc === undefined) return false;
  return libc.fcntl(fd, F_SETPIPE_SZ, 'int', PIPE_BYTES) >= PIPE_BYTES;
}

function closeAll(fds: readonly number[]): void {
  for (const fd of fds) {
    try {
      closeSync(fd);
    } catch {
      // EBADF cannot happen for fds we opened and close once; nothing else to do.
    }
  }
}
