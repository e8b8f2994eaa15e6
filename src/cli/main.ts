#!/usr/bin/env node
import { ExitCode, KeaKnotError, exitCodeFor } from '../errors.js';

const HELP = `Usage: kea-knot <command> [options]

Commands:
  supervise                 run the services of services.d (the container's PID 1)
  status                    show every service's state
  reload SERVICE | --all    check, then reload a service (or all that can)
  restart|start|stop SERVICE
  logs SERVICE [-n N] [-f]  a service's recent output
  health                    exit 0 when every service is ready (the HEALTHCHECK)
  check                     validate services.d and run every check, starting nothing
  setup                     write a working Kea + Knot configuration from a few settings
  init                      prepare runtime directories and a first configuration (a oneshot)
  kea-command               send a command to a Kea daemon's control socket
  leases [--search TEXT]    the leases, with their DNS names and which node gave them
  reservations              the fixed addresses; reserve MAC ADDRESS [NAME] | --from-lease ADDRESS;
                            unreserve MAC|ADDRESS
  import dnsmasq|pihole|dhcpd FILE [--dry-run]   reservations from another DHCP server
  dns [add NAME ADDRESS | remove NAME]           static DNS names (forward and reverse)
  dns resync                re-send the DNS updates of every lease (names missed while DNS was down)

Run kea-knot <command> --help for a command's options, environment and exit codes.
Exit codes: 0 ok, 1 failed, 64 bad usage or unknown service, 69 supervisor not
reachable, 78 invalid configuration.`;

const CONTROL = new Set(['status', 'reload', 'restart', 'start', 'stop', 'logs', 'health']);

// Each command loads only its own modules: the client commands stay quick to start.
async function run(command: string, args: string[]): Promise<number> {
  if (command === 'supervise') {
    // Before the supervisor's modules load: as PID 1 a TERM without a handler is dropped.
    const early = (await import('../supervisor/signals.js')).holdEarlyStop();
    return (await import('./supervise.js')).supervise(args, early);
  }
  if (command === 'check') return (await import('./check.js')).check(args);
  if (command === 'setup') return (await import('./setup.js')).setup(args);
  if (command === 'init') return (await import('./init.js')).init(args);
  if (command === 'kea-command') return (await import('./kea-command.js')).keaCommandCli(args);
  if (command === 'dns') return (await import('./dns.js')).dns(args);
  if (command === 'leases') return (await import('./leases.js')).leases(args);
  if (command === 'reservations' || command === 'reserve' || command === 'unreserve') return (await import('./reservations.js')).reservations(command, args);
  if (command === 'import') return (await import('./import.js')).importCommand(args);
  if (CONTROL.has(command)) return (await import('./control.js')).control(command, args);
  throw new KeaKnotError('E_USAGE', `unknown command "${command}"; run kea-knot --help`);
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(`${HELP}\n`);
    return command === undefined ? ExitCode.usage : ExitCode.ok;
  }
  return run(command, rest);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof KeaKnotError) {
      process.stderr.write(`kea-knot: ${error.message}\n${error.details.map((line) => `  ${line}\n`).join('')}`);
      process.exit(exitCodeFor(error));
    }
    process.stderr.write(`kea-knot: internal error: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(ExitCode.failure);
  },
);
