import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { KeaKnotError } from '../errors.js';
import { LogHistory } from '../logs/history.js';
import type { LogOutput } from '../logs/output.js';
import { openChildOutputPipes, type ChildOutputPipes } from '../logs/child-output.js';
import { pipeServiceOutput } from '../logs/service-pipe.js';
import type { ServiceSpec } from '../services/schema.js';
import type { Clock } from './clock.js';
import { describeExit, ServiceMachine, type Effect, type LifecycleEvent, type ServiceState, type ExitRecord } from './lifecycle.js';
import { removeStalePidFile } from './pidfile.js';
import { forceKill, groupAlive, signalGroup } from './process-group.js';
import { waitReady } from './readiness.js';
import { describeResult, runCommand, type CommandResult } from './run-command.js';
import { checkService, serviceEnv } from './check.js';
import { readHaStatus, type HaView } from '../kea/ha-status.js';
import { keaCommand, waitForUdpPort } from '../kea/control.js';

export interface RunnerContext {
  readonly output: LogOutput;
  readonly clock: Clock;
  /** Pids of the other services, so a PID file naming one of them is known to be stale. */
  readonly otherPids: () => ReadonlySet<number>;
}

export interface ReloadOutcome {
  readonly service: string;
  readonly ok: boolean;
  /** How it was reloaded: a signal name or the reload command. */
  readonly method: string;
  readonly durationMs: number;
  /** The reload command's output (empty for a signal). */
  readonly output: string;
  readonly error?: string;
  readonly at: number;
}

/** A status with the HA view of a Kea daemon that has one (null: it runs no HA). */
export type StatusWithHa = ServiceStatus & { ha?: HaView | null };

export interface ServiceStatus {
  readonly name: string;
  readonly type: 'longrun' | 'oneshot';
  readonly enabled: boolean;
  readonly state: ServiceState | 'disabled';
  readonly pid: number | null;
  /** Milliseconds in the current state. */
  readonly forMs: number;
  readonly restarts: number;
  readonly lastExit: ExitRecord | null;
  readonly lastError: string | null;
  readonly lastReload: ReloadOutcome | null;
}

/** One attempt at running the service: what to abort or signal when it must end. */
interface Attempt {
  readonly abort: AbortController;
  child?: ChildProcess;
  /** Set when the runner itself ends the attempt (e.g. not ready in time), to say why. */
  failure?: string;
}

/**
 * Runs one service: performs the effects its state machine asks for and reports what the
 * process does back to it. Emits 'state' after every transition.
 */
export class ServiceRunner extends EventEmitter<{ state: [ServiceState] }> {
  readonly machine: ServiceMachine;
  readonly history: LogHistory;
  private attempt: Attempt | undefined;
  private restartTimer: { cancel(): void } | undefined;
  private killTimer: NodeJS.Timeout | undefined;
  private readonly log: Logger;
  /** Operations (reload, restart, start, stop by request) run one at a time per service. */
  private queue: Promise<unknown> = Promise.resolve();
  private lastReload: ReloadOutcome | undefined;

  constructor(readonly spec: ServiceSpec, private readonly ctx: RunnerContext) {
    super();
    this.machine = new ServiceMachine(spec, ctx.clock);
    this.history = new LogHistory(spec.log_lines);
    this.log = ctx.output.forService(spec.name);
  }

  get state(): ServiceState { return this.machine.state; }
  get pid(): number | null { return this.attempt?.child?.pid ?? null; }

  start(): void { this.dispatch({ type: 'start' }); }

  /** Stops the service; resolves once nothing of it runs any more. */
  stop(): Promise<void> {
    this.dispatch({ type: 'stop' });
    return this.settled();
  }

  /** Resolves when the service is in a state with no process: stopped, exited or failed. */
  settled(): Promise<void> {
    return this.reached(['stopped', 'exited', 'failed']);
  }

  /** Runs the check command, if any; throws E_CHECK_FAILED with the checker's output. */
  check(signal?: AbortSignal): Promise<CommandResult | undefined> {
    return checkService(this.spec, signal);
  }

  status(): ServiceStatus {
    const m = this.machine;
    return {
      name: this.spec.name,
      type: this.spec.type,
      enabled: this.spec.enabled,
      state: this.spec.enabled ? m.state : 'disabled',
      pid: this.pid,
      forMs: Math.round(this.ctx.clock.now() - m.since),
      restarts: m.restarts,
      lastExit: m.lastExit ?? null,
      lastError: m.lastError ?? null,
      lastReload: this.lastReload ?? null,
    };
  }

