import { Socket, type OnReadOpts, type SocketConstructorOpts } from 'node:net';
import { StringDecoder } from 'node:string_decoder';
import type { LogEntry, LogHistory } from './history.js';
import { Level, parseServiceLevel } from './levels.js';
import { LineSplitter } from './line-splitter.js';
import type { LogOutput } from './output.js';

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
/** How long a pipe fd rests after a read that did not fill the buffer. */
export const PIPE_REST_MS = 1;

/**
 * Turns a service's stdout or stderr into log entries: history, `onEntry`, then one
 * batch per chunk to the output. The input keeps being read whatever the output does: a
 * daemon blocked on a full pipe stops serving, so the output drops lines instead.
 */
export function pipeServiceOutput(options: ServicePipeOptions): void {
  const { service, streamName, output, history, onEntry } = options;
  const splitter = new LineSplitter();

  const emit = (lines: readonly string[]): void => {
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
    output.writeServiceLines(service, entries);
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
 * PIPE_REST_MS and the writer's next lines collect in the pipe, to be taken by one big
 * read; after a full read, reading goes on at once (in the next turn of the event loop).
 *
 * This does not block the child in practice: it keeps writing while we rest, and the pipe
 * holds 1 MiB (~25k short lines; 64 KiB if it could not be grown), far more than any
 * daemon writes in a millisecond. The cost is at most ~PIPE_REST_MS of added latency per
 * line.
 *
 * With `onread`, socket.pause() really stops the handle reading (readStop) and resume()
 * restarts it; the one buffer is reused for every read, so each chunk is decoded at once.
 */
function readPipeFd(fd: number, splitter: LineSplitter, emit: (lines: readonly string[]) => void): void {
  const decoder = new StringDecoder('utf8'); // multibyte characters cut between reads
  const buffer = Buffer.allocUnsafe(PIPE_READ_BYTES);
  let rest: NodeJS.Timeout | undefined;
  let ended = false;

  // `onread` is a documented option of new net.Socket([options]); @types/node 20 lists it
  // only for net.connect().
  const socketOptions: SocketConstructorOpts & { onread: OnReadOpts } = {
    fd,
    readable: true,
    writable: false,
    onread: {
      buffer,
      callback: (nread: number): boolean => {
        emit(splitter.push(decoder.write(buffer.subarray(0, nread))));
        if (socket.destroyed) return true;
        socket.pause();
        if (nread < buffer.length) {
          // One timer, re-armed for every rest. Not unref'd: while the socket rests its
          // handle is not reading and would not keep the loop alive on its own, and the
          // rest of the pipe (and its end of file) must still be read.
          if (rest === undefined) rest = setTimeout(wake, PIPE_REST_MS);
          else rest.refresh();
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
    clearTimeout(rest);
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
