import { ExitCode } from '../errors.js';
import { createLogOutput } from '../logs/output.js';
import { loadServices } from '../services/load.js';
import { SETTINGS, readSettings } from '../settings.js';
import { startReaper } from '../supervisor/reaper.js';
import { handleSignals } from '../supervisor/signals.js';
import { stopAdopted } from '../supervisor/adopted.js';
import { Supervisor } from '../supervisor/supervisor.js';
import { parseFlags } from './usage.js';

export const superviseHelp = `Usage: kea-knot supervise [--services-dir DIR]

Starts every enabled service of the services directory in dependency order, restarts
them by their policy, and stops them all on SIGTERM, SIGINT or SIGQUIT. Meant to run as
PID 1 of the container; also runs as a normal process.

Options:
  --services-dir DIR   directory of service files (default: $KEA_KNOT_SERVICES_DIR,
                       else ${SETTINGS.KEA_KNOT_SERVICES_DIR.default})
  -h, --help           this text

Environment:
${Object.entries(SETTINGS).map(([name, s]) => `  ${name.padEnd(26)} ${s.help} (default: ${s.default})`).join('\n')}
  Service files may use \${VAR} and \${VAR:-default} from this environment.

Signals:
  TERM, INT, QUIT  stop every service (dependents first), then exit; a second one kills at once
  HUP              logged; services.d is read at start
  USR1, USR2       log the state of every service

Exit codes:
  0   stopped on request
  1   a critical service failed (Docker's restart policy then restarts the container)
  64  bad command line
  78  invalid services.d or settings: each problem is printed as file: field: problem`;

export async function supervise(args: string[]): Promise<number> {
  const { values } = parseFlags('supervise', args, {
    'services-dir': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    process.stdout.write(`${superviseHelp}\n`);
    return ExitCode.ok;
  }
  const settings = readSettings(process.env, values['services-dir'] === undefined ? {} : { servicesDir: values['services-dir'] });
  const output = createLogOutput({ format: settings.logFormat, level: settings.logLevel, maxQueuedBytes: settings.logQueueBytes });
  const logger = output.logger;
  const set = await loadServices(settings.servicesDir);
  const reaper = startReaper({ logger });
  const supervisor = new Supervisor(set, { output });
  const unhandle = handleSignals(supervisor, logger, () => logger.info('SIGHUP received; services.d is read at start (restart the supervisor to apply changes)'));
  process.on('uncaughtException', (error) => {
    logger.fatal({ err: error }, `internal error: ${error.message}; stopping every service`);
    void supervisor.shutdown('internal error', ExitCode.failure);
  });
  logger.info({ pid: process.pid, servicesDir: set.dir, reaper: reaper.active }, `kea-knot supervisor started (pid ${process.pid})`);
  supervisor.start();
  const code = await new Promise<number>((resolve) => supervisor.once('shutdown', resolve));
  await stopAdopted(reaper, logger);
  unhandle();
  reaper.stop();
  logger.info({ exitCode: code }, `all services stopped; exiting with code ${code}`);
  await output.flush(2000);
  return code;
}
