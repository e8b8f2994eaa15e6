import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { tryLoadLibc } from '../../../src/supervisor/libc.js';

// backpressure.test.ts with the service's output on a real pipe read in batches
// (child-output.ts + pipeServiceOutput({ fd })), the way the runner reads it with koffi.
const run = promisify(execFile);
const root = resolve(import.meta.dirname, '../../..');
const dist = join(root, 'dist/logs');
const MiB = 1024 * 1024;

const HARNESS = `
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
const [moduleDir] = process.argv.slice(2);
const load = (name) => import(pathToFileURL(join(moduleDir, name)).href);
const { createLogOutput } = await load('output.js');
const { LogHistory } = await load('history.js');
const { pipeServiceOutput } = await load('service-pipe.js');
const { openChildOutputPipes } = await load('child-output.js');
const output = createLogOutput({ format: 'json', level: 'info' });
const dropped = () => Object.fromEntries(output.droppedTotals());
const pipes = openChildOutputPipes();
let spew;
try { spew = spawn('yes', ['2024-05-01T12:00:00+0000 info: spewing'], { stdio: pipes.stdio }); } finally { pipes.closeWriteEnds(); }
pipeServiceOutput({ service: 'spew', streamName: 'stdout', fd: pipes.stdout, output, history: new LogHistory(1000) });
pipeServiceOutput({ service: 'spew', streamName: 'stderr', fd: pipes.stderr, output, history: new LogHistory(1000) });
const exited = new Promise((resolve) => spew.once('exit', resolve));
process.on('message', async (message) => {
  if (message === 'ping') {
    output.logger.info('ping');
    process.send({ pong: true, queuedBytes: output.queuedBytes, dropped: dropped() });
  } else if (message === 'stop') {
    spew.kill();
    await exited;
    await new Promise((resolve) => setTimeout(resolve, 20)); // the pipe's last reads
    await output.flush(10_000);
    process.send({ stopped: true, dropped: dropped() }, () => { output.close(); process.disconnect(); });
  }
});
process.send({ ready: true });
`;

interface Message { ready?: boolean; pong?: boolean; stopped?: boolean; queuedBytes?: number; dropped?: Record<string, number> }

function nextMessage(child: ChildProcess, accept: (m: Message) => boolean, timeoutMs: number): Promise<Message> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { child.off('message', onMessage); reject(new Error(`no answer within ${timeoutMs} ms`)); }, timeoutMs);
    const onMessage = (m: Message): void => {
      if (!accept(m)) return;
      clearTimeout(timer);
      child.off('message', onMessage);
      resolve(m);
    };
    child.on('message', onMessage);
  });
}

const rssBytes = (pid: number): number => Number(/^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) * 1024;

let child: ChildProcess | undefined;
let dir: string;
afterEach(() => { if (child?.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); });
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(tryLoadLibc() === undefined)('log output from a real pipe when nobody reads stdout', () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kk-pipe-bp-'));
    writeFileSync(join(dir, 'harness.mjs'), HARNESS);
    // Fresh JavaScript for dist/ (type errors are tsc --noEmit's business).
    await run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', root]).catch(() => undefined);
  }, 60_000);

  it('keeps memory bounded and the event loop alive, drops lines and reports them once read', async () => {
    const proc = spawn(process.execPath, [join(dir, 'harness.mjs'), dist], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
    child = proc;
    proc.stdout.pause();
    await nextMessage(proc, (m) => m.ready === true, 10_000);

    let maxRss = 0;
    let maxPingMs = 0;
    let last: Message = {};
    const until = Date.now() + 2500;
    while (Date.now() < until) {
      await sleep(200);
      maxRss = Math.max(maxRss, rssBytes(proc.pid as number));
      const sent = Date.now();
      const pong = nextMessage(proc, (m) => m.pong === true, 5000);
      proc.send('ping');
      last = await pong;
      maxPingMs = Math.max(maxPingMs, Date.now() - sent);
    }
    expect(maxRss).toBeLessThan(150 * MiB);
    expect(maxPingMs).toBeLessThan(1000);
    expect(last.queuedBytes).toBeGreaterThan(4 * MiB);
    expect(last.queuedBytes).toBeLessThanOrEqual(8 * MiB + 256 * 1024);
    expect(last.dropped?.spew).toBeGreaterThan(0);

    let warning: Record<string, unknown> | undefined;
    let tail = '';
    proc.stdout.setEncoding('utf8');
    proc.stdout.on('data', (chunk: string) => {
      const lines = (tail + chunk).split('\n');
      tail = lines.pop() ?? '';
      for (const line of lines) if (warning === undefined && line.includes('"dropped":')) warning = JSON.parse(line) as Record<string, unknown>;
    });
    proc.stdout.resume();
    const stopped = nextMessage(proc, (m) => m.stopped === true, 15_000);
    proc.send('stop');
    const final = await stopped;
    await once(proc, 'exit');
    await sleep(50);
    expect(warning).toMatchObject({ level: 40, service: 'spew', dropped: expect.any(Number) });
    expect(warning?.dropped as number).toBeLessThanOrEqual(final.dropped?.spew ?? 0);
    console.info(`pipe backpressure: max RSS ${(maxRss / MiB).toFixed(1)} MiB, slowest ping ${maxPingMs} ms, spew lines dropped ${final.dropped?.spew}`);
  }, 30_000);
});
