/**
 * Reaps orphans reparented to us (as PID 1, or as a child subreaper otherwise).
 *
 * libuv only waits for the pids it spawned, so orphans (a kea-lfc whose kea-dhcp4 died,
 * children of `docker exec` commands) would stay zombies forever. waitpid(-1) would steal
 * libuv's children and their 'exit' events never fire, so instead each scan lists zombies
 * whose parent is us, skips every pid Node spawned, and waits for each remaining pid by
 * number. Scans run after SIGCHLD and on a periodic sweep (a missed or coalesced signal).
 */
import type { Logger } from 'pino';
import { listPids, ownChildPids, readProcStat } from './proc.js';
import { isSpawnedByNode, trackSpawnedChildren } from './spawned.js';
import { loadLibc, PR_SET_CHILD_SUBREAPER, WNOHANG, type Libc } from './libc.js';

export interface Reaper {
  /** Reaps the zombies left, then stops. */
  stop(): void;
  /** Orphans reaped so far. */
  readonly reaped: number;
  /** False when orphans cannot be reaped here (no FFI), or after stop(). */
  readonly active: boolean;
  /** Live orphans adopted by us (not spawned by Node): to TERM/KILL at final shutdown. */
  adoptedChildren(): number[];
}

export interface ReaperOptions {
  logger: Logger;
  /** Period of the safety sweep; default 30 s. */
  sweepIntervalMs?: number;
}

export function startReaper(options: ReaperOptions): Reaper {
  const { logger } = options;
  trackSpawnedChildren();

  let libc: Libc;
  try {
    libc = loadLibc();
  } catch (err) {
    logger.warn(
      { err },
      'orphan reaper disabled: cannot load libc through koffi (optional dependency missing or not built for this platform); orphaned processes will stay zombies',
    );
    return inactiveReaper();
  }

  if (process.pid !== 1) {
    const ulong = 'unsigned long';
    if (libc.prctl(PR_SET_CHILD_SUBREAPER, ulong, 1, ulong, 0, ulong, 0, ulong, 0) !== 0) {
      logger.warn({ errno: libc.errno() }, 'prctl(PR_SET_CHILD_SUBREAPER) failed: orphans of our children go to PID 1, not to us');
    }
  }

  let reaped = 0;
  let active = true;
  let scheduled = false;
  let failing = false;

  const reapZombies = (): void => {
    const status: [number] = [0];
    for (const stat of ourChildren()) {
      if (stat.state !== 'Z') continue;
      const got = libc.waitpid(stat.pid, status, WNOHANG);
      if (got === stat.pid) {
        reaped++;
        logger.debug({ pid: stat.pid, comm: stat.comm, ...describeStatus(status[0]) }, 'reaped orphan');
      }
      // got 0 or -1 (ECHILD): not ours after all or already gone; nothing to do.
    }
  };

  const sweep = (): void => {
    scheduled = false;
    if (!active) return;
    // A throw here would be an uncaught exception in PID 1: log it (once per failing
    // streak, the sweep repeats every few seconds) and try again next time.
    try {
      reapZombies();
      failing = false;
    } catch (err) {
      if (!failing) logger.warn({ err }, 'orphan scan of /proc failed; will retry');
      failing = true;
    }
  };

  // A burst of SIGCHLDs needs only one scan.
  const onSigchld = (): void => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(sweep);
  };

  process.on('SIGCHLD', onSigchld);
  // A safety net only: SIGCHLD does the work, so the idle supervisor wakes rarely.
  const timer = setInterval(sweep, options.sweepIntervalMs ?? 30_000);
  timer.unref();
  sweep();

  return {
    stop() {
      // A last scan: a zombie left now would pass to our own parent (or, as PID 1, vanish
      // with the namespace) instead of being reaped by the process that adopted it.
      sweep();
      active = false;
      process.off('SIGCHLD', onSigchld);
      clearInterval(timer);
    },
    get reaped() {
      return reaped;
    },
    get active() {
      return active;
    },
    adoptedChildren,
  };
}

/** Processes whose parent is us and that Node did not spawn. */
function* ourChildren() {
  const self = process.pid;
  for (const pid of ownChildPids() ?? listPids()) {
    const stat = readProcStat(pid);
    if (stat !== null && stat.ppid === self && !isSpawnedByNode(pid)) yield stat;
  }
}

function adoptedChildren(): number[] {
  const pids: number[] = [];
  for (const stat of ourChildren()) {
    if (stat.state !== 'Z' && stat.state !== 'X') pids.push(stat.pid);
  }
  return pids;
}

function describeStatus(status: number): { code: number } | { signal: number } {
  const signal = status & 0x7f;
  return signal === 0 ? { code: (status >> 8) & 0xff } : { signal };
}

function inactiveReaper(): Reaper {
  return { stop() {}, reaped: 0, active: false, adoptedChildren };
}
