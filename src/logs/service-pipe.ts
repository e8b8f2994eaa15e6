import { Socket, type OnReadOpts, type SocketConstructorOpts } from 'node:net';
import { StringDecoder } from 'node:string_decoder';
import type { LogEntry, LogHistory } from './history.js';
import { Level, parseServiceLevel } from './levels.js';
import { LineSplitter } from './line-splitter.js';
import type { LogOutput, PlainLines } from './output.js';

interface CommonOptions {
  service: string;
  streamName: 'stdout' | 'stderr';
  output: LogOutput;
  history: LogHistory;
  /** Sees every line (e.g. the "log line matches" readiness probe). */
  onEntry?: (entry: LogEntry) => void;
}

export type ServicePipeOptions = CommonOptions &
  (
    | {
        /** A readable stream (e.g. ChildProcess.stdout of `stdio: 'pipe'`, a socket pair). */
        stream: NodeJS.ReadableStream;
        fd?: undefined;
      }
    | {
        /**
         * The read end of a real pipe (see child-output.ts). It is owned from here on: read
         * with batching until end of file, then closed.
         */
        fd: number;
        stream?: undefined;
      }
  );

/** Bytes asked for by each read of a pipe fd: ~1600 lines of 41 bytes. */
export const PIPE_READ_BYTES = 64 * 1024;
/** A writer that filled this much per millisecond of rest is busy (4 MB/s). */
export const PIPE_BUSY_BYTES_PER_MS = 4 * 1024;
/** The longest rest: the most a log line waits in its pipe. */
export const PIPE_MAX_REST_MS = 100;

/**
 * How long a pipe rests after a read of `nread` bytes into a buffer of `size`, given the
 * rest it took before (`previousMs`, 0 when it had just read a full buffer; start at 1).
 *
 * - A full read: 0, read again in the next turn of the event loop, as more is waiting.
 * - After full reads, or when the writer filled 4 KiB or more per millisecond of the last
 *   rest: 1 ms, so a writer at full speed (~100 MB/s) does not fill the 1 MiB pipe.
 * - Otherwise twice the last rest, up to 100 ms. A DHCP server under load writes a line or
 *   two per lease; each wake-up costs a read and a write of the output whatever it brings,
 *   and at 20 ms the supervisor still used ~6 % of a core at 1500 leases/s (~3 % at 100 ms),
 *   CPU Kea and Knot need on a small machine. A writer that floods after a quiet spell may
 *   wait up to 100 ms once, until its pipe is read.
 */
export function pipeRestMs(previousMs: number, nread: number, size: number): number {
  if (nread >= size) return 0;
  if (previousMs === 0 || nread >= PIPE_BUSY_BYTES_PER_MS * previousMs) return 1;
  return Math.min(previousMs * 2, PIPE_MAX_REST_MS);
}

/**
 * Rests shared by every pipe: one timer per length wakes all the pipes resting that long
 * together, so that they are read in one turn of the event loop and their records leave
 * in one write (the output merges the writes of one turn). A pipe may so rest less than
 * its length, never more.
 */
const resting = new Map<number, { timer: NodeJS.Timeout; wakers: Set<() => void> }>();

function restThenWake(ms: number, wake: () => void): void {
  let rest = resting.get(ms);
  if (rest === undefined) {
    // Not unref'd: while a pipe rests its handle is not reading and would not keep the loop
    // alive on its own, and the rest of the pipe (and its end of file) must still be read.
    const wakers = new Set<() => void>();
    const timer = setTimeout(() => {
      resting.delete(ms);
      for (const w of wakers) w();
    }, ms);
    rest = { timer, wakers };
    resting.set(ms, rest);
  }
  rest.wakers.add(wake);
}

/** Takes `wake` out of every rest (the pipe has ended). */
function cancelRest(wake: () => void): void {
  for (const [ms, rest] of resting) {
    rest.wakers.delete(wake);
    if (rest.wakers.size === 0) {
      clearTimeout(rest.timer);
      resting.delete(ms);
    }
  }
}

/**
 * Turns a service's stdout or stderr into log entries: history, `onEntry`, then one
 * batch per chunk to the output. The input keeps being read whatever the output does: a
 * daemon blocked on a full pipe stops serving, so the output drops lines instead.
 */
