import { readFile } from 'node:fs/promises';
import { buildApp } from '../api/app.js';
import { listenTcp, listenUnix } from '../api/listen.js';
import { createMetrics } from '../api/metrics.js';
import { reservationContext } from '../api/routes/context.js';
import { ExitCode, KeaKnotError } from '../errors.js';
import { createLogOutput } from '../logs/output.js';
import { loadServices } from '../services/load.js';
import { SETTINGS, readSettings, type Settings } from '../settings.js';
import { stopAdopted } from '../supervisor/adopted.js';
import { startReaper } from '../supervisor/reaper.js';
import { handleSignals, holdEarlyStop, type EarlyStop } from '../supervisor/signals.js';
import { Supervisor } from '../supervisor/supervisor.js';
import { ConfigWatcher } from '../supervisor/watch.js';
import { parseFlags } from './usage.js';

export const superviseHelp = `Usage: kea-knot supervise [--services-dir DIR] [--socket PATH]

Starts every enabled service of the services directory in dependency order, restarts
them by their policy, serves the control API, and stops them all on SIGTERM, SIGINT or
SIGQUIT. Meant to run as PID 1 of the container; also runs as a normal process.

Options:
  --services-dir DIR   directory of service files (default: $KEA_KNOT_SERVICES_DIR,
                       else ${SETTINGS.KEA_KNOT_SERVICES_DIR.default})
  --socket PATH        unix socket of the control API (default: $KEA_KNOT_SOCKET,
                       else ${SETTINGS.KEA_KNOT_SOCKET.default})
  -h, --help           this text

Environment:
${Object.entries(SETTINGS).map(([name, s]) => `  ${name.padEnd(26)} ${s.help}${s.default ? ` (default: ${s.default})` : ''}`).join('\n')}
  Service files may use \${VAR} and \${VAR:-default} from this environment.

Signals:
  TERM, INT, QUIT  stop every service (dependents first), then exit; a second one kills at once
  HUP              re-read services.d: added services start, removed ones stop, changed
                   ones restart; an invalid services.d is refused whole and nothing changes
  USR1, USR2       log the state of every service

Exit codes:
  0   stopped on request
  1   a critical service failed, or the API could not listen (Docker's restart policy
      then restarts the container)
  64  bad command line
  78  invalid services.d or settings: each problem is printed as file: field: problem`;

async function readToken(file: string): Promise<string> {
  const token = (await readFile(file, 'utf8').catch((error: Error) => {
    throw new KeaKnotError('E_CONFIG', `cannot read the API token file ${file}: ${error.message}`);
  })).trim();
  if (token.length < 16) throw new KeaKnotError('E_CONFIG', `the API token in ${file} is shorter than 16 characters; use a long random one (e.g. openssl rand -hex 32)`);
  return token;
}

export async function supervise(args: string[], early: EarlyStop = holdEarlyStop()): Promise<number> {
  const { values } = parseFlags('supervise', args, {
    'services-dir': { type: 'string' },
    socket: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    process.stdout.write(`${superviseHelp}\n`);
    return ExitCode.ok;
  }
  const flags: Partial<Record<keyof Settings, string>> = {};
  if (values['services-dir'] !== undefined) flags.servicesDir = values['services-dir'];
  if (values.socket !== undefined) flags.socket = values.socket;
  const settings = readSettings(process.env, flags);
  const token = settings.apiTokenFile === undefined ? undefined : await readToken(settings.apiTokenFile);
  // The dashboard's modules load only when it is on.
  const webModule = settings.webListen === undefined ? undefined : await import('../web/server.js');
  const web = await webModule?.readWebSettings(settings);
  const set = await loadServices(settings.servicesDir);

  const output = createLogOutput({ format: settings.logFormat, level: settings.logLevel, maxQueuedBytes: settings.logQueueBytes });
  const logger = output.logger;
  const reaper = startReaper({ logger });
  const supervisor = new Supervisor(set, { output });
  const watcher = new ConfigWatcher((service) => output.forService(service));

  /** SIGHUP and POST /v1/reread: an invalid services.d is refused whole. */
  const reread = async () => {
    try {
      const result = await supervisor.applyServices(await loadServices(settings.servicesDir));
      await watcher.watchRunners(supervisor.runners.values());
      return result;
    } catch (error) {
      if (error instanceof KeaKnotError) logger.error({ problems: error.details }, `services.d not applied, the running services stay as they are: ${error.message}`);
      throw error;
    }
  };
  // Listened for before any signal handler exists: a TERM during start-up must not be missed.
  const stopped = new Promise<number>((resolve) => supervisor.once('shutdown', resolve));
  const unhandle = handleSignals(supervisor, logger, () => { reread().catch(() => undefined); }, early);
  process.on('uncaughtException', (error) => {
    logger.fatal({ err: error }, `internal error: ${error.message}; stopping every service`);
    void supervisor.shutdown('internal error', ExitCode.failure);
  });

  const metrics = createMetrics(supervisor, output);
  const apps = [buildApp({ supervisor, metrics, reread })];
  try {
    await listenUnix(apps[0]!, settings.socket, settings.socketGroup);
    if (settings.apiListen !== undefined) {
      apps.push(buildApp({ supervisor, metrics, reread, token }));
      await listenTcp(apps[1]!, settings.apiListen);
    }
    if (web !== undefined) apps.push(await webModule!.startWeb(supervisor, web, [token]));
  } catch (error) {
    logger.fatal({ err: error }, `the control API cannot listen: ${(error as Error).message}`);
    await Promise.all(apps.map((app) => app.close()));
    reaper.stop();
    await output.flush(2000);
    throw error instanceof KeaKnotError ? error : new KeaKnotError('E_IO', `the control API cannot listen: ${(error as Error).message}`);
  }

  logger.info({ pid: process.pid, servicesDir: set.dir, socket: settings.socket, tcp: settings.apiListen ?? null, web: settings.webListen ?? null, reaper: reaper.active }, `kea-knot supervisor started (pid ${process.pid})`);
  // chokidar misses a file whose directory does not exist yet: files init writes on a first
  // start are watched once it has run.
  supervisor.on('oneshotDone', () => {
    if (!supervisor.shuttingDown) void watcher.watchRunners(supervisor.runners.values());
  });
  // A TERM may arrive during any await here; then nothing more is started.
  await watcher.load(supervisor.runners.values());
  // In a pair, reservations given on either node reach the other; idle while kea-dhcp4 runs no HA.
  const dhcp4 = supervisor.runners.get('kea-dhcp4');
  const sync = dhcp4 === undefined || supervisor.shuttingDown ? undefined
    : (await import('../kea/reservation-sync.js')).startReservationSync({ context: () => reservationContext(supervisor), logger });
  dhcp4?.on('state', (state: string) => { if (state === 'ready') sync?.trigger(); });
  supervisor.start();
  if (!supervisor.shuttingDown) await watcher.watchRunners(supervisor.runners.values());
  const code = await stopped;
  // Every service is down: the leftovers, the watchers and the API are independent of each
  // other, so they end together.
  await Promise.all([sync?.stop(), watcher.close(), stopAdopted(reaper, logger), ...apps.map((app) => app.close())]);
  unhandle();
  reaper.stop();
  logger.info({ exitCode: code }, `all services stopped; exiting with code ${code}`);
  // Resolves at once when nothing is queued; else when the last records are written.
  await output.flush(2000);
  return code;
}
