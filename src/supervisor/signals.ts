import type { Logger } from 'pino';
import { ExitCode } from '../errors.js';
import type { Supervisor } from './supervisor.js';

/**
 * PID 1 gets only the signals it handles (the kernel drops the rest), and an unhandled
 * SIGUSR1 would open Node's inspector; so every signal that matters has a handler.
 */
export function handleSignals(supervisor: Supervisor, logger: Logger, onHangup: () => void, early?: EarlyStop): () => void {
  let stopSignals = 0;
  const stop = (signal: NodeJS.Signals) => {
    stopSignals += 1;
    if (stopSignals === 1) {
      void supervisor.shutdown(`received ${signal}`, ExitCode.ok);
      return;
    }
    // A second Ctrl-C or TERM: the person wants it gone now.
    logger.warn(`received ${signal} again: killing every service now`);
    for (const runner of supervisor.runners.values()) runner.forceKill();
  };
  const dumpStatus = () => {
    for (const status of supervisor.status()) logger.info({ status }, `${status.name}: ${status.state}${status.pid ? ` (pid ${status.pid})` : ''}`);
  };
  const handlers: [NodeJS.Signals, () => void][] = [
    ...STOP_SIGNALS.map((signal) => [signal, () => stop(signal)] as [NodeJS.Signals, () => void]),
    ['SIGHUP', onHangup],
    // Both user signals log every service's state: a cheap way to look inside without the API.
    ['SIGUSR1', dumpStatus],
    ['SIGUSR2', dumpStatus],
  ];
  for (const [signal, handler] of handlers) process.on(signal, handler);
  // Only now: a signal not yet dispatched when the holders go reaches these handlers (with
  // no listener at all for a moment, libuv would drop it).
  const seen = early?.take();
  if (seen !== undefined) stop(seen);
  return () => { for (const [signal, handler] of handlers) process.off(signal, handler); };
}

const STOP_SIGNALS = ['SIGTERM', 'SIGINT', 'SIGQUIT'] as const;

/**
 * Holds a stop signal that arrives before handleSignals() is installed (while modules load
 * and services.d is read): as PID 1 it would be dropped, and `docker stop` would wait for
 * its timeout.
 */
export interface EarlyStop {
  /** Removes the holders; the stop signal they saw, if any. */
  take(): NodeJS.Signals | undefined;
}

export function holdEarlyStop(): EarlyStop {
  let seen: NodeJS.Signals | undefined;
  const holders = STOP_SIGNALS.map((signal) => [signal, () => { seen ??= signal; }] as const);
  for (const [signal, holder] of holders) process.on(signal, holder);
  return {
    take() {
      for (const [signal, holder] of holders) process.off(signal, holder);
      return seen;
    },
  };
}
