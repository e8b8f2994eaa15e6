import { readFileSync, readdirSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { Reaper } from './reaper.js';

const GRACE_MS = 5000;
const POLL_MS = 10;

/**
 * At final shutdown, ends the orphans that were reparented to us (a daemon's leftover
 * children): as PID 1 the kernel would SIGKILL them when we exit, so give them a TERM and
 * a short grace first. Returns as soon as none is left.
 */
export async function stopAdopted(reaper: Reaper, logger: Logger): Promise<void> {
  let pids = adoptedChildren(reaper);
  if (pids.length === 0) return;
  logger.info({ pids }, `stopping ${pids.length} leftover process(es) that outlived their service`);
  const signalAll = (signal: NodeJS.Signals) => {
    for (const pid of pids) {
      try { process.kill(pid, signal); } catch { /* already gone */ }
    }
  };
  signalAll('SIGTERM');
  const deadline = performance.now() + GRACE_MS;
  while (pids.length > 0 && performance.now() < deadline) {
    await sleep(POLL_MS);
    pids = adoptedChildren(reaper);
  }
  if (pids.length > 0) {
    logger.warn({ pids }, `killing ${pids.length} leftover process(es) that ignored SIGTERM`);
    signalAll('SIGKILL');
  }
}

/**
 * reaper.adoptedChildren() reads the stat file of every process in /proc (on a host
 * that is hundreds, milliseconds of the stop). When no thread of ours has any child at
 * all, which /proc/self/task/TID/children tells in a dozen small reads, there is nothing
 * to look for. Any child listed (even a zombie, or one Node spawned), or no such files
 * (a kernel without CONFIG_PROC_CHILDREN): the full scan decides.
 */
function adoptedChildren(reaper: Reaper): number[] {
  return hasNoChildren() ? [] : reaper.adoptedChildren();
}

function hasNoChildren(): boolean {
  try {
    // A reparented orphan hangs under whichever of our threads the kernel picked: read all.
    return readdirSync('/proc/self/task').every((tid) => readFileSync(`/proc/self/task/${tid}/children`, 'latin1').trim() === '');
  } catch {
    return false; // a thread that ended while we looked, or no children files: scan
  }
}
