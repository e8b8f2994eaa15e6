import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { KeaKnotError } from '../errors.js';
import { LogHistory } from '../logs/history.js';
import type { LogOutput } from '../logs/output.js';
import { openChildOutputPipes, type ChildOutputPipes } from '../logs/child-output.js';
import { pipeServiceOutput } from '../logs/service-pipe.js';
import type { ServiceSpec } from '../services/schema.js';
import { wallTime, type Clock } from './clock.js';
import { describeExit, ServiceMachine, type Effect, type LifecycleEvent, type ServiceState, type ExitRecord } from './lifecycle.js';
import { removeStalePidFile } from './pidfile.js';
import { fingerprint, unchangedSince, type Fingerprints } from './fingerprint.js';
import { forceKill, groupAlive, signalGroup } from './process-group.js';
import { isRepeatable, pollProbe, probeOnce, waitReady } from './readiness.js';
import { describeResult, runCommand, type CommandResult } from './run-command.js';
import { checkService, serviceEnv } from './check.js';
import { readHaStatus, type HaView } from '../kea/ha-status.js';
import { keaCommand } from '../kea/control.js';

export interface RunnerContext {
  readonly output: LogOutput;
  readonly clock: Clock;
  /** Pids of the other services, so a PID file naming one of them is known to be stale. */
  readonly otherPids: () => ReadonlySet<number>;
}

