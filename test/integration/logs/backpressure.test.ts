import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { tryLoadLibc } from '../../../src/supervisor/libc.js';

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '../../..');
const dist = join(root, 'dist/logs');
const harness = join(root, 'test/fixtures/log-output-harness.mjs');
const modules = ['output', 'destination', 'records', 'pretty', 'levels', 'history', 'line-splitter', 'service-pipe', 'child-output'];
const MiB = 1024 * 1024;

interface Message {
  ready?: boolean;
  pong?: boolean;
  stopped?: boolean;
  signal?: string;
  queuedBytes?: number;
  dropped?: Record<string, number>;
}

function rssBytes(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(match?.[1]) * 1024;
}

function nextMessage(child: ChildProcess, accept: (m: Message) => boolean, timeoutMs: number): Promise<Message> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.off('message', onMessage);
      reject(new Error(`no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    const onMessage = (m: Message): void => {
      if (!accept(m)) return;
      clearTimeout(timer);
      child.off('message', onMessage);
      resolve(m);
    };
    child.on('message', onMessage);
  });
}

let child: ChildProcess | undefined;
afterEach(() => {
  if (child?.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

describe('log output when nobody reads stdout', () => {
  beforeAll(async () => {
    const started = Date.now();
    // Type errors are `tsc --noEmit`'s business (and other modules may be mid-edit): tsc
    // emits JavaScript regardless, and this only needs fresh JavaScript.
    await run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', root]).catch(() => undefined);
    for (const m of modules) expect(statSync(join(dist, `${m}.js`)).mtimeMs).toBeGreaterThanOrEqual(started - 1000);
  }, 60_000);

  // stream: Node's own stdio pipe; pipe: real pipes read by fd, as the runner does with koffi.
  // The queue may overshoot the cap by one batch: a read of a real pipe is up to 64 KiB of lines.
  it.each([
    { mode: 'stream', overshoot: 64 * 1024 },
    { mode: 'pipe', overshoot: 256 * 1024 },
  ])('$mode: keeps memory bounded and the event loop alive, drops lines and reports them once read', async ({ mode, overshoot }) => {
    if (mode === 'pipe' && tryLoadLibc() === undefined) return; // no koffi: the runner uses the stream path
    // stdout is a pipe this test does not read until the end (Node buffers one read's worth).
    const proc = spawn(process.execPath, [harness, dist, mode], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
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
    const signalled = nextMessage(proc, (m) => m.signal === 'SIGUSR2', 5000);
    proc.kill('SIGUSR2');
    await signalled;

    expect(maxRss).toBeLessThan(150 * MiB);
    expect(maxPingMs).toBeLessThan(1000);
    expect(last.queuedBytes).toBeGreaterThan(4 * MiB); // the reader really is blocked...
    expect(last.queuedBytes).toBeLessThanOrEqual(8 * MiB + overshoot); // ...and the queue capped
    expect(last.dropped?.spew).toBeGreaterThan(0);

    // Start reading: the dropped-lines warning must come through.
    let warning: Record<string, unknown> | undefined;
    let tail = '';
    proc.stdout.setEncoding('utf8');
    proc.stdout.on('data', (chunk: string) => {
      const lines = (tail + chunk).split('\n');
      tail = lines.pop() ?? '';
      for (const line of lines) {
        if (warning === undefined && line.includes('"dropped":')) warning = JSON.parse(line) as Record<string, unknown>;
      }
    });
    proc.stdout.resume();
    const stopped = nextMessage(proc, (m) => m.stopped === true, 15_000);
    proc.send('stop');
    const final = await stopped;
    await once(proc, 'exit');
    await sleep(50); // the last stdout data

    expect(warning).toMatchObject({ level: 40, service: 'spew', dropped: expect.any(Number) });
    const reported = warning?.dropped as number;
    expect(reported).toBeGreaterThan(0);
    expect(warning?.msg).toBe(`dropped ${reported} lines of spew: stdout was not read fast enough`);
    expect(reported).toBeLessThanOrEqual(final.dropped?.spew ?? 0);
    console.info(`backpressure (${mode}): max RSS ${(maxRss / MiB).toFixed(1)} MiB, slowest ping ${maxPingMs} ms, spew lines dropped ${final.dropped?.spew}`);
  }, 30_000);
});
