import { ExitCode, KeaKnotError } from '../errors.js';
import { keaCommand } from '../kea/control.js';
import { parseFlags } from './usage.js';

export const keaCommandHelp = `Usage: kea-knot kea-command --socket PATH COMMAND [JSON-ARGUMENTS]

Sends COMMAND (e.g. config-reload, status-get, ha-heartbeat) to a Kea daemon's unix
control socket, prints the answer's text (or its arguments as JSON) and exits 0 when Kea
answers result 0, 1 otherwise. (Services reload Kea with \`reload: {kea_command: ...}\`,
which the supervisor sends itself and follows with the DHCP port check.)`;

export async function keaCommandCli(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags('kea-command', args, {
    socket: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  }, true);
  if (values.help) {
    process.stdout.write(`${keaCommandHelp}\n`);
    return ExitCode.ok;
  }
  const [command, json] = positionals;
  if (!values.socket || !command || positionals.length > 2) throw new KeaKnotError('E_USAGE', 'kea-command needs --socket PATH and one COMMAND; see kea-knot kea-command --help');
  let commandArgs: Record<string, unknown> | undefined;
  if (json !== undefined) {
    try { commandArgs = JSON.parse(json) as Record<string, unknown>; } catch {
      throw new KeaKnotError('E_USAGE', `the arguments of ${command} must be a JSON object, got: ${json}`);
    }
  }
  const answer = await keaCommand(values.socket, command, commandArgs);
  const shown = answer.arguments ? JSON.stringify(answer.arguments) : answer.text ?? '';
  if (answer.result !== 0) {
    process.stderr.write(`Kea refused ${command} (result ${answer.result}): ${answer.text ?? ''}\n`);
    return ExitCode.failure;
  }
  process.stdout.write(`${shown}\n`);
  return ExitCode.ok;
}