  /**
   * This Kea daemon's HA view (state, partner) from its control socket; null when it runs
   * no HA, undefined when it is no Kea daemon, not ready, or does not answer.
   */
  async ha(): Promise<HaView | null | undefined> {
    const socket = this.spec.kea_control_socket;
    if (socket === undefined || this.state !== 'ready') return undefined;
    return readHaStatus(socket).catch(() => undefined);
  }

  /** status(), with the HA view when ha() gives one. */
  async statusWithHa(): Promise<StatusWithHa> {
    const ha = await this.ha();
    return ha === undefined ? this.status() : { ...this.status(), ha };
  }

  /** Runs `operation` after every operation queued before it on this service. */
  serialize<T>(operation: () => Promise<T>): Promise<T> {
    const next = this.queue.then(operation, operation);
    this.queue = next.catch(() => undefined);
    return next;
  }

  /**
   * Check first, then the reload method. A failed check leaves the daemon untouched (a Kea
   * reload of a bad file closes its DHCP sockets); a failed reload command is an error.
   */
  reload(): Promise<ReloadOutcome> {
    return this.serialize(async () => {
      const { reload } = this.spec;
      if (!reload) throw new KeaKnotError('E_STATE', `${this.spec.name} has no reload method in ${this.spec.file}; restart it instead`);
      const pid = this.pid;
      if (this.state !== 'ready' || pid === null) throw new KeaKnotError('E_STATE', `${this.spec.name} is ${this.state}, not ready; start or restart it instead of reloading`);
      const started = performance.now();
      const method = reload.signal ?? reload.command?.join(' ') ?? `kea ${reload.kea_command}`;
      const outcome = (ok: boolean, output: string, error?: string): ReloadOutcome => {
        this.lastReload = { service: this.spec.name, ok, method, durationMs: Math.round(performance.now() - started), output, ...(error === undefined ? {} : { error }), at: Date.now() };
        return this.lastReload;
      };
      try {
        await this.check();
      } catch (error) {
        outcome(false, '', reasonOf(error));
        this.log.error({ reload: false }, `${this.spec.name} not reloaded: ${reasonOf(error)}`);
        throw error;
      }
      const result = await this.applyReload(pid);
      if (result.error !== undefined) {
        const message = `reload of ${this.spec.name} failed: ${result.error}`;
        outcome(false, result.output, message);
        this.log.error({ reload: false, output: result.output }, message);
        throw new KeaKnotError('E_RELOAD_FAILED', message, { details: result.output ? result.output.split('\n') : [] });
      }
      this.log.info({ reload: true, method }, `${this.spec.name} reloaded with ${method}`);
      return outcome(true, result.output);
    });
  }

  /** Performs the reload method; `error` says why the daemon did not take it. */
  private async applyReload(pid: number): Promise<{ output: string; error?: string }> {
    const reload = this.spec.reload!;
    if (reload.signal) {
      process.kill(pid, reload.signal);
      return { output: '' };
    }
    if (reload.kea_command !== undefined) {
      // Sent from here, not by a helper process: a Kea reload is ~100 ms quicker this way.
      const answer = await keaCommand(this.spec.kea_control_socket!, reload.kea_command, undefined, reload.timeout).catch((error: Error) => ({ result: -1, text: error.message }));
      if (answer.result !== 0) return { output: answer.text ?? '', error: `Kea refused ${reload.kea_command} (result ${answer.result}): ${answer.text ?? ''}` };
      if (reload.verify_port !== undefined && !(await waitForUdpPort(pid, reload.verify_port))) {
        return { output: answer.text ?? '', error: `after ${reload.kea_command} it holds no socket on UDP port ${reload.verify_port}: it is not serving DHCP; fix its configuration and restart it` };
      }
      return { output: answer.text ?? '' };
    }
    const result = await runCommand(reload.command!, { env: serviceEnv(this.spec), cwd: this.spec.working_dir, timeoutMs: reload.timeout });
    return result.code === 0 ? { output: result.output } : { output: result.output, error: describeResult(reload.command!, result) };
  }

  /** Starts it (if not running) and resolves once it is ready, done, failed or backing off. */
  requestStart(): Promise<ServiceStatus> {
    return this.serialize(async () => {
      this.start();
      await this.reached(['ready', 'exited', 'failed', 'backoff', 'stopped']);
      return this.status();
    });
  }

  requestStop(): Promise<ServiceStatus> {
    return this.serialize(async () => {
      await this.stop();
      return this.status();
    });
  }

  requestRestart(): Promise<ServiceStatus> {
    return this.serialize(async () => {
      await this.stop();
      this.start();
      await this.reached(['ready', 'exited', 'failed', 'backoff', 'stopped']);
      return this.status();
    });
  }

