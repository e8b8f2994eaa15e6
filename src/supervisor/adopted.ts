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
  let pids = reaper.adoptedChildren();
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
    pids = reaper.adoptedChildren();
  }
  if (pids.length > 0) {
    logger.warn({ pids }, `killing ${pids.length} leftover process(es) that ignored SIGTERM`);
    signalAll('SIGKILL');
  }
}
