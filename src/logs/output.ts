import pino from 'pino';
import { growPipe } from './child-output.js';
import { QueuedDestination } from './destination.js';
import type { LogEntry } from './history.js';
import { plainRecordsBuffer } from './plain-records.js';
import { createPrettifier, type Prettifier } from './pretty.js';
import { SUPERVISOR_SERVICE, droppedRecord, recordJson, serviceRecord, serviceRecordsBuffer } from './records.js';

/** See LogOutput.writeServiceLines. */
export interface PlainLines {
  from: number;
  bytes: Uint8Array;
}

export const DEFAULT_MAX_QUEUED_BYTES = 4 * 1024 * 1024;

export interface LogOutputOptions {
  format: 'json' | 'pretty';
  /** Level of the supervisor's own logger; service lines are passed on whatever their level. */
  level: pino.Level;
  /** Bytes accepted but not yet written above which service lines are dropped. */
  maxQueuedBytes?: number;
  /** Where records go (default 1). The output owns it: close() closes it unless it is 1 or 2. */
  fd?: number;
  /** Grow `fd` to 1 MiB when it is a pipe or FIFO (default on; needs koffi, else ignored). */
  growPipe?: boolean;
  /** ANSI colours in the pretty format (default off). */
  colorize?: boolean;
}

/**
 * The supervisor's stdout: its own records and every service line, one record a line.
 * Writing never blocks. While the reader is slower than the writers, service lines
 * (over `maxQueuedBytes` queued) and then the supervisor's own records (over twice that)
 * are dropped, counted, and reported by a warning once the queue is below half the cap.
 */
export interface LogOutput {
  /** The supervisor's own logger; its records carry `service: "kea-knot"`. */
  readonly logger: pino.Logger;
  /** The supervisor's logger for what it says about one service: `service` is that service's name. */
  forService(service: string): pino.Logger;
  /**
   * One write for the whole batch, or none (counted as dropped) while the queue is full.
   * `plain` may give the bytes the messages of entries[plain.from..] were read as (each
   * line ending in "\n"), so that plain lines are copied rather than encoded again.
   */
  writeServiceLines(service: string, entries: readonly LogEntry[], plain?: PlainLines): void;
  /** Lines dropped since start, by service (the supervisor's own under "kea-knot"). */
  droppedTotals(): ReadonlyMap<string, number>;
  /** Bytes accepted but not yet written. */
  readonly queuedBytes: number;
  /** Resolves once everything accepted is written, or after `timeoutMs` (for exit). */
  flush(timeoutMs: number): Promise<void>;
  /** Stops accepting records; what is queued is still written. */
  close(): void;
}

export function createLogOutput(options: LogOutputOptions): LogOutput {
  const cap = options.maxQueuedBytes ?? DEFAULT_MAX_QUEUED_BYTES;
  if (!(cap > 0)) throw new RangeError(`maxQueuedBytes must be > 0, got ${cap}`);
  const prettify: Prettifier | undefined =
    options.format === 'pretty' ? createPrettifier(options.colorize ?? false) : undefined;

  const totals = new Map<string, number>();
  const unreported = new Map<string, number>(); // dropped since the last warning
  let closed = false;

  const countDropped = (service: string, lines: number): void => {
    totals.set(service, (totals.get(service) ?? 0) + lines);
    unreported.set(service, (unreported.get(service) ?? 0) + lines);
  };

  const fd = options.fd ?? 1;
  // When stdout is a pipe (a container runtime's log FIFO), 1 MiB instead of 64 KiB lets its
  // reader take 16 times more per read: our JSON records are ~3 times the size of the lines
  // they carry, and with a 64 KiB pipe the reader's wake-ups, not we, set the pace.
  if (options.growPipe ?? true) growPipe(fd);
  const destination = new QueuedDestination(fd, () => {
    if (unreported.size === 0 || destination.queuedBytes >= cap / 2) return;
    // Written past the caps: they are small, and the queue has just gone under half.
    const time = Date.now();
    let warnings = '';
    for (const [service, dropped] of unreported) {
      const record = droppedRecord(service, dropped, time);
      warnings += prettify === undefined ? recordJson(record) : prettify(record);
    }
    unreported.clear();
    destination.write(warnings);
  });

  // pino hands each finished record (a JSON line) to this stream.
  const supervisorStream: pino.DestinationStream = {
    write(line: string): void {
      if (closed) return;
      if (destination.queuedBytes > 2 * cap) {
        countDropped(SUPERVISOR_SERVICE, 1);
        return;
      }
      destination.write(prettify === undefined ? line : prettify(JSON.parse(line) as Record<string, unknown>));
    },
  };
  // No base fields: each child names its service once (pino would repeat a duplicate key).
  const root = pino({ level: options.level, base: null }, supervisorStream);
  const logger = root.child({ service: SUPERVISOR_SERVICE });

  const serviceJson = new Map<string, string>(); // JSON.stringify(service), computed once

  return {
    logger,
    forService: (service) => root.child({ service }),
    writeServiceLines(service, entries, plain) {
      if (closed || entries.length === 0) return;
      if (destination.queuedBytes > cap) {
        countDropped(service, entries.length);
        return;
      }
      if (prettify !== undefined) {
        let out = '';
        for (const entry of entries) out += prettify(serviceRecord(service, entry));
        destination.write(out);
        return;
      }
      let quoted = serviceJson.get(service);
      if (quoted === undefined) {
        quoted = JSON.stringify(service);
        serviceJson.set(service, quoted);
      }
      destination.write(
        (plain && plainRecordsBuffer(quoted, entries, plain.from, plain.bytes)) ?? serviceRecordsBuffer(quoted, entries),
      );
    },
    droppedTotals: () => totals,
    get queuedBytes() {
      return destination.queuedBytes;
    },
    flush: (timeoutMs) => destination.waitIdle(timeoutMs),
    close() {
      closed = true;
      destination.close();
    },
  };
}
