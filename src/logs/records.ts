import type { LogEntry } from './history.js';
import { Level } from './levels.js';

/** The `service` of the supervisor's own records. */
export const SUPERVISOR_SERVICE = 'kea-knot';

/** A record in pino's shape (key order as pino writes it: level, time, bindings, fields, msg). */
export type LogRecord = {
  level: number;
  time: number;
  service: string;
  stream?: 'stdout' | 'stderr';
  dropped?: number;
  msg: string;
};

/**
 * Service lines as pino-format JSON, one record a line, built by hand: pino's
 * per-call cost (~5.5 us) is far above this. `serviceJson` is JSON.stringify(service).
 */
export function serviceRecordsJson(serviceJson: string, entries: readonly LogEntry[]): string {
  let out = '';
  for (const entry of entries) {
    out +=
      '{"level":' + entry.level + ',"time":' + entry.time + ',"service":' + serviceJson +
      ',"stream":"' + entry.stream + '","msg":' + JSON.stringify(entry.msg) + '}\n';
  }
  return out;
}

/** Characters JSON.stringify escapes (lone surrogates included, so any surrogate). */
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;
const QUOTE = 0x22;
const CLOSE = 0x7d;
const NEWLINE = 0x0a;
/** Where records are built before being copied out at their exact size; grows as needed. */
let scratch = Buffer.allocUnsafe(256 * 1024);

/**
 * The same bytes as Buffer.from(serviceRecordsJson(...)), written straight into a buffer:
 * about half the cost, since concatenating ~1600 records into one string and flattening
 * and encoding it dominated the per-line cost. A message with nothing to escape (the usual
 * case) is written as it is between quotes; any other goes through JSON.stringify.
 */
export function serviceRecordsBuffer(serviceJson: string, entries: readonly LogEntry[]): Buffer {
  const n = entries.length;
  const escaped: (string | undefined)[] = new Array<string | undefined>(n);
  let units = 0;
  for (let i = 0; i < n; i += 1) {
    const msg = (entries[i] as LogEntry).msg;
    if (NEEDS_ESCAPE.test(msg)) {
      const json = JSON.stringify(msg);
      escaped[i] = json;
      units += json.length;
    } else {
      units += msg.length + 2;
    }
  }
  // At most 3 bytes per UTF-16 unit; the prefix is ~70 bytes plus the service name.
  const bound = units * 3 + n * (serviceJson.length * 3 + 96);
  if (scratch.length < bound) scratch = Buffer.allocUnsafe(Math.max(bound, scratch.length * 2));
  const buf = scratch;
  let off = 0;
  let level = -1;
  let time = -1;
  let stream = '';
  let prefix = '';
  for (let i = 0; i < n; i += 1) {
    const entry = entries[i] as LogEntry;
    if (entry.level !== level || entry.time !== time || entry.stream !== stream) {
      ({ level, time, stream } = entry);
      prefix = '{"level":' + level + ',"time":' + time + ',"service":' + serviceJson + ',"stream":"' + stream + '","msg":';
    }
    off += buf.write(prefix, off);
    const json = escaped[i];
    if (json === undefined) {
      buf[off++] = QUOTE;
      off += buf.write(entry.msg, off);
      buf[off++] = QUOTE;
    } else {
      off += buf.write(json, off);
    }
    buf[off++] = CLOSE;
    buf[off++] = NEWLINE;
  }
  return Buffer.from(buf.subarray(0, off)); // a copy: the scratch buffer is reused
}

export function serviceRecord(service: string, entry: LogEntry): LogRecord {
  return { level: entry.level, time: entry.time, service, stream: entry.stream, msg: entry.msg };
}

/** The warning written once the queue has room again after lines of `service` were dropped. */
export function droppedRecord(service: string, dropped: number, time: number): LogRecord {
  return {
    level: Level.warn,
    time,
    service,
    dropped,
    msg: `dropped ${dropped} lines of ${service}: stdout was not read fast enough`,
  };
}

export function recordJson(record: LogRecord): string {
  return JSON.stringify(record) + '\n';
}
