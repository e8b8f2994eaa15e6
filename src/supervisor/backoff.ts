import type { BackoffPolicy } from '../services/schema.js';

/**
 * Delay before restarting a service that just ended, as a pure function.
 * `attempt` counts quick crashes in a row (1 for the first); a service that had been ready
 * for at least `reset_after` comes back at once, since one crash after a long healthy run
 * is not a loop.
 */
export function restartDelay(policy: BackoffPolicy, attempt: number, readyForMs: number, random: () => number): number {
  if (readyForMs >= policy.reset_after) return 0;
  const base = Math.min(policy.max, policy.initial * policy.factor ** Math.max(0, attempt - 1));
  // Spread restarts (+/- jitter) so services that crashed together do not restart in lock-step.
  const spread = 1 + policy.jitter * (2 * random() - 1);
  return Math.round(Math.min(policy.max, base * spread));
}
