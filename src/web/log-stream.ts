import { PassThrough } from 'node:stream';
import type { LogEntry, LogHistory } from '../logs/history.js';

/** What one browser may have waiting for it; past this its lines are dropped and counted. */
export const STREAM_BUFFER_BYTES = 64 * 1024;

/**
 * Server-sent events of a service's new lines (EventSource reconnects by itself). Like the
 * API's `logs -f`, a client that stops reading costs at most STREAM_BUFFER_BYTES: its lines
 * are dropped, and once it has read the rest one line says how many it missed. `redact`
 * takes the secrets out of each line.
 */
export function logEvents(history: LogHistory, redact: (text: string) => string): { stream: PassThrough; close: () => void } {
  const stream = new PassThrough({ highWaterMark: STREAM_BUFFER_BYTES });
  let skipped = 0;
  const event = (entry: LogEntry) => `event: line\ndata: ${JSON.stringify({ ...entry, msg: redact(entry.msg) })}\n\n`;
  // A comment first: the browser sees the stream open before the first line.
  stream.write(': following\n\n');
  stream.on('drain', () => {
    if (skipped === 0) return;
    stream.write(event({ time: Date.now(), stream: 'stderr', level: 40, msg: `kea-knot: ${skipped} lines skipped: this browser read too slowly` }));
    skipped = 0;
  });
  const unsubscribe = history.subscribe((entry) => {
    if (stream.writableNeedDrain) skipped += 1;
    else stream.write(event(entry));
  });
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    unsubscribe();
    stream.end();
  };
  return { stream, close };
}
