import type { FSWatcher } from 'chokidar';
import type { Logger } from 'pino';
import { KeaKnotError } from '../errors.js';
import type { ServiceRunner } from './runner.js';

const DEBOUNCE_MS = 300;

/**
 * Reloads a service when one of its `watch` files changes: debounced (editors write in
 * bursts) and through runner.reloadIfChanged(), so a bad edit is checked, refused and
 * logged while the running config stays, and a file that holds what the daemon runs (an
 * edit undone, a write whose reload was already made) costs no reload. chokidar is
 * loaded only once some service has `watch` entries.
 */
export class ConfigWatcher {
  private watchers: FSWatcher[] = [];
  private timers = new Map<string, NodeJS.Timeout>();
  /** Bumped by close(): a watchRunners() still loading chokidar then adds nothing. */
  private generation = 0;
  private rewatching: Promise<void> = Promise.resolve();

  /** `loggerFor` gives the logger that speaks for a service, so its records name it. */
  constructor(private readonly loggerFor: (service: string) => Logger) {}

  /**
   * Loads chokidar if any of these runners has files to watch. Called before the services
   * start, so that watchRunners() right after the start watches at once, as a static
   * import would: a change made as soon as a service is ready is not missed.
   */
  async load(runners: Iterable<ServiceRunner>): Promise<void> {
    if (watchedRunners(runners).length > 0) await loadChokidar();
  }

  /** Watches the files of these runners, replacing whatever was watched before; one call at a time. */
  watchRunners(runners: Iterable<ServiceRunner>): Promise<void> {
    const list = [...runners];
    const run = this.rewatching.then(() => this.rewatch(list));
    this.rewatching = run.catch(() => undefined);
    return run;
  }

  private async rewatch(runners: ServiceRunner[]): Promise<void> {
    await this.close();
    const generation = this.generation;
    const watched = watchedRunners(runners);
    if (watched.length === 0) return;
    const { watch } = await loadChokidar();
    if (generation !== this.generation) return; // closed (or replaced) while loading
    for (const runner of watched) {
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
      runner.reloadIfChanged(file).then((outcome) => {
        log.info(outcome === null ? `${file} changed, and holds what ${name} runs; not reloaded` : `${file} changed; ${name} checked and reloaded`);
      }, (error: unknown) => {
        const details = error instanceof KeaKnotError ? error.details : [];
        log.error({ details }, `${file} changed but ${name} kept its running configuration: ${(error as Error).message}`);
      });
    }, DEBOUNCE_MS));
  }

  async close(): Promise<void> {
    this.generation += 1;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    await Promise.all(this.watchers.map((w) => w.close()));
    this.watchers = [];
  }
}

function watchedRunners(runners: Iterable<ServiceRunner>): ServiceRunner[] {
  return [...runners].filter((runner) => runner.spec.enabled && runner.spec.watch.length > 0);
}

let chokidar: Promise<typeof import('chokidar')> | undefined;
function loadChokidar(): Promise<typeof import('chokidar')> {
  chokidar ??= import('chokidar');
  return chokidar;
}
