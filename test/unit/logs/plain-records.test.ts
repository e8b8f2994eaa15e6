import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import type { LogEntry } from '../../../src/logs/history.js';
import { plainRecordsBuffer } from '../../../src/logs/plain-records.js';
import { serviceRecordsBuffer } from '../../../src/logs/records.js';
import { ROOT } from '../../helpers/supervisor-process.js';

const entry = (msg: string, level = 30, time = 1714564800000, stream: 'stdout' | 'stderr' = 'stdout'): LogEntry => ({ msg, level, time, stream });
/** The bytes a pipe would have held for these lines. */
const bytesOf = (entries: readonly LogEntry[]): Uint8Array => Buffer.from(entries.map((e) => `${e.msg}\n`).join(''));

describe('plainRecordsBuffer', () => {
  it('writes the same bytes as serviceRecordsBuffer, with levels, times and streams mixed (8 kinds)', () => {
    const lines = Array.from({ length: 3000 }, (_, i) =>
      entry(`2024-05-01 12:00:00.${i % 1000} INFO  [kea-dhcp4.leases/${i}] DHCP4_LEASE_ALLOC lease 192.0.2.${i % 250} ~!#$%&'()*+,-./:;<=>?@[]^_\`{|}`, [30, 40][i % 3 === 0 ? 1 : 0], 1714564800000 + (i >> 11), i % 7 === 0 ? 'stderr' : 'stdout'));
    lines.push(entry(''));
    const service = JSON.stringify('kea-dhcp4');
    const bytes = plainRecordsBuffer(service, lines, 0, bytesOf(lines));
    expect(bytes?.equals(serviceRecordsBuffer(service, lines))).toBe(true);
  });

  it('builds the records before `from` from their strings, whatever they hold', () => {
    const lines = [entry('größe "quoted"\ttab'), entry('plain one'), entry('plain two', 40)];
    const bytes = plainRecordsBuffer('"knot"', lines, 1, bytesOf(lines.slice(1)));
    expect(bytes?.equals(serviceRecordsBuffer('"knot"', lines))).toBe(true);
  });

  it('gives up on a line JSON escapes or that is not ASCII, and when the bytes do not match the lines', () => {
    for (const odd of ['say "hi"', 'back\\slash', 'tab\there', 'bell\u0007', 'del\u007f', 'façade', 'carriage\r']) {
      const lines = [entry('fine'), entry(odd), entry('fine too')];
      expect(plainRecordsBuffer('"s"', lines, 0, bytesOf(lines)), JSON.stringify(odd)).toBeUndefined();
    }
    const lines = [entry('one'), entry('two'), entry('three')];
    expect(plainRecordsBuffer('"s"', lines, 0, bytesOf(lines.slice(0, 2)))).toBeUndefined(); // a line short
    expect(plainRecordsBuffer('"s"', lines.slice(0, 2), 0, bytesOf(lines))).toBeUndefined(); // a line over
    expect(plainRecordsBuffer('"s"', lines, 0, Buffer.from('one\ntwo\nthree'))).toBeUndefined(); // no last newline
    expect(plainRecordsBuffer('"s"', lines, 3, new Uint8Array(0))).toBeUndefined(); // nothing from `from` on
  });

  it('finds a character to escape wherever it is in a line (it checks eight bytes at a time)', () => {
    for (let at = 0; at < 20; at += 1) {
      const around = (c: string): LogEntry[] => [entry('before'), entry(`${'a'.repeat(at)}${c}${'b'.repeat(at % 9)}`), entry('after')];
      const plain = around('~');
      expect(plainRecordsBuffer('"s"', plain, 0, bytesOf(plain))?.equals(serviceRecordsBuffer('"s"', plain)), `plain, at ${at}`).toBe(true);
      for (const odd of ['"', '\\', '\t', '\u0000', '\u001f', '\u007f', 'é']) {
        const lines = around(odd);
        expect(plainRecordsBuffer('"s"', lines, 0, bytesOf(lines)), `${JSON.stringify(odd)} at ${at}`).toBeUndefined();
      }
    }
  });

  it('gives up past 8 distinct prefixes, and grows its memory for big batches', () => {
    const many = Array.from({ length: 9 }, (_, i) => entry('x', 30, 1714564800000 + i));
    expect(plainRecordsBuffer('"s"', many, 0, bytesOf(many))).toBeUndefined();
    const big = Array.from({ length: 200_000 }, (_, i) => entry(String(i % 10), i % 2 === 0 ? 30 : 40));
    const bytes = plainRecordsBuffer('"a-service-with-a-long-name"', big, 0, bytesOf(big));
    expect(bytes?.equals(serviceRecordsBuffer('"a-service-with-a-long-name"', big))).toBe(true);
  });

  it('runs the plain-records.wasm that plain-records.wat assembles to', () => {
    expect(() => execFileSync(process.execPath, [`${ROOT}/scripts/build-wasm.mjs`, '--check'], { stdio: 'pipe' })).not.toThrow();
  });
});