  private reached(states: readonly ServiceState[]): Promise<void> {
    if (states.includes(this.state)) return Promise.resolve();
    return new Promise((resolve) => {
      const onState = (state: ServiceState) => { if (states.includes(state)) { this.off('state', onState); resolve(); } };
      this.on('state', onState);
    });
  }

  private dispatch(event: LifecycleEvent): void {
    const before = this.machine.state;
    const effects = this.machine.dispatch(event);
    const after = this.machine.state;
    if (before !== after || effects.length > 0) {
      this.log.debug({ event: event.type, from: before, to: after }, `${this.spec.name}: ${before} -> ${after}`);
    }
    for (const effect of effects) this.perform(effect);
    if (before !== after || effects.some((effect) => effect.type === 'launch')) this.announce(before, after);
  }

  private announce(before: ServiceState, after: ServiceState): void {
    const m = this.machine;
    if (after === 'failed') this.log.error({ state: after }, `${this.spec.name} failed: ${m.lastError ?? 'unknown reason'}`);
    else if (after === 'backoff') this.log.warn({ state: after, delayMs: m.backoffMs }, `${this.spec.name} ${m.lastError ?? 'ended'}; restarting in ${m.backoffMs} ms`);
    else if (after === 'starting' && (before === 'ready' || before === 'starting')) this.log.warn({ state: after }, `${this.spec.name} ${m.lastError ?? 'ended'}; restarting now`);
    else if (after === 'ready') this.log.info({ state: after, pid: this.pid }, `${this.spec.name} is ready`);
    else if (after === 'exited') this.log.info({ state: after }, `${this.spec.name} finished`);
    else if (after === 'stopped') this.log.info({ state: after }, `${this.spec.name} stopped`);
    this.emit('state', after);
  }

  private perform(effect: Effect): void {
    switch (effect.type) {
      case 'launch':
        this.launch();
        return;
      case 'terminate':
        this.terminate();
        return;
      case 'scheduleRestart':
        this.restartTimer = this.ctx.clock.setTimeout(() => {
          this.restartTimer = undefined;
          this.dispatch({ type: 'backoffElapsed' });
        }, effect.delayMs);
        return;
      case 'cancelRestart':
        this.restartTimer?.cancel();
        this.restartTimer = undefined;
        return;
    }
  }

  private launch(): void {
    const attempt: Attempt = { abort: new AbortController() };
    this.attempt = attempt;
    this.prepare(attempt).then(
      () => {
        if (attempt.abort.signal.aborted) this.endAttempt(attempt, { code: null, signal: null, reason: reasonOf(attempt.abort.signal.reason) });
        else this.spawnMain(attempt);
      },
      (error: unknown) => {
        const reason = attempt.abort.signal.aborted ? attempt.abort.signal.reason : error;
        this.endAttempt(attempt, { code: null, signal: null, reason: reasonOf(reason) });
      },
    );
  }

  /** What must hold before the daemon may start: no stale PID file, a passing check. */
  private async prepare(attempt: Attempt): Promise<void> {
    const { pid_file: pidFile, check } = this.spec;
    if (pidFile) {
      const result = await removeStalePidFile(pidFile, this.spec.command[0]!, this.ctx.otherPids());
      if (result.removed) this.log.info({ pidFile }, `${this.spec.name}: removed stale PID file ${pidFile}: ${result.reason}`);
    }
    if (check) {
      try {
        await this.check(attempt.abort.signal);
      } catch (error) {
        if (error instanceof KeaKnotError && !attempt.abort.signal.aborted) {
          for (const line of error.details) this.log.error({ check: true }, line);
        }
        throw error;
      }
    }
  }

  private spawnMain(attempt: Attempt): void {
    const [program, ...args] = this.spec.command as [string, ...string[]];
    const env = serviceEnv(this.spec);
    const child = this.spawnWithOutput(program, args, env);
    attempt.child = child;
    child.once('error', (error) => {
      // Only reached when the program could not start (ENOENT, EACCES): there is no exit event.
      if (child.pid === undefined) this.endAttempt(attempt, { code: null, signal: null, reason: `cannot run ${program}: ${error.message}; check command in ${this.spec.file}` });
    });
    child.once('exit', (code, signal) => this.endAttempt(attempt, { code, signal }));
    if (child.pid === undefined) return;

    if (this.spec.type === 'oneshot') return; // a oneshot is done when it exits 0
    if (!this.spec.ready) {
      this.dispatch({ type: 'ready' });
      return;
    }
    waitReady(this.spec.ready, {
      service: this.spec.name, env, cwd: this.spec.working_dir, signal: attempt.abort.signal,
      subscribeLog: (listener) => this.history.subscribe(listener),
    }).then(
      () => { if (this.attempt === attempt && !attempt.abort.signal.aborted) this.dispatch({ type: 'ready' }); },
      (error: unknown) => {
        if (attempt.abort.signal.aborted) return;
        attempt.failure = reasonOf(error);
        this.killAttempt(attempt);
      },
    );
  }