export function pipeServiceOutput(options: ServicePipeOptions): void {
  const { service, streamName, output, history, onEntry } = options;
  const splitter = new LineSplitter();

  const emit = (lines: readonly string[], plain?: PlainLines): void => {
    if (lines.length === 0) return;
    const time = Date.now(); // one clock read per chunk
    const entries = new Array<LogEntry>(lines.length);
    for (let i = 0; i < lines.length; i += 1) {
      const msg = lines[i] as string;
      const entry: LogEntry = { time, stream: streamName, level: parseServiceLevel(msg) ?? Level.info, msg };
      entries[i] = entry;
      history.add(entry);
      onEntry?.(entry);
    }
    output.writeServiceLines(service, entries, plain);
  };

  if (options.fd !== undefined) {
    readPipeFd(options.fd, splitter, emit);
    return;
  }

  const { stream } = options;
  let ended = false;
  const end = (): void => {
    if (ended) return;
    ended = true;
    const last = splitter.flush();
    if (last !== undefined) emit([last]);
  };

  stream.setEncoding('utf8'); // decodes multibyte characters cut between chunks
  stream.on('data', (chunk: string) => emit(splitter.push(chunk)));
  stream.on('end', end);
  // A read error ends the stream (and must not become an uncaught exception).
  stream.on('error', end);
}

/**
 * Reads a pipe's read end in batches. A child writing one short line per write() would
 * otherwise wake us for every line or two: each read then costs a full trip through the
 * event loop for a few hundred bytes, and reader and writer take turns. So after a read
 * that did not fill the buffer (the pipe is empty now) the handle stops reading for
 * pipeRestMs() and the writer's next lines collect in the pipe, to be taken by one big
 * read; after a full read, reading goes on at once (in the next turn of the event loop).
 *
 * This does not block the child in practice: it keeps writing while we rest, and the pipe
 * holds 1 MiB (~25k short lines; 64 KiB if it could not be grown), far more than a daemon
 * writes in the rest it is given.
 *
 * With `onread`, socket.pause() really stops the handle reading (readStop) and resume()
 * restarts it; the one buffer is reused for every read, so each chunk is decoded at once.
 */
function readPipeFd(fd: number, splitter: LineSplitter, emit: (lines: readonly string[], plain?: PlainLines) => void): void {
  const decoder = new StringDecoder('utf8'); // multibyte characters cut between reads
  const buffer = Buffer.allocUnsafe(PIPE_READ_BYTES);
  let ended = false;
  let restMs = 1;

  // `onread` is a documented option of new net.Socket([options]); @types/node 20 lists it
  // only for net.connect().
  const socketOptions: SocketConstructorOpts & { onread: OnReadOpts } = {
    fd,
    readable: true,
    writable: false,
    onread: {
      buffer,
      callback: (nread: number): boolean => {
        const chunk = buffer.subarray(0, nread);
        const lines = splitter.push(decoder.write(chunk));
        // Every line after the chunk's first newline is in it whole: the output may copy
        // those bytes (it checks that they match the lines).
        const first = chunk.indexOf(0x0a);
        const last = chunk.lastIndexOf(0x0a);
        emit(lines, first < last ? { from: 1, bytes: chunk.subarray(first + 1, last + 1) } : undefined);
        if (socket.destroyed) return true;
        socket.pause();
        restMs = pipeRestMs(restMs, nread, buffer.length);
        if (restMs > 0) {
          restThenWake(restMs, wake);
        } else {
          // A full read: more is waiting. Read it right after this turn of the event loop,
          // not within it: libuv would otherwise go on reading (up to 32 reads, 2 MiB, ~50k
          // lines) before the output's finished writes are handled, and the output queue
          // would overflow (lines dropped) although the output keeps up.
          setImmediate(wake);
        }
        return true;
      },
    },
  };
  const socket = new Socket(socketOptions);

  const wake = (): void => {
    if (!socket.destroyed) socket.resume();
  };

  const end = (): void => {
    if (ended) return;
    ended = true;
    cancelRest(wake);
    const last = splitter.push(decoder.end()); // an incomplete character becomes U+FFFD
    const tail = splitter.flush();
    if (tail !== undefined) last.push(tail);
    emit(last);
  };

  // End of file once every copy of the write end is closed (the child and anything it left
  // running with our pipe as its output). Then the socket destroys itself (writable: false,
  // no half-open) and closes the fd.
  socket.on('end', end);
  // A read error destroys the socket (and must not become an uncaught exception).
  socket.on('error', end);
  socket.on('close', end);
  // Flowing mode: without it, end of file would not be noticed ('end' needs a reader).
  socket.resume();
}
