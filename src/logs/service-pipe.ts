import type { LogEntry, LogHistory } from './history.js';
import { Level, parseServiceLevel } from './levels.js';
import { LineSplitter } from './line-splitter.js';
import type { LogOutput } from './output.js';

export interface ServicePipeOptions {
  service: string;
  streamName: 'stdout' | 'stderr';
  stream: NodeJS.ReadableStream;
  output: LogOutput;
  history: LogHistory;
  /** Sees every line (e.g. the "log line matches" readiness probe). */
  onEntry?: (entry: LogEntry) => void;
}

/**
 * Turns a service's stdout or stderr into log entries: history, `onEntry`, then one
 * batch per chunk to the output. The stream keeps flowing whatever the output does: a
 * daemon blocked on a full pipe stops serving, so the output drops lines instead.
 */
export function pipeServiceOutput(options: ServicePipeOptions): void {
  const { service, streamName, stream, output, history, onEntry } = options;
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
