import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { KeaKnotError } from '../errors.js';
import type { LogEntry } from '../logs/history.js';
import type { ReadyProbe } from '../services/schema.js';
import { runCommand } from './run-command.js';
import { parseHostPort } from '../host-port.js';

export interface ProbeContext {
  readonly service: string;
  readonly env: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /** Aborted when the process ends or the service is stopped first. */
  readonly signal: AbortSignal;
  /** Lets the log probe see each line the service writes; returns an unsubscribe. */
  readonly subscribeLog: (listener: (entry: LogEntry) => void) => () => void;
}

function connects(options: { path: string } | { host: string; port: number }, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(options);
    const done = (ok: boolean) => { clearTimeout(timer); socket.destroy(); resolve(ok); };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** Retries `attempt` every `interval` until it succeeds or `timeout` passes. */
async function poll(probe: ReadyProbe, ctx: ProbeContext, what: string, attempt: (remainingMs: number) => Promise<boolean>): Promise<void> {
  const deadline = performance.now() + probe.timeout;
  for (;;) {
    const remaining = deadline - performance.now();
    if (remaining <= 0) throw notReady(ctx.service, probe, what);
    if (await attempt(remaining)) return;
    ctx.signal.throwIfAborted();
    await sleep(Math.min(probe.interval, Math.max(0, deadline - performance.now())), undefined, { signal: ctx.signal });
  }
}

function notReady(service: string, probe: ReadyProbe, what: string): KeaKnotError {
  return new KeaKnotError('E_READINESS', `${service} was not ready within ${probe.timeout} ms: ${what}; raise ready.timeout or find why the daemon is slow (its log lines are above)`);
}

/** Resolves once the service is ready; rejects with E_READINESS on timeout, or the abort reason. */
export async function waitReady(probe: ReadyProbe, ctx: ProbeContext): Promise<void> {
  if (probe.delay !== undefined) {
    await sleep(probe.delay, undefined, { signal: ctx.signal });
    return;
  }
  if (probe.socket !== undefined) {
    const path = probe.socket;
    return poll(probe, ctx, `unix socket ${path} did not accept a connection`, (remaining) => connects({ path }, Math.min(remaining, 1000)));
  }
  if (probe.tcp !== undefined) {
    const address = parseHostPort(probe.tcp);
    return poll(probe, ctx, `nothing accepted a connection on ${probe.tcp}`, (remaining) => connects(address, Math.min(remaining, 1000)));
  }
  if (probe.command !== undefined) {
    const argv = probe.command;
    return poll(probe, ctx, `${argv.join(' ')} never exited 0`, async (remaining) => {
      const result = await runCommand(argv, { env: ctx.env, cwd: ctx.cwd, timeoutMs: remaining, signal: ctx.signal });
      return result.code === 0;
    });
  }
  const pattern = new RegExp(probe.log ?? '');
  await new Promise<void>((resolve, reject) => {
    const finish = (error?: unknown) => {
      clearTimeout(timer);
      unsubscribe();
      ctx.signal.removeEventListener('abort', onAbort);
      if (error === undefined) resolve(); else reject(error);
    };
    const onAbort = () => finish(ctx.signal.reason);
    const timer = setTimeout(() => finish(notReady(ctx.service, probe, `no line matched /${probe.log}/`)), probe.timeout);
    const unsubscribe = ctx.subscribeLog((entry) => { if (pattern.test(entry.msg)) finish(); });
    ctx.signal.addEventListener('abort', onAbort, { once: true });
  });
}
