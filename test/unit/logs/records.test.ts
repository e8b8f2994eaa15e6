import { describe, expect, it } from 'vitest';
import type { LogEntry } from '../../../src/logs/history.js';
import { serviceRecordsBuffer, serviceRecordsJson } from '../../../src/logs/records.js';

const entry = (msg: string, level = 30, time = 1714564800000, stream: 'stdout' | 'stderr' = 'stdout'): LogEntry => ({ msg, level, time, stream });

describe('serviceRecordsBuffer', () => {
  it('writes the same bytes as the JSON string, whatever the message holds', () => {
    const entries = [
      entry('plain ascii line'),
      entry(''),
      entry('with "quotes" and \\backslash\\', 40),
      entry('tab\there, bell \u0007, nul \u0000, DEL \u007f', 50, 1714564800001),
      entry('größe façade ü', 20, 1714564800001, 'stderr'),
      entry('emoji 😀 pair', 20),
      entry('lone \ud800 high and \udc00 low'),
      entry('x'.repeat(16 * 1024)),
      entry('€'.repeat(5000), 60),
      entry('ascii up to the last character, then ü'),
      entry('"'),
      entry('~ is the last one copied as it is'),
    ];
    for (const service of ['"knot"', JSON.stringify('dienst-ä')]) {
      const bytes = serviceRecordsBuffer(service, entries);
      expect(bytes.equals(Buffer.from(serviceRecordsJson(service, entries)))).toBe(true);
      for (const line of bytes.toString('utf8').trimEnd().split('\n')) expect(() => JSON.parse(line) as unknown).not.toThrow();
    }
  });

  it('handles batches far larger than its starting buffer, and is not disturbed by reuse', () => {
    const big = Array.from({ length: 20_000 }, (_, i) => entry(`line ${i} ${'é'.repeat(i % 50)}`, i % 3 === 0 ? 40 : 30));
    const first = serviceRecordsBuffer('"a"', big);
    const copy = Buffer.from(first);
    serviceRecordsBuffer('"b"', [entry('overwrite')]);
    expect(first.equals(copy)).toBe(true);
    expect(first.equals(Buffer.from(serviceRecordsJson('"a"', big)))).toBe(true);
    expect(serviceRecordsBuffer('"a"', []).length).toBe(0);
  });
});
