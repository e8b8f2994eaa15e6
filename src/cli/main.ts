#!/usr/bin/env node
import { ExitCode, KeaKnotError, exitCodeFor } from '../errors.js';
import { supervise } from './supervise.js';

const HELP = `Usage: kea-knot <command> [options]

Commands:
  supervise   run the services of services.d (the container's PID 1)

Run kea-knot <command> --help for a command's options and environment.`;

const COMMANDS: Record<string, (args: string[]) => Promise<number>> = { supervise };

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(`${HELP}\n`);
    return command === undefined ? ExitCode.usage : ExitCode.ok;
  }
  const run = COMMANDS[command];
  if (!run) throw new KeaKnotError('E_USAGE', `unknown command "${command}"; run kea-knot --help`);
  return run(rest);
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
