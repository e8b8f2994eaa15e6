import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { ExitCode } from '../errors.js';
import type { LogOutput } from '../logs/output.js';
import { startable, stoppable } from '../services/graph.js';
import { enabledDependencies, type ServiceSet } from '../services/load.js';
import { systemClock, type Clock } from './clock.js';
import { satisfiesDependents } from './lifecycle.js';
import { ServiceRunner, type ServiceStatus } from './runner.js';

export interface SupervisorOptions {
  readonly output: LogOutput;
  readonly clock?: Clock;
}

/**
 * Owns every service runner: starts them in dependency order (independent ones together),
 * stops them in reverse order, and ends everything when a critical service fails.
 */
export class Supervisor extends EventEmitter<{ shutdown: [number] }> {
  readonly runners: ReadonlyMap<string, ServiceRunner>;
  private readonly deps: Map<string, string[]>;
  private readonly logger: Logger;
  /** Enabled services not started yet because a dependency is not ready. */
  private readonly waiting = new Set<string>();
  private stopping: Promise<number> | undefined;

  constructor(readonly set: ServiceSet, private readonly options: SupervisorOptions) {
    super();
    this.logger = options.output.logger;
    this.deps = enabledDependencies(set.services);
    const clock = options.clock ?? systemClock;
    const runners = new Map<string, ServiceRunner>();
    for (const spec of set.services) {
      const runner: ServiceRunner = new ServiceRunner(spec, {
        output: options.output, logger: this.logger, clock,
        otherPids: (): ReadonlySet<number> => new Set([...runners.values()].filter((r) => r !== runner).flatMap((r) => (r.pid === null ? [] : [r.pid]))),
      });
      runner.on('state', () => this.onStateChange(runner));
      runners.set(spec.name, runner);
    }
    this.runners = runners;
  }

  /** Starts every enabled service as soon as its dependencies are ready. */
  start(): void {
    for (const name of this.deps.keys()) this.waiting.add(name);
    const disabled = this.set.services.filter((s) => !s.enabled).map((s) => s.name);
    this.logger.info({ services: [...this.deps.keys()], disabled }, `starting ${this.deps.size} service(s)${disabled.length ? `; disabled: ${disabled.join(', ')}` : ''}`);
    this.startReady();
  }

  status(): ServiceStatus[] {
    return [...this.runners.values()].map((runner) => runner.status());
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
    const active = () => new Set([...this.runners.values()].filter((r) => !isIdle(r)).map((r) => r.spec.name));
    const stopping = new Map<string, Promise<void>>();
    for (let running = active(); running.size > 0; running = active()) {
      for (const name of stoppable(this.deps, running)) {
        if (!stopping.has(name)) stopping.set(name, this.runners.get(name)!.stop());
      }
      // Wait for any one service to finish stopping, then see who may stop next.
      await Promise.race([...running].map((name) => stopping.get(name) ?? this.runners.get(name)!.settled()));
    }
    this.emit('shutdown', exitCode);
    return exitCode;
  }

  private onStateChange(runner: ServiceRunner): void {
    if (this.stopping) return;
    if (runner.state === 'failed' && runner.spec.critical) {
      void this.shutdown(`critical service ${runner.spec.name} failed: ${runner.machine.lastError ?? 'unknown reason'}`, ExitCode.failure);
      return;
    }
    if (runner.state === 'failed') {
      const blocked = [...this.waiting].filter((name) => this.deps.get(name)?.includes(runner.spec.name));
      if (blocked.length > 0) this.logger.error({ blocked }, `${blocked.join(', ')} will not start: ${blocked.length === 1 ? 'it depends' : 'they depend'} on ${runner.spec.name}, which failed`);
    }
    this.startReady();
  }

  private startReady(): void {
    const satisfied = new Set([...this.runners.values()].filter((r) => satisfiesDependents(r.state, r.spec.type)).map((r) => r.spec.name));
    for (const name of startable(this.deps, this.waiting, satisfied)) {
      this.waiting.delete(name);
      this.runners.get(name)!.start();
    }
  }
}

function isIdle(runner: ServiceRunner): boolean {
  return runner.state === 'stopped' || runner.state === 'exited' || runner.state === 'failed';
}
