import { readFileSync } from 'node:fs';
import type { LogEntry } from './history.js';
import { copyOut, recordPrefix, serviceRecordsBuffer } from './records.js';

/**
 * Records for a chunk of service output whose lines are still at hand as bytes: the
 * prefixes are built here, and the copying and checking of every byte is done by
 * plain-records.wasm (see the .wat beside it). Lines that are not plain ASCII, or that
 * the line splitter changed (a "\r" taken off, a long line cut), make it give up; the
 * caller then builds the records from the strings.
 */

// @types/node 20 does not describe WebAssembly (a global of Node since 8): the part used here.
declare global {
  namespace WebAssembly {
    class Module {
      constructor(bytes: Uint8Array);
    }
    class Instance {
      constructor(module: Module);
      readonly exports: Record<string, unknown>;
    }
    class Memory {
      readonly buffer: ArrayBuffer;
      grow(pages: number): number;
    }
  }
}

interface Exports {
  memory: WebAssembly.Memory;
  format(input: number, end: number, lines: number, ids: number, table: number, out: number): number;
}

const wasm = new WebAssembly.Instance(
  new WebAssembly.Module(readFileSync(new URL('./plain-records.wasm', import.meta.url))),
).exports as unknown as Exports;

/** Distinct prefixes one call can use (a chunk has one time and one stream: its levels). */
const MAX_PREFIXES = 8;
const TABLE = 0; // MAX_PREFIXES pairs of i32: offset, length
const PREFIXES = TABLE + MAX_PREFIXES * 8;

let heap = new Uint8Array(wasm.memory.buffer);
let words = new Int32Array(wasm.memory.buffer);

function ensureMemory(bytes: number): void {
  const missing = bytes - wasm.memory.buffer.byteLength;
  if (missing > 0) wasm.memory.grow(Math.ceil(missing / 65536));
  if (heap.buffer !== wasm.memory.buffer) {
    heap = new Uint8Array(wasm.memory.buffer);
    words = new Int32Array(wasm.memory.buffer);
  }
}

/**
 * The bytes serviceRecordsBuffer(serviceJson, entries) would give, when the messages of
 * entries[from..] are, in order, the lines in `lines` (each ending in "\n"); undefined
 * when they are not, or a line needs JSON escaping.
 */
export function plainRecordsBuffer(serviceJson: string, entries: readonly LogEntry[], from: number, lines: Uint8Array): Buffer | undefined {
  const n = entries.length - from;
  if (n <= 0) return undefined;

  // One prefix per distinct level, time and stream, in the order they come.
  const prefixes: Buffer[] = [];
  const seen: LogEntry[] = []; // the first entry of each prefix
  const ids = new Uint8Array(n);
  let previous: LogEntry | undefined;
  let id = -1;
  for (let i = 0; i < n; i += 1) {
    const entry = entries[from + i] as LogEntry;
    if (previous === undefined || entry.level !== previous.level || entry.time !== previous.time || entry.stream !== previous.stream) {
      id = seen.findIndex((e) => e.level === entry.level && e.time === entry.time && e.stream === entry.stream);
      if (id === -1) {
        if (seen.length === MAX_PREFIXES) return undefined;
        id = seen.push(entry) - 1;
        prefixes.push(recordPrefix(serviceJson, entry));
      }
      previous = entry;
    }
    ids[i] = id;
  }

  const head = serviceRecordsBuffer(serviceJson, entries.slice(0, from));
  let longest = 0;
  let prefixBytes = 0;
  for (const prefix of prefixes) {
    longest = Math.max(longest, prefix.length);
    prefixBytes += prefix.length;
  }
  const idsAt = PREFIXES + prefixBytes;
  const inputAt = idsAt + n;
  const headAt = inputAt + lines.length;
  const outAt = headAt + head.length;
  ensureMemory(outAt + n * (longest + 3) + lines.length);

  let at = PREFIXES;
  for (let i = 0; i < prefixes.length; i += 1) {
    const prefix = prefixes[i] as Buffer;
    heap.set(prefix, at);
    words[(TABLE >> 2) + 2 * i] = at;
    words[(TABLE >> 2) + 2 * i + 1] = prefix.length;
    at += prefix.length;
  }
  heap.set(ids, idsAt);
  heap.set(lines, inputAt);
  heap.set(head, headAt);
  const end = wasm.format(inputAt, inputAt + lines.length, n, idsAt, TABLE, outAt);
  if (end < 0) return undefined;
  return copyOut(heap, headAt, end); // the memory is reused
}
