import type { Logger } from 'pino';
import { keaCommand } from './control.js';
import type { KeaTarget } from './targets.js';

/**
 * Kea's counters of received packets it threw away. A parse failure counts in both
 * (`*-receive-drop` is every drop); Kea itself logs the reason only at debug level.
 */
export const DROP_STATISTICS = ['pkt4-parse-failed', 'pkt4-receive-drop', 'pkt6-parse-failed', 'pkt6-receive-drop'] as const;
export type DropStatistic = (typeof DROP_STATISTICS)[number];

/** Between two looks when nobody scrapes: a drop is logged within this time. */
export const DROP_POLL_MS = 30_000;

export interface DropCounts {
  readonly service: string;
  /** The daemon's drop counters (pkt4-* for dhcp4, pkt6-* for dhcp6; none for D2). */
  readonly counts: ReadonlyMap<DropStatistic, number>;
  /** Every statistic of the same statistic-get-all, by Kea's name: its newest value. */
  readonly statistics: ReadonlyMap<string, number>;
}

/** Every statistic of one statistic-get-all, its newest sample (Kea lists them newest first); empty if refused. */
export async function readStatistics(socket: string, timeoutMs = 2000): Promise<Map<string, number>> {
  const answer = await keaCommand(socket, 'statistic-get-all', undefined, timeoutMs);
  const values = new Map<string, number>();
  if (answer.result !== 0) return values;
  for (const [name, samples] of Object.entries((answer.arguments ?? {}) as Record<string, [number, string][] | undefined>)) {
    const value = samples?.[0]?.[0];
    if (typeof value === 'number') values.set(name, value);
  }
  return values;
}

function dropCounts(statistics: ReadonlyMap<string, number>): Map<DropStatistic, number> {
  return new Map(DROP_STATISTICS.flatMap((name) => (statistics.has(name) ? [[name, statistics.get(name)!] as const] : [])));
}

/** One subnet's address use, from Kea's subnet[ID].* statistics. */
export interface SubnetUse {
  readonly subnetId: number;
  readonly total: number;
  readonly assigned: number;
  readonly declined: number;
}

/** What status and /metrics show of one Kea daemon's statistics. */
export interface KeaSummary {
  /** pkt4-received / pkt6-received (DHCP servers only). */
  readonly received: number | null;
  /** pkt4-receive-drop / pkt6-receive-drop. */
  readonly dropped: number | null;
  readonly subnets: readonly SubnetUse[];
  /** kea-dhcp-ddns: updates that timed out or that the DNS server refused (null for the DHCP servers). */
  readonly ddnsFailures: { readonly timeout: number; readonly error: number } | null;
}

/** The summary of one daemon's statistics (pure; the names are Kea's, the same in 2.2 to 3.0). */
export function summarise(statistics: ReadonlyMap<string, number>): KeaSummary {
  const pick = (...names: string[]) => names.map((n) => statistics.get(n)).find((v) => v !== undefined) ?? null;
  const ids = [...statistics.keys()].flatMap((name) => /^subnet\[(\d+)\]\.total-(?:addresses|nas)$/.exec(name)?.[1] ?? []).map(Number).sort((a, b) => a - b);
  const isDdns = statistics.has('update-sent') || statistics.has('ncr-received');
  return {
    received: pick('pkt4-received', 'pkt6-received'),
    dropped: pick('pkt4-receive-drop', 'pkt6-receive-drop'),
    subnets: ids.map((id) => ({
      subnetId: id,
      total: pick(`subnet[${id}].total-addresses`, `subnet[${id}].total-nas`) ?? 0,
      assigned: pick(`subnet[${id}].assigned-addresses`, `subnet[${id}].assigned-nas`) ?? 0,
      declined: pick(`subnet[${id}].declined-addresses`) ?? 0,
    })),
    ddnsFailures: isDdns ? { timeout: statistics.get('update-timeout') ?? 0, error: statistics.get('update-error') ?? 0 } : null,
  };
}

export interface DropWatchOptions {
  /** The Kea daemons to ask now (ready ones with a control socket). */
  readonly targets: () => Iterable<KeaTarget>;
  /** The logger for what is said about one service. */
  readonly logFor: (service: string) => Logger;
  readonly intervalMs?: number;
}

/**
 * Reads the statistics of every Kea daemon, for /metrics and on a timer, and logs a
 * warning naming the daemon whenever a drop counter grew since the last look: a client or a relay
 * sending malformed packets is otherwise invisible. One look at a time; a scrape during
 * a poll shares its answer.
 */
export class DropWatch {
  /** Last counts seen per service, with the pid they belong to (a new daemon starts at 0). */
  private readonly seen = new Map<string, { pid: number; counts: ReadonlyMap<DropStatistic, number> }>();
  private reading: Promise<DropCounts[]> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running = false;

  constructor(private readonly options: DropWatchOptions) {}

  /** Asks every target once (concurrently); a daemon that does not answer is left out. */
  read(): Promise<DropCounts[]> {
    this.reading ??= this.look().finally(() => { this.reading = undefined; });
    return this.reading;
  }

  /** Looks every intervalMs until stop(); the timer never keeps the process alive. */
  start(): void {
    this.running = true;
    this.schedule();
  }

  stop(): void {
    this.running = false;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(): void {
    if (!this.running) return;
    this.timer = setTimeout(() => {
      void this.read().finally(() => this.schedule());
    }, this.options.intervalMs ?? DROP_POLL_MS);
    this.timer.unref();
  }

  private async look(): Promise<DropCounts[]> {
    const targets = [...this.options.targets()];
    const results = await Promise.all(targets.map(async (target): Promise<DropCounts[]> => {
      const statistics = await readStatistics(target.socket).catch(() => undefined);
      if (statistics === undefined) return [];
      const counts = dropCounts(statistics);
      this.compare(target, counts);
      return [{ service: target.service, counts, statistics }];
    }));
    return results.flat();
  }

  private compare(target: KeaTarget, counts: ReadonlyMap<DropStatistic, number>): void {
    const before = this.seen.get(target.service);
    this.seen.set(target.service, { pid: target.pid, counts });
    const grown = dropGrowth(before?.pid === target.pid ? before.counts : new Map(), counts);
    if (grown.size === 0) return;
    const parts = [...grown].map(([name, more]) => `${more} more ${name} (${counts.get(name)} since it started)`);
    this.options.logFor(target.service).warn({ dropped: Object.fromEntries(grown), totals: Object.fromEntries(counts) },
      `${target.service} dropped received packets: ${parts.join(', ')}; a client or relay sends packets Kea cannot use (its debug log says why)`);
  }
}

/**
 * How much each counter grew from `previous` to `current`; only those that grew. A counter
 * lower than before was reset (statistic-reset) and has counted from 0 since. A daemon
 * seen for the first time (or with a new pid) starts from an empty `previous`: Kea's
 * counters start at 0.
 */
export function dropGrowth(previous: ReadonlyMap<DropStatistic, number>, current: ReadonlyMap<DropStatistic, number>): Map<DropStatistic, number> {
  const grown = new Map<DropStatistic, number>();
  for (const [name, value] of current) {
    const before = previous.get(name) ?? 0;
    const more = value < before ? value : value - before;
    if (more > 0) grown.set(name, more);
  }
  return grown;
}