  /**
   * Spawns the daemon in its own process group (so stop and kill reach everything it
   * started) with its stdout and stderr going to the service's log: real pipes when libc is
   * reachable through koffi (see logs/child-output.ts), else Node's socket pairs.
   */
  private spawnWithOutput(program: string, args: string[], env: NodeJS.ProcessEnv): ChildProcess {
    const options = { env, cwd: this.spec.working_dir, detached: true } as const;
    const common = { service: this.spec.name, output: this.ctx.output, history: this.history };
    let pipes: ChildOutputPipes | undefined;
    try {
      pipes = openChildOutputPipes();
    } catch (error) {
      this.log.warn({ err: error }, `${this.spec.name}: cannot create pipes for its output (${reasonOf(error)}); using socket pairs`);
    }
    if (pipes === undefined) {
      const child = spawn(program, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
      for (const streamName of ['stdout', 'stderr'] as const) {
        pipeServiceOutput({ ...common, streamName, stream: child[streamName] });
      }
      return child;
    }
    let child: ChildProcess;
    try {
      child = spawn(program, args, { ...options, stdio: pipes.stdio });
    } catch (error) {
      pipes.closeReadEnds();
      throw error;
    } finally {
      pipes.closeWriteEnds(); // the child has its copies; the reader sees EOF when they close
    }
    pipeServiceOutput({ ...common, streamName: 'stdout', fd: pipes.stdout });
    pipeServiceOutput({ ...common, streamName: 'stderr', fd: pipes.stderr });
    return child;
  }

  private endAttempt(attempt: Attempt, exit: { code: number | null; signal: NodeJS.Signals | null; reason?: string }): void {
    if (this.attempt !== attempt) return;
    attempt.abort.abort(new KeaKnotError('E_STATE', `${this.spec.name} ended`));
    const pgid = attempt.child?.pid;
    const reason = exit.reason ?? attempt.failure;
    if (pgid !== undefined && this.state === 'stopping' && groupAlive(pgid)) {
      // The main process is gone but others of its group remain: wait for them (or the kill).
      this.waitGroupGone(pgid, () => this.finish(attempt, { ...exit, reason }));
      return;
    }
    this.finish(attempt, { ...exit, reason });
  }

  private finish(attempt: Attempt, exit: { code: number | null; signal: NodeJS.Signals | null; reason?: string }): void {
    if (this.attempt !== attempt) return;
    this.attempt = undefined;
    clearTimeout(this.killTimer);
    this.killTimer = undefined;
    if (exit.reason === undefined && this.state !== 'stopping' && (exit.code !== 0 || this.spec.type === 'longrun')) {
      this.log.debug({ code: exit.code, signal: exit.signal }, `${this.spec.name} ${describeExit(exit)}`);
    }
    this.dispatch({ type: 'ended', code: exit.code, signal: exit.signal, ...(exit.reason === undefined ? {} : { reason: exit.reason }) });
  }

  private waitGroupGone(pgid: number, done: () => void): void {
    const poll = setInterval(() => {
      if (!groupAlive(pgid)) { clearInterval(poll); done(); }
    }, 10);
  }

  private terminate(): void {
    const attempt = this.attempt;
    if (!attempt) return;
    this.killAttempt(attempt);
  }

  /** The stop signal to the group, then SIGKILL to the tree and group after the grace time. */
  private killAttempt(attempt: Attempt): void {
    const child = attempt.child;
    if (!child || child.pid === undefined) {
      // Still in its check: aborting kills the checker and ends the attempt.
      attempt.abort.abort(new KeaKnotError('E_STATE', `${this.spec.name} was stopped before it started`));
      return;
    }
    const pid = child.pid;
    signalGroup(pid, this.spec.stop_signal);
    clearTimeout(this.killTimer);
    this.killTimer = setTimeout(() => {
      this.log.warn({ graceMs: this.spec.stop_grace }, `${this.spec.name} did not stop within ${this.spec.stop_grace} ms of ${this.spec.stop_signal}; killing it`);
      void forceKill(pid);
    }, this.spec.stop_grace);
  }
}

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
