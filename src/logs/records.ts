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
