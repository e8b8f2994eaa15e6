import type { Logger } from 'pino';
import { ExitCode } from '../errors.js';
import { forceKill } from './process-group.js';
import type { Supervisor } from './supervisor.js';

/**
 * PID 1 gets only the signals it handles (the kernel drops the rest), and an unhandled
 * SIGUSR1 would open Node's inspector; so every signal that matters has a handler.
 */
export function handleSignals(supervisor: Supervisor, logger: Logger, onHangup: () => void): () => void {
  let stopSignals = 0;
  const stop = (signal: NodeJS.Signals) => {
    stopSignals += 1;
    if (stopSignals === 1) {
      void supervisor.shutdown(`received ${signal}`, ExitCode.ok);
      return;
    }
    // A second Ctrl-C or TERM: the person wants it gone now.
    logger.warn(`received ${signal} again: killing every service now`);
    for (const runner of supervisor.runners.values()) {
      if (runner.pid !== null) void forceKill(runner.pid);
    }
  };
  const dumpStatus = () => {
    for (const status of supervisor.status()) logger.info({ status }, `${status.name}: ${status.state}${status.pid ? ` (pid ${status.pid})` : ''}`);
  };
  const handlers: [NodeJS.Signals, () => void][] = [
    ['SIGTERM', () => stop('SIGTERM')],
    ['SIGINT', () => stop('SIGINT')],
    ['SIGQUIT', () => stop('SIGQUIT')],
    ['SIGHUP', onHangup],
    // Both user signals log every service's state: a cheap way to look inside without the API.
    ['SIGUSR1', dumpStatus],
    ['SIGUSR2', dumpStatus],
  ];
  for (const [signal, handler] of handlers) process.on(signal, handler);
  return () => { for (const [signal, handler] of handlers) process.off(signal, handler); };
}
