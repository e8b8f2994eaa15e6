import { isDeepStrictEqual } from 'node:util';
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { ExitCode, KeaKnotError } from '../errors.js';
import type { LogOutput } from '../logs/output.js';
import { startable, stoppable } from '../services/graph.js';
import { enabledDependencies, type ServiceSet } from '../services/load.js';
import type { ServiceSpec } from '../services/schema.js';
import { systemClock, type Clock } from './clock.js';
import { satisfiesDependents } from './lifecycle.js';
import { ServiceRunner, type ReloadOutcome, type ServiceStatus, type StatusWithHa } from './runner.js';

export interface SupervisorOptions {
  readonly output: LogOutput;
  readonly clock?: Clock;
}

export interface Readiness {
  readonly ready: boolean;
  /** One line per service that keeps the whole from being ready. */
  readonly reasons: string[];
}

/**
 * Owns every service runner: starts them in dependency order (independent ones together),
 * stops them in reverse order, ends everything when a critical service fails, and applies
 * a re-read services.d. Emits 'oneshotDone' when a oneshot has run to completion (it may
 * have written files others watch), and 'shutdown' with the exit code at the end.
 */
export class Supervisor extends EventEmitter<{ shutdown: [number]; oneshotDone: [string] }> {
  private readonly runnerMap = new Map<string, ServiceRunner>();
  private deps: Map<string, string[]>;
  private readonly logger: Logger;
  private readonly clock: Clock;
  /** Enabled services not started yet because a dependency is not ready. */
  private readonly waiting = new Set<string>();
  private stopping: Promise<number> | undefined;
  private applying: Promise<unknown> = Promise.resolve();

  constructor(private set: ServiceSet, private readonly options: SupervisorOptions) {
    super();
    this.logger = options.output.logger;
    this.clock = options.clock ?? systemClock;
    this.deps = enabledDependencies(set.services);
    for (const spec of set.services) this.addRunner(spec);
  }

  get runners(): ReadonlyMap<string, ServiceRunner> { return this.runnerMap; }
  get shuttingDown(): boolean { return this.stopping !== undefined; }

  /** Starts every enabled service as soon as its dependencies are ready; nothing once shutting down. */
  start(): void {
    if (this.stopping) return;
    for (const name of this.deps.keys()) this.waiting.add(name);
    const disabled = this.set.services.filter((s) => !s.enabled).map((s) => s.name);
    this.logger.info({ services: [...this.deps.keys()], disabled }, `starting ${this.deps.size} service(s)${disabled.length ? `; disabled: ${disabled.join(', ')}` : ''}`);
    this.startReady();
  }

  status(): ServiceStatus[] {
    return [...this.runnerMap.values()].map((runner) => runner.status());
  }

  /** The runner of a service, or E_NOT_FOUND naming the known ones. */
  runner(name: string): ServiceRunner {
    const runner = this.runnerMap.get(name);
    if (!runner) throw new KeaKnotError('E_NOT_FOUND', `no service is named "${name}" (known: ${[...this.runnerMap.keys()].sort().join(', ')})`);
    return runner;
  }

  /**
   * Ready when every enabled longrun is ready and serves now (its readiness probe, asked
   * again, passes: Kea answers status-get and holds its DHCP port, Knot answers its zones'
   * SOA), every enabled oneshot has finished, and each Kea daemon running HA is in a
   * serving state (load-balancing, partner-down, hot-standby): a server that is waiting or
   * syncing answers no client.
   */
  async readiness(): Promise<Readiness> {
    if (this.stopping) return { ready: false, reasons: ['the supervisor is shutting down'] };
    const runners = [...this.runnerMap.values()].filter((r) => r.spec.enabled);
    const reasons = runners
      .filter((r) => !satisfiesDependents(r.state, r.spec.type))
      .map((r) => `${r.spec.name} is ${r.state}${r.machine.lastError ? `: ${r.machine.lastError}` : ''}`);
    const [serving, withHa] = await Promise.all([Promise.all(runners.map((r) => r.notServing())), this.statusWithHa()]);
    for (const reason of serving) if (reason !== null) reasons.push(reason);
    for (const { name, ha } of withHa) {
      if (ha && !ha.serving) reasons.push(`${name} is not serving DHCP: HA state ${ha.state}`);
    }
    return { ready: reasons.length === 0, reasons };
  }

  /** Every service's status, with the HA view of the Kea daemons that have one (asked concurrently). */
  statusWithHa(): Promise<StatusWithHa[]> {
    return Promise.all([...this.runnerMap.values()].map((runner) => runner.statusWithHa()));
  }

  /** Reloads every enabled service that has a reload method, one outcome (or error) each. */
  async reloadAll(): Promise<(ReloadOutcome | { service: string; ok: false; error: string; code: string })[]> {
    const targets = [...this.runnerMap.values()].filter((r) => r.spec.enabled && r.spec.reload && r.spec.type === 'longrun');
    return Promise.all(targets.map((r) => r.reload().catch((error: KeaKnotError) => ({ service: r.spec.name, ok: false as const, error: error.message, code: error.code }))));
  }

