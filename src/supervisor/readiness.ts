import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { KeaKnotError } from '../errors.js';
import type { LogEntry } from '../logs/history.js';
import type { ReadyProbe } from '../services/schema.js';
import { describeResult, runCommand } from './run-command.js';
import { parseHostPort } from '../host-port.js';
import { keaNotServing } from '../kea/serving.js';
import { knotNotServing } from '../knot/serving.js';

export interface ProbeContext {
  readonly service: string;
  readonly env: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /** The service's main process (a Kea probe checks that it holds its DHCP port). */
  readonly pid: number;
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

/** Probes that can be asked again at any time (health, after a reload); log and delay cannot. */
export function isRepeatable(probe: ReadyProbe): boolean {
  return probe.log === undefined && probe.delay === undefined;
}

/**
 * One attempt of a repeatable probe: null when it passes, else what is wrong. Used by the
 * start-up poll, by health, and after every reload.
 */
export async function probeOnce(probe: ReadyProbe, ctx: Pick<ProbeContext, 'env' | 'cwd' | 'pid' | 'signal'>, timeoutMs: number): Promise<string | null> {
  if (probe.socket !== undefined) {
    return (await connects({ path: probe.socket }, Math.min(timeoutMs, 1000))) ? null : `unix socket ${probe.socket} did not accept a connection`;
  }
  if (probe.tcp !== undefined) {
    return (await connects(parseHostPort(probe.tcp), Math.min(timeoutMs, 1000))) ? null : `nothing accepted a connection on ${probe.tcp}`;
  }
  if (probe.kea !== undefined) return keaNotServing(probe.kea, ctx.pid, probe.udp_port, Math.min(timeoutMs, 2000));
  if (probe.knot !== undefined) return knotNotServing(probe.knot, ctx.env, Math.min(timeoutMs, 2000));
  if (probe.command !== undefined) {
    const result = await runCommand(probe.command, { env: ctx.env, cwd: ctx.cwd, timeoutMs, signal: ctx.signal });
    return result.code === 0 ? null : `${probe.command.join(' ')} did not exit 0 (${describeResult(probe.command, result)})`;
  }
  throw new KeaKnotError('E_STATE', 'a log or delay probe cannot be asked again');
}

/** Retries probeOnce every `interval` until it passes or `timeoutMs` passes; the last reason on failure. */
export async function pollProbe(probe: ReadyProbe, ctx: Pick<ProbeContext, 'env' | 'cwd' | 'pid' | 'signal'>, timeoutMs: number): Promise<string | null> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const reason = await probeOnce(probe, ctx, Math.max(1, deadline - performance.now()));
    if (reason === null) return null;
    ctx.signal.throwIfAborted();
    const remaining = deadline - performance.now();
    if (remaining <= 0) return reason;
    await sleep(Math.min(probe.interval, remaining), undefined, { signal: ctx.signal });
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
  if (isRepeatable(probe)) {
    const reason = await pollProbe(probe, ctx, probe.timeout);
    if (reason !== null) throw notReady(ctx.service, probe, reason);
    return;
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
