import { PassThrough } from 'node:stream';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { LogHistory, type LogEntry } from '../../../src/logs/history.js';
import type { LogOutput } from '../../../src/logs/output.js';
import { PIPE_BUSY_BYTES_PER_MS, PIPE_MAX_REST_MS, PIPE_READ_BYTES, pipeRestMs, pipeServiceOutput } from '../../../src/logs/service-pipe.js';

function fakeOutput(): { output: LogOutput; batches: { service: string; entries: readonly LogEntry[] }[] } {
  const batches: { service: string; entries: readonly LogEntry[] }[] = [];
  const output = { writeServiceLines: (service: string, entries: readonly LogEntry[]) => batches.push({ service, entries }) } as unknown as LogOutput;
  return { output, batches };
}

describe('pipeServiceOutput', () => {
  it('turns chunks into entries: history, onEntry, one batch per chunk', async () => {
    const stream = new PassThrough();
    const { output, batches } = fakeOutput();
    const history = new LogHistory(10);
    const seen: string[] = [];
    pipeServiceOutput({ service: 'knot', streamName: 'stderr', stream, output, history, onEntry: (e) => seen.push(e.msg) });
    expect(stream.readableFlowing).toBe(true); // never paused

    const text = Buffer.from('2024-05-01T12:00:00+0000 warning: größe 😀\r\nplain line\nerror: no newline at end', 'utf8');
    const cut = text.indexOf(Buffer.from('😀')) + 2; // inside the 4-byte emoji
    stream.write(text.subarray(0, cut));
    stream.write(text.subarray(cut));
    stream.end();
    await once(stream, 'end');
    await new Promise((resolve) => setImmediate(resolve));

    const all = batches.flatMap((b) => b.entries);
    expect(batches.every((b) => b.service === 'knot')).toBe(true);
    expect(all.map(({ stream: s, level, msg }) => ({ s, level, msg }))).toEqual([
      { s: 'stderr', level: 40, msg: '2024-05-01T12:00:00+0000 warning: größe 😀' },
      { s: 'stderr', level: 30, msg: 'plain line' },
      { s: 'stderr', level: 50, msg: 'error: no newline at end' },
    ]);
    expect(history.last()).toEqual(all);
    expect(seen).toEqual(all.map((e) => e.msg));
    expect(all.every((e) => Math.abs(e.time - Date.now()) < 5000)).toBe(true);
  });

  it('stamps one time per chunk and writes one batch per chunk', async () => {
    const stream = new PassThrough();
    const { output, batches } = fakeOutput();
    pipeServiceOutput({ service: 'kea-dhcp4', streamName: 'stdout', stream, output, history: new LogHistory(0) });
    stream.write('a\nb\nc\n');
    stream.write('partial');
    stream.write(' rest\n');
    stream.end();
    await once(stream, 'end');
    expect(batches.map((b) => b.entries.map((e) => e.msg))).toEqual([['a', 'b', 'c'], ['partial rest']]);
    const first = batches[0]?.entries ?? [];
    expect(new Set(first.map((e) => e.time)).size).toBe(1);
  });

  it('flushes the partial last line when the stream fails', async () => {
    const stream = new PassThrough();
    const { output, batches } = fakeOutput();
    pipeServiceOutput({ service: 'knot', streamName: 'stdout', stream, output, history: new LogHistory(5) });
    stream.write('half a line');
    await new Promise((resolve) => setImmediate(resolve));
    const closed = new Promise((resolve) => stream.once('close', resolve));
    stream.destroy(new Error('EIO'));
    await closed;
    expect(batches.flatMap((b) => b.entries.map((e) => e.msg))).toEqual(['half a line']);
  });
});

describe('pipeRestMs', () => {
  const size = PIPE_READ_BYTES;
  it('reads again at once after a full read, then rests 1 ms', () => {
    expect(pipeRestMs(64, size, size)).toBe(0);
    expect(pipeRestMs(0, size - 1, size)).toBe(1);
    expect(pipeRestMs(0, 1, size)).toBe(1);
  });

  it('rests 1 ms while the writer fills 4 KiB or more per millisecond of rest', () => {
    expect(pipeRestMs(1, PIPE_BUSY_BYTES_PER_MS, size)).toBe(1);
    expect(pipeRestMs(8, 8 * PIPE_BUSY_BYTES_PER_MS, size)).toBe(1);
  });

  it('doubles the rest of a slower writer, up to the longest', () => {
    const rests: number[] = [];
    for (let ms = 1; rests.length < 9; ) rests.push((ms = pipeRestMs(ms, 200, size)));
    expect(rests).toEqual([2, 4, 8, 16, 32, 64, PIPE_MAX_REST_MS, PIPE_MAX_REST_MS, PIPE_MAX_REST_MS]);
    // 50 KiB in 100 ms is 0.5 KiB/ms: still a slow writer.
    expect(pipeRestMs(PIPE_MAX_REST_MS, 50 * 1024, size)).toBe(PIPE_MAX_REST_MS);
  });
});
