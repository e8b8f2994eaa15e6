import { execFileSync } from 'node:child_process';
import { constants, closeSync, mkdtempSync, openSync, readFileSync, readSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LogEntry } from '../../../src/logs/history.js';
import { createLogOutput, type LogOutputOptions } from '../../../src/logs/output.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kea-knot-logs-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const entry = (msg: string, stream: LogEntry['stream'] = 'stdout', level = 30): LogEntry => ({ time: 1714564800123, stream, level, msg });

/** Runs `use` against an output writing to a file, and returns what was written. */
async function written(options: Omit<LogOutputOptions, 'fd'>, use: (output: ReturnType<typeof createLogOutput>) => void): Promise<string> {
  const file = join(dir, 'out');
  const output = createLogOutput({ ...options, fd: openSync(file, 'w') });
  use(output);
  await output.flush(5000);
  expect(output.queuedBytes).toBe(0);
  output.close();
  return readFileSync(file, 'utf8');
}

const records = (text: string): Record<string, unknown>[] =>
  text.split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as Record<string, unknown>);

describe('LogOutput, JSON format', () => {
  it('writes each service line as one pino-shaped record', async () => {
    const text = await written({ format: 'json', level: 'info' }, (output) => {
      output.writeServiceLines('knot', [entry('zone loaded', 'stderr', 30), entry('bad zone', 'stdout', 50)]);
      output.writeServiceLines('kea-dhcp4', [entry('started')]);
    });
    const lines = text.split('\n');
    expect(lines.at(-1)).toBe('');
    expect(records(text)).toEqual([
      { level: 30, time: 1714564800123, service: 'knot', stream: 'stderr', msg: 'zone loaded' },
      { level: 50, time: 1714564800123, service: 'knot', stream: 'stdout', msg: 'bad zone' },
      { level: 30, time: 1714564800123, service: 'kea-dhcp4', stream: 'stdout', msg: 'started' },
    ]);
    expect(lines[0]).toBe('{"level":30,"time":1714564800123,"service":"knot","stream":"stderr","msg":"zone loaded"}');
  });

  it('keeps quotes, backslashes, control characters and unicode intact', async () => {
    const tricky = [
      'say "hi" \\ back\\slash',
      'tab\there, bell\u0007, nul\u0000, escape \u001b[31mred\u001b[0m',
      'größe 😀 日本語 \u2028\u2029',
      'lone surrogate \ud800 end',
      '{"looks":"like json"}',
      '',
    ];
    const text = await written({ format: 'json', level: 'info' }, (output) => {
      output.writeServiceLines('we"ird\\name', tricky.map((msg) => entry(msg)));
    });
    expect(text.split('\n')).toHaveLength(tricky.length + 1); // no raw newline inside a record
    const parsed = records(text);
    expect(parsed.map((r) => r.msg)).toEqual(tricky);
    expect(parsed.every((r) => r.service === 'we"ird\\name')).toBe(true);
  });

  it("writes the supervisor's own records with service kea-knot in the same shape", async () => {
    const text = await written({ format: 'json', level: 'info' }, (output) => {
      output.logger.info('supervisor started');
      output.logger.debug('not at level info');
      output.logger.warn({ attempt: 2 }, 'knot restarting');
      output.writeServiceLines('knot', [entry('line')]);
    });
    const parsed = records(text);
    expect(parsed.map((r) => Object.keys(r))).toEqual([
      ['level', 'time', 'service', 'msg'],
      ['level', 'time', 'service', 'attempt', 'msg'],
      ['level', 'time', 'service', 'stream', 'msg'],
    ]);
    expect(parsed[0]).toMatchObject({ level: 30, service: 'kea-knot', msg: 'supervisor started' });
    expect(parsed[1]).toMatchObject({ level: 40, service: 'kea-knot', attempt: 2, msg: 'knot restarting' });
    expect(Math.abs((parsed[0]?.time as number) - Date.now())).toBeLessThan(60_000);
  });

  it('writes nothing for an empty batch and nothing after close', async () => {
    const file = join(dir, 'out');
    const output = createLogOutput({ format: 'json', level: 'info', fd: openSync(file, 'w') });
    output.writeServiceLines('knot', []);
    output.writeServiceLines('knot', [entry('kept')]);
    await output.flush(5000);
    output.close();
    output.writeServiceLines('knot', [entry('after close')]);
    output.logger.info('after close');
    await sleep(20);
    expect(records(readFileSync(file, 'utf8')).map((r) => r.msg)).toEqual(['kept']);
  });
});

