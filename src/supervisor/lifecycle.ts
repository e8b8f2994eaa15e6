import type { BackoffPolicy, RestartPolicy } from '../services/schema.js';
import { formatDuration } from '../services/duration.js';
import { restartDelay } from './backoff.js';
import type { Clock } from './clock.js';

/**
 * The state machine of one service. Every transition is in `dispatch`; the runner performs
 * the effects it returns and reports back with events. No processes here, only time.
 *
 *   stopped/exited/failed --start--> starting --ready--> ready
 *   starting/ready --ended--> backoff | starting (immediate restart) | exited | failed
 *   backoff --backoffElapsed--> starting        backoff --stop--> stopped
 *   starting/ready --stop--> stopping --ended--> stopped
 */
export type ServiceState = 'stopped' | 'starting' | 'ready' | 'backoff' | 'stopping' | 'exited' | 'failed';

export type LifecycleEvent =
  | { type: 'start' }
  | { type: 'ready' }
  /** The attempt is over: the process ended, or it never ran (`reason` says why: check failed, spawn failed, not ready in time). */
  | { type: 'ended'; code: number | null; signal: NodeJS.Signals | null; reason?: string }
  | { type: 'backoffElapsed' }
  | { type: 'stop' };

export type Effect =
  /** Run the check, clear a stale PID file, spawn, probe readiness; report `ready` or `ended`. */
  | { type: 'launch' }
  /** Stop signal, grace time, then kill; report `ended`. */
  | { type: 'terminate' }
  | { type: 'scheduleRestart'; delayMs: number }
  | { type: 'cancelRestart' };

export interface LifecyclePolicy {
  readonly type: 'longrun' | 'oneshot';
  readonly restart: RestartPolicy;
  readonly backoff: BackoffPolicy;
}

export interface ExitRecord {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly at: number;
}

export class ServiceMachine {
  state: ServiceState = 'stopped';
  /** Why the service last failed to start or run; cleared when it becomes ready. */
  lastError: string | undefined;
  lastExit: ExitRecord | undefined;
  /** Automatic restarts since the supervisor started. */
  restarts = 0;
  /** When the current state was entered (clock time). */
  since: number;
  /** Delay of the pending restart while in backoff. */
  backoffMs = 0;
  private crashes: number[] = [];
  private quickCrashes = 0;
  private readyAt: number | undefined;

  constructor(
    private readonly policy: LifecyclePolicy,
    private readonly clock: Clock,
    private readonly random: () => number = Math.random,
  ) {
    this.since = clock.now();
  }

  /** Applies one event; returns the effects to perform (none when the event does not apply). */
  dispatch(event: LifecycleEvent): Effect[] {
    switch (event.type) {
      case 'start':
        if (this.state === 'stopped' || this.state === 'exited' || this.state === 'failed') {
          // An explicit start is a fresh chance: forget earlier crashes.
          this.crashes = [];
          this.quickCrashes = 0;
          return this.enter('starting', [{ type: 'launch' }]);
        }
        return [];
      case 'ready':
        if (this.state !== 'starting') return [];
        this.readyAt = this.clock.now();
        this.lastError = undefined;
        return this.enter('ready', []);
      case 'ended':
        return this.ended(event);
      case 'backoffElapsed':
        return this.state === 'backoff' ? this.enter('starting', [{ type: 'launch' }]) : [];
      case 'stop':
        if (this.state === 'backoff') return this.enter('stopped', [{ type: 'cancelRestart' }]);
        if (this.state === 'starting' || this.state === 'ready') return this.enter('stopping', [{ type: 'terminate' }]);
        return [];
    }
  }

  private ended(event: Extract<LifecycleEvent, { type: 'ended' }>): Effect[] {
    const now = this.clock.now();
    if (event.code !== null || event.signal !== null) this.lastExit = { code: event.code, signal: event.signal, at: now };
    if (this.state === 'stopping') return this.enter('stopped', []);
    if (this.state !== 'starting' && this.state !== 'ready') return [];

    const readyFor = this.state === 'ready' && this.readyAt !== undefined ? now - this.readyAt : 0;
    this.readyAt = undefined;
    const clean = event.code === 0 && event.reason === undefined;
    // This run's failure, never an earlier one's (a oneshot is never ready, which clears it).
    if (!clean) this.lastError = event.reason ?? describeExit(event);
    if (clean && this.policy.type === 'oneshot') return this.enter('exited', []);
    const restart = this.policy.restart === 'always' || (this.policy.restart === 'on-failure' && !clean);
    if (!restart) return this.enter(clean ? 'exited' : 'failed', []);

    const { backoff } = this.policy;
    // Ready for reset_after means it had recovered: earlier crashes no longer count.
    const healthy = readyFor >= backoff.reset_after;
    this.crashes = [...(healthy ? [] : this.crashes.filter((at) => now - at < backoff.window)), now];
    if (this.crashes.length >= backoff.max_crashes) {
      this.lastError = `ended ${this.crashes.length} times within ${formatDuration(backoff.window)} (last: ${this.lastError ?? describeExit(event)}); fix the cause, then start it again`;
      return this.enter('failed', []);
    }
    this.quickCrashes = healthy ? 1 : this.quickCrashes + 1;
    this.restarts += 1;
    this.backoffMs = restartDelay(backoff, this.quickCrashes, readyFor, this.random);
    if (this.backoffMs === 0) return this.enter('starting', [{ type: 'launch' }]);
    return this.enter('backoff', [{ type: 'scheduleRestart', delayMs: this.backoffMs }]);
  }

  private enter(state: ServiceState, effects: Effect[]): Effect[] {
    this.state = state;
    this.since = this.clock.now();
    return effects;
  }
}

export function describeExit(exit: { code: number | null; signal: NodeJS.Signals | null }): string {
  if (exit.signal) return `killed by ${exit.signal}`;
  return `exited with code ${exit.code ?? '?'}`;
}

/** Whether a service in this state lets its dependents start. */
export function satisfiesDependents(state: ServiceState, type: 'longrun' | 'oneshot'): boolean {
  return type === 'oneshot' ? state === 'exited' : state === 'ready';
}