export interface ReloadOutcome {
  readonly service: string;
  readonly ok: boolean;
  /** What ran last: "check" when the check refused the file, else the reload method (a signal name or the reload command). */
  readonly method: string;
  readonly durationMs: number;
  /** The checker's or the reload command's output, error lines first (empty for a signal). */
  readonly output: string;
  readonly error?: string;
  /** Epoch milliseconds. */
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
  /** When the current state was entered (epoch milliseconds), and how long ago. */
  readonly since: number;
  readonly forMs: number;
  readonly restarts: number;
  /** The last exit; `at` in epoch milliseconds. */
  readonly lastExit: ExitRecord | null;
  /** The newest error: of the last failed start or run, or of a failed reload since. */
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

/** An attempt whose process runs (what a reload works on). */
type LiveAttempt = Attempt & { child: ChildProcess & { pid: number } };

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
  /** The watched files as the running daemon read them: at its start, or its last successful reload. */
  private loaded: Fingerprints | undefined;

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
    const { clock } = this.ctx;
    const since = wallTime(clock, m.since);
    // A reload that failed after the service last changed state is the newer news.
    const reloadError = this.lastReload && !this.lastReload.ok && this.lastReload.at >= since ? this.lastReload.error : undefined;
    return {
      name: this.spec.name,
      type: this.spec.type,
      enabled: this.spec.enabled,
      state: this.spec.enabled ? m.state : 'disabled',
      pid: this.pid,
      since,
      forMs: Math.round(clock.now() - m.since),
      restarts: m.restarts,
      lastExit: m.lastExit ? { ...m.lastExit, at: wallTime(clock, m.lastExit.at) } : null,
      lastError: reloadError ?? m.lastError ?? null,
      lastReload: this.lastReload ?? null,
    };
  }

  /**
   * Why this ready service is not serving right now (its readiness probe asked again), or
   * null. Health uses it: a daemon that runs is not proof that it serves.
   */
  async notServing(timeoutMs = 2000): Promise<string | null> {
    const probe = this.spec.ready;
    const pid = this.pid;
    if (this.state !== 'ready' || pid === null || probe === undefined || !isRepeatable(probe)) return null;
    const reason = await probeOnce(probe, { env: serviceEnv(this.spec), cwd: this.spec.working_dir, pid, signal: AbortSignal.timeout(timeoutMs) }, timeoutMs).catch((error: Error) => error.message);
    return reason === null ? null : `${this.spec.name} is not serving: ${reason}`;
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
   * Check first, then the reload method, then the readiness probe again: a reload is done
   * when the daemon serves. A failed check leaves the daemon untouched. A Kea daemon that
   * took the reload but does not serve (a failed Kea reload closes every DHCP socket) gets
   * its previous configuration back (config-set of what config-get gave before).
   */
  reload(): Promise<ReloadOutcome> {
    return this.serialize(() => this.reloadNow());
  }

  /**
   * reload(), unless `file` (one of `watch`) holds what the daemon runs and its last reload
   * did not fail: a save without changes, the reservations' first change (whose reload ran
   * already). After a failure a fixed file is reloaded, so status shows it took. Null when
   * nothing was done. Decided in the queue, after any reload before it.
   */
  reloadIfChanged(file: string): Promise<ReloadOutcome | null> {
    return this.serialize(async () => ((this.lastReload?.ok ?? true) && (await unchangedSince(this.loaded, file)) ? null : this.reloadNow()));
  }

  private async reloadNow(): Promise<ReloadOutcome> {
    const { reload } = this.spec;
    if (!reload) throw new KeaKnotError('E_STATE', `${this.spec.name} has no reload method in ${this.spec.file}; restart it instead`);
    this.requireEnabled('reloaded');
    this.requireReady('reloading');
    const started = performance.now();
    const outcome = (method: string, ok: boolean, output: string, error?: string): ReloadOutcome => {
      this.lastReload = { service: this.spec.name, ok, method, durationMs: Math.round(performance.now() - started), output, ...(error === undefined ? {} : { error }), at: this.ctx.clock.wall() };
      return this.lastReload;
    };
    // Before the check: a file changed after this is seen by the watcher and reloaded again.
    const reading = await fingerprint(this.spec.watch);
    try {
      await this.check();
    } catch (error) {
      const details = error instanceof KeaKnotError ? error.details : [];
      outcome('check', false, details.join('\n'), reasonOf(error));
      this.log.error({ reload: false, details }, `${this.spec.name} not reloaded: ${reasonOf(error)}`);
      throw error;
    }
    // Read only now: the check may take long, and the daemon may have restarted meanwhile.
    const attempt = this.requireReady('reloading');
    const method = reload.signal ?? reload.command?.join(' ') ?? `kea ${reload.kea_command}`;
    const result = await this.applyReload(attempt);
    if (result.error !== undefined) {
      const message = `reload of ${this.spec.name} failed: ${result.error}`;
      outcome(method, false, result.output, message);
      this.log.error({ reload: false, output: result.output }, message);
      throw new KeaKnotError('E_RELOAD_FAILED', message, { details: result.output ? result.output.split('\n') : [] });
    }
    this.loaded = reading;
    this.log.info({ reload: true, method }, `${this.spec.name} reloaded with ${method}`);
    return outcome(method, true, result.output);
  }

  /** The current attempt, when the service is ready with a running process; else E_STATE. */
  private requireReady(doing: string): LiveAttempt {
    const attempt = this.attempt;
    if (this.state !== 'ready' || attempt?.child?.pid === undefined) {
      throw new KeaKnotError('E_STATE', `${this.spec.name} is ${this.state}, not ready; start or restart it instead of ${doing}`);
    }
    return attempt as LiveAttempt;
  }

  /** Performs the reload method and waits until the daemon serves again; `error` says why it does not. */
  private async applyReload(attempt: LiveAttempt): Promise<{ output: string; error?: string }> {
    const reload = this.spec.reload!;
    const pid = attempt.child.pid;
    if (reload.signal) {
      process.kill(pid, reload.signal);
      return this.servingAfterReload(attempt, '');
    }
    if (reload.kea_command !== undefined) {
      // Sent from here, not by a helper process: a Kea reload is ~100 ms quicker this way.
      const socket = this.spec.kea_control_socket!;
      const before = await keaCommand(socket, 'config-get', undefined, reload.timeout).catch(() => undefined);
      const answer = await keaCommand(socket, reload.kea_command, undefined, reload.timeout).catch((error: Error) => ({ result: -1, text: error.message }));
      const output = answer.text ?? '';
      const failure = answer.result !== 0
        ? `Kea refused ${reload.kea_command} (result ${answer.result}): ${output}`
        : (await this.servingAfterReload(attempt, output)).error;
      if (failure === undefined) return { output };
      return { output, error: `${failure}; ${await this.restoreKea(attempt, before?.arguments)}` };
    }
    const result = await runCommand(reload.command!, { env: serviceEnv(this.spec), cwd: this.spec.working_dir, timeoutMs: reload.timeout });
    if (result.code !== 0) return { output: result.output, error: describeResult(reload.command!, result) };
    return this.servingAfterReload(attempt, result.output);
  }

  /** After a reload: the readiness probe again, for up to ready.timeout (at most 10 s). */
  private async servingAfterReload(attempt: LiveAttempt, output: string): Promise<{ output: string; error?: string }> {
    const probe = this.spec.ready;
    if (probe === undefined || !isRepeatable(probe)) return { output };
    const reason = await pollProbe(probe, { env: serviceEnv(this.spec), cwd: this.spec.working_dir, pid: attempt.child.pid, signal: attempt.abort.signal }, Math.min(probe.timeout, 10_000))
      .catch((error: Error) => error.message);
    return reason === null ? { output } : { output, error: `afterwards it is not serving: ${reason}` };
  }

  /**
   * Gives a Kea daemon whose reload failed the configuration it ran before; if that fails
   * too, restarts it (its check runs first). Says what was done, for the reload's error.
   */
  private async restoreKea(attempt: LiveAttempt, before: Record<string, unknown> | undefined): Promise<string> {
    const socket = this.spec.kea_control_socket!;
    // config-get answers { Dhcp4: {...} } (2.4+ adds a hash): config-set takes the daemon's part only.
    const key = before && Object.keys(before).find((k) => /^(Dhcp4|Dhcp6|DhcpDdns|Control-agent)$/.test(k));
    if (key !== undefined) {
      const answer = await keaCommand(socket, 'config-set', { [key]: before![key] }, this.spec.reload!.timeout).catch((error: Error) => ({ result: -1, text: error.message }));
      if (answer.result === 0 && (await this.servingAfterReload(attempt, '')).error === undefined) {
        this.log.warn({ restored: true }, `${this.spec.name}: the new configuration was not taken; the previous one is running again and it serves`);
        return 'the previous configuration was put back (config-set) and it serves again; fix the file and reload';
      }
    }
    if (this.attempt === attempt) {
      attempt.failure = `restarted: its previous configuration could not be put back after a failed reload`;
      this.log.error(`${this.spec.name}: the previous configuration could not be put back; restarting it`);
      this.killAttempt(attempt);
    }
    return 'the previous configuration could not be put back, so it is being restarted';
  }

  /** Starts it (if not running) and resolves once it is ready, done, failed or backing off. */
  requestStart(): Promise<ServiceStatus> {
    return this.serialize(async () => {
      this.requireEnabled('started');
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
      this.requireEnabled('restarted');
      await this.stop();
      this.start();
      await this.reached(['ready', 'exited', 'failed', 'backoff', 'stopped']);
      return this.status();
    });
  }

  private requireEnabled(doing: string): void {
    if (!this.spec.enabled) {
      // The description says why a service may be off (e.g. no control agent with Kea 3.0).
      const why = this.spec.description ? ` (${this.spec.description})` : '';
      throw new KeaKnotError('E_STATE', `${this.spec.name} is disabled (enabled is false in ${this.spec.file}), so it cannot be ${doing}${why}; enable it there (or through its variable), then kea-knot reread`);
    }
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
    const reading = await fingerprint(this.spec.watch);
    if (this.attempt === attempt) this.loaded = reading; // not an attempt already replaced
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
      service: this.spec.name, env, cwd: this.spec.working_dir, pid: child.pid, signal: attempt.abort.signal,
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
    signalGroup(child.pid, this.spec.stop_signal);
    clearTimeout(this.killTimer);
    this.killTimer = setTimeout(() => {
      this.log.warn({ graceMs: this.spec.stop_grace }, `${this.spec.name} did not stop within ${this.spec.stop_grace} ms of ${this.spec.stop_signal}; killing it`);
      this.forceKill();
    }, this.spec.stop_grace);
  }

  /**
   * SIGKILL to everything of the current attempt. The tree walk only while the main process
   * has not been reaped: once it has, its pid may belong to someone else.
   */
  forceKill(): void {
    const child = this.attempt?.child;
    if (child?.pid === undefined) return;
    const reaped = child.exitCode !== null || child.signalCode !== null;
    void forceKill(child.pid, { tree: !reaped }).then((walked) => {
      if (!walked && !reaped) this.log.warn(`${this.spec.name}: no ps on PATH, so only its process group was killed, not descendants that left it (install procps)`);
    });
  }
}

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
