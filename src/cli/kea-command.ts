import { ExitCode, KeaKnotError } from '../errors.js';
import { keaCommand, waitForUdpPort } from '../kea/control.js';
import { parseFlags } from './usage.js';

export const keaCommandHelp = `Usage: kea-knot kea-command --socket PATH [--verify-port N] COMMAND [JSON-ARGUMENTS]

Sends COMMAND (e.g. config-reload, status-get, ha-heartbeat) to a Kea daemon's unix
control socket, prints the answer's text (or its arguments as JSON) and exits 0 when Kea
answers result 0, 1 otherwise. With --verify-port, after a successful command also waits
up to 3 s for the daemon to hold a UDP socket on that port (67 for DHCPv4, 547 for
DHCPv6), and fails if it does not: a failed reload can close every DHCP socket.
Services use it as their reload command: kea-knot kea-command --socket S config-reload.`;

export async function keaCommandCli(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags('kea-command', args, {
    socket: { type: 'string' },
    'verify-port': { type: 'string' },
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
  if (values['verify-port'] !== undefined) {
    const port = Number(values['verify-port']);
    const status = await keaCommand(values.socket, 'status-get');
    const pid = Number(status.arguments?.pid);
    if (!(await waitForUdpPort(pid, port))) {
      process.stderr.write(`after ${command}, Kea (pid ${pid}) holds no socket on UDP port ${port}: it is not serving DHCP; fix its configuration and restart it\n`);
      return ExitCode.failure;
    }
  }
  process.stdout.write(`${shown}\n`);
  return ExitCode.ok;
}
