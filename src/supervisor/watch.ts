import { watch, type FSWatcher } from 'chokidar';
import type { Logger } from 'pino';
import { KeaKnotError } from '../errors.js';
import type { ServiceRunner } from './runner.js';

const DEBOUNCE_MS = 300;

/**
 * Reloads a service when one of its `watch` files changes: debounced (editors write in
 * bursts) and through runner.reload(), so a bad edit is checked, refused and logged
 * while the running config stays.
 */
export class ConfigWatcher {
  private watchers: FSWatcher[] = [];
  private timers = new Map<string, NodeJS.Timeout>();

  /** `loggerFor` gives the logger that speaks for a service, so its records name it. */
  constructor(private readonly loggerFor: (service: string) => Logger) {}

  /** Watches the files of these runners, replacing whatever was watched before. */
  async watchRunners(runners: Iterable<ServiceRunner>): Promise<void> {
    await this.close();
    for (const runner of runners) {
      if (!runner.spec.enabled || runner.spec.watch.length === 0) continue;
      // atomic: an editor's write-temp-then-rename shows as one change, not unlink + add.
      const watcher = watch([...runner.spec.watch], { ignoreInitial: true, atomic: true });
      watcher.on('all', (event, file) => {
        if (event === 'add' || event === 'change') this.schedule(runner, file);
      });
      watcher.on('error', (error) => this.loggerFor(runner.spec.name).warn({ err: error }, `cannot watch files of ${runner.spec.name}: ${(error as Error).message}`));
      this.watchers.push(watcher);
      await new Promise<void>((resolve) => watcher.once('ready', () => resolve()));
    }
  }

  private schedule(runner: ServiceRunner, file: string): void {
    const name = runner.spec.name;
    clearTimeout(this.timers.get(name));
    this.timers.set(name, setTimeout(() => {
      this.timers.delete(name);
      const log = this.loggerFor(name).child({ watch: file });
      if (runner.state !== 'ready') {
        log.info(`${file} changed; ${name} is ${runner.state}, so it is not reloaded`);
        return;
      }
      log.info(`${file} changed; checking and reloading ${name}`);
      runner.reload().catch((error: unknown) => {
        const details = error instanceof KeaKnotError ? error.details : [];
        log.error({ details }, `${file} changed but ${name} kept its running configuration: ${(error as Error).message}`);
      });
    }, DEBOUNCE_MS));
  }

  async close(): Promise<void> {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    await Promise.all(this.watchers.map((w) => w.close()));
    this.watchers = [];
  }
}