describe('LogOutput, pretty format', () => {
  const stamp = String.raw`\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} [+-]\d{4}\]`;

  it('renders service lines and own records as readable lines, without colour by default', async () => {
    const text = await written({ format: 'pretty', level: 'info' }, (output) => {
      output.logger.info('supervisor started');
      output.writeServiceLines('knot', [entry('zone loaded', 'stderr'), entry('zone broken', 'stdout', 50)]);
    });
    const lines = text.split('\n').filter((l) => l !== '');
    expect(lines[0]).toMatch(new RegExp(`^${stamp} INFO \\(kea-knot\\): supervisor started$`));
    expect(lines[1]).toMatch(new RegExp(`^${stamp} INFO \\(knot/stderr\\): zone loaded$`));
    expect(lines[2]).toMatch(new RegExp(`^${stamp} ERROR \\(knot/stdout\\): zone broken$`));
    expect(text).not.toContain('\u001b[');
  });

  it('shows extra fields and colours when asked', async () => {
    const text = await written({ format: 'pretty', level: 'info', colorize: true }, (output) => {
      output.logger.warn({ attempt: 2 }, 'knot restarting');
    });
    expect(text).toContain('\u001b[');
    expect(text).toContain('knot restarting');
    expect(text.replace(/\u001b\[\d+m/g, '')).toMatch(/^ {4}attempt: 2$/m);
  });
});

describe('LogOutput, when stdout is not read', () => {
  it('drops and counts lines over the cap, then reports them once the reader catches up', async () => {
    // A FIFO whose reader does nothing until told: the writes block in the thread pool.
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const readFd = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    const cap = 64 * 1024;
    // growPipe: false keeps the FIFO at 64 KiB, so that a few hundred KiB block the writes.
    const output = createLogOutput({ format: 'json', level: 'info', fd: openSync(fifo, 'w'), maxQueuedBytes: cap, growPipe: false });

    const batch = Array.from({ length: 100 }, (_, i) => entry(`line ${i} ${'x'.repeat(80)}`));
    for (let i = 0; i < 20; i += 1) output.writeServiceLines('knot', batch);
    for (let i = 0; i < 1000; i += 1) output.logger.info({ i }, 'own record');
    const knotDropped = output.droppedTotals().get('knot') ?? 0;
    const ownDropped = output.droppedTotals().get('kea-knot') ?? 0;
    expect(knotDropped).toBeGreaterThan(0);
    expect(knotDropped % 100).toBe(0); // whole batches
    expect(ownDropped).toBeGreaterThan(0);
    // Own records were still accepted past the service cap, up to twice the cap.
    expect(output.queuedBytes).toBeGreaterThan(cap);
    expect(output.queuedBytes).toBeLessThanOrEqual(2 * cap + 200);

    // flush gives up after its timeout while nobody reads.
    const started = Date.now();
    await output.flush(100);
    expect(Date.now() - started).toBeGreaterThanOrEqual(90);
    expect(output.queuedBytes).toBeGreaterThan(0);

    // Now read everything.
    let text = '';
    const buffer = Buffer.alloc(1 << 16);
    let reading = true;
    const reader = (async () => {
      while (reading) {
        try {
          for (let n; (n = readSync(readFd, buffer)) > 0; ) text += buffer.toString('utf8', 0, n);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
        }
        await sleep(2);
      }
    })();
    await output.flush(5000);
    expect(output.queuedBytes).toBe(0);
    await sleep(20);
    reading = false;
    await reader;
    output.close();
    closeSync(readFd);

    const parsed = records(text);
    const knotLines = parsed.filter((r) => r.service === 'knot' && r.stream === 'stdout');
    const ownLines = parsed.filter((r) => r.service === 'kea-knot' && r.msg === 'own record');
    // Nothing is lost silently.
    expect(knotLines.length + knotDropped).toBe(2000);
    expect(ownLines.length + ownDropped).toBe(1000);
    expect(parsed.filter((r) => r.dropped !== undefined)).toEqual([
      { level: 40, time: expect.any(Number), service: 'knot', dropped: knotDropped, msg: `dropped ${knotDropped} lines of knot: stdout was not read fast enough` },
      { level: 40, time: expect.any(Number), service: 'kea-knot', dropped: ownDropped, msg: `dropped ${ownDropped} lines of kea-knot: stdout was not read fast enough` },
    ]);
    expect(output.droppedTotals()).toEqual(new Map([['knot', knotDropped], ['kea-knot', ownDropped]]));
  });
});