  /**
   * Applies a re-read services.d: added services start, removed ones stop, changed ones
   * restart; unchanged ones are left alone. One application at a time.
   */
  applyServices(next: ServiceSet): Promise<{ added: string[]; removed: string[]; changed: string[] }> {
    const run = this.applying.then(() => {
      // Checked when its turn comes: a shutdown may have begun while it waited.
      if (this.stopping) throw new KeaKnotError('E_STATE', 'the supervisor is shutting down; services.d was not re-read and nothing was started');
      return this.apply(next);
    });
    this.applying = run.catch(() => undefined);
    return run;
  }

  private async apply(next: ServiceSet) {
    const incoming = new Map(next.services.map((spec) => [spec.name, spec]));
    const removed = [...this.runnerMap.keys()].filter((name) => !incoming.has(name));
    const changed = [...incoming.values()].filter((spec) => {
      const current = this.runnerMap.get(spec.name);
      return current !== undefined && !sameSpec(current.spec, spec);
    }).map((spec) => spec.name);
    const added = [...incoming.keys()].filter((name) => !this.runnerMap.has(name));
    this.logger.info({ added, removed, changed }, `services.d re-read: ${added.length} added, ${removed.length} removed, ${changed.length} changed`);
    await Promise.all([...removed, ...changed].map(async (name) => {
      const runner = this.runnerMap.get(name)!;
      this.waiting.delete(name);
      await runner.requestStop();
      runner.removeAllListeners('state');
      this.runnerMap.delete(name);
    }));
    this.set = next;
    this.deps = enabledDependencies(next.services);
    for (const name of [...changed, ...added]) {
      const spec = incoming.get(name)!;
      this.addRunner(spec);
      if (spec.enabled) this.waiting.add(name);
    }
    if (!this.stopping) this.startReady();
    return { added, removed, changed };
  }

  /**
   * Stops every service, dependents before their dependencies, each with its own signal and
   * grace; resolves with the exit code once nothing runs. Calling it again returns the same.
   */
  shutdown(reason: string, exitCode: number = ExitCode.ok): Promise<number> {
    this.stopping ??= this.stopAll(reason, exitCode);
    return this.stopping;
  }

  private async stopAll(reason: string, exitCode: number): Promise<number> {
    this.logger.info({ reason }, `stopping all services: ${reason}`);
    this.waiting.clear();
    await this.applying;
    const active = () => new Set([...this.runnerMap.values()].filter((r) => !isIdle(r)).map((r) => r.spec.name));
    const stopping = new Map<string, Promise<void>>();
    for (let running = active(); running.size > 0; running = active()) {
      for (const name of stoppable(this.deps, running)) {
        if (!stopping.has(name)) stopping.set(name, this.runnerMap.get(name)!.stop());
      }
      // Wait for any one service to finish stopping, then see who may stop next.
      await Promise.race([...running].map((name) => stopping.get(name) ?? this.runnerMap.get(name)!.settled()));
    }
    this.emit('shutdown', exitCode);
    return exitCode;
  }

  private addRunner(spec: ServiceSpec): void {
    const runner: ServiceRunner = new ServiceRunner(spec, {
      output: this.options.output, clock: this.clock,
      otherPids: (): ReadonlySet<number> => new Set([...this.runnerMap.values()].filter((r) => r !== runner).flatMap((r) => (r.pid === null ? [] : [r.pid]))),
    });
    runner.on('state', () => this.onStateChange(runner));
    this.runnerMap.set(spec.name, runner);
  }

  private onStateChange(runner: ServiceRunner): void {
    if (this.stopping) return;
    if (runner.state === 'failed' && runner.spec.critical) {
      void this.shutdown(`critical service ${runner.spec.name} failed: ${runner.machine.lastError ?? 'unknown reason'}`, ExitCode.failure);
      return;
    }
    if (runner.state === 'exited' && runner.spec.type === 'oneshot') this.emit('oneshotDone', runner.spec.name);
    if (runner.state === 'failed') {
      const blocked = [...this.waiting].filter((name) => this.deps.get(name)?.includes(runner.spec.name));
      if (blocked.length > 0) this.logger.error({ blocked }, `${blocked.join(', ')} will not start: ${blocked.length === 1 ? 'it depends' : 'they depend'} on ${runner.spec.name}, which failed`);
    }
    this.startReady();
  }

  private startReady(): void {
    const satisfied = new Set([...this.runnerMap.values()].filter((r) => satisfiesDependents(r.state, r.spec.type)).map((r) => r.spec.name));
    for (const name of startable(this.deps, this.waiting, satisfied)) {
      this.waiting.delete(name);
      this.runnerMap.get(name)!.start();
    }
  }
}

function isIdle(runner: ServiceRunner): boolean {
  return runner.state === 'stopped' || runner.state === 'exited' || runner.state === 'failed';
}

function sameSpec(a: ServiceSpec, b: ServiceSpec): boolean {
  const { file: _a, ...left } = a;
  const { file: _b, ...right } = b;
  return isDeepStrictEqual(left, right);
}
