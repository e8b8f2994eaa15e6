import { DEFAULT_SOCKET, callApi, errorText, streamApi } from '../client/api-client.js';
import { socketFrom } from '../client/socket.js';
import { ExitCode, KeaKnotError } from '../errors.js';
import type { KeaSummary } from '../kea/statistics.js';
import type { LogEntry } from '../logs/history.js';
import { formatDuration } from '../services/duration.js';
import type { ServiceStatus, StatusWithHa } from '../supervisor/runner.js';
import { failure, reloadService } from './api-command.js';
import { parseFlags } from './usage.js';

const SOCKET_HELP = `  --socket PATH   the supervisor's API socket (default: $KEA_KNOT_SOCKET, else ${DEFAULT_SOCKET})`;

export const controlHelp: Record<string, string> = {
  status: `Usage: kea-knot status [--json] [--socket PATH]\n\nShows every service: state, pid, time in state, restarts, last exit and last error;\nthen, for each Kea daemon, pool use, packets received and dropped, failed DNS updates.\nExit 0; 69 when the supervisor cannot be reached.\n\n${SOCKET_HELP}\n  --json          one JSON document for scripts`,
  reload: `Usage: kea-knot reload SERVICE | --all [--json] [--socket PATH]\n\nRuns the service's check, then its reload method. A failed check leaves the daemon\nuntouched and prints the checker's output. Exit 0 reloaded, 1 check or reload failed,\n64 unknown service, 69 supervisor unreachable.\n\n${SOCKET_HELP}`,
  restart: `Usage: kea-knot restart SERVICE [--json] [--socket PATH]\n\nStops the service and starts it again (its check runs first). Exit 0 when it is ready again.\n\n${SOCKET_HELP}`,
  start: `Usage: kea-knot start SERVICE [--json] [--socket PATH]\n\nStarts a stopped or failed service. Exit 0 when it is ready (or, for a oneshot, done).\n\n${SOCKET_HELP}`,
  stop: `Usage: kea-knot stop SERVICE [--json] [--socket PATH]\n\nStops the service; it stays stopped until started again.\n\n${SOCKET_HELP}`,
  logs: `Usage: kea-knot logs SERVICE [-n N] [-f] [--json] [--socket PATH]\n\nPrints the last N lines (default 100) the service wrote; -f keeps following.\n\n${SOCKET_HELP}`,
  health: `Usage: kea-knot health [--socket PATH]\n\nExit 0 when every enabled service is ready, 1 otherwise with the reasons on stderr.\nThis is the container's HEALTHCHECK.\n\n${SOCKET_HELP}`,
};

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ').trimEnd()).join('\n');
}

function describeLastExit(s: ServiceStatus): string {
  if (!s.lastExit) return '-';
  return s.lastExit.signal ?? `code ${s.lastExit.code}`;
}

function describeHa(s: StatusWithHa): string {
  if (!s.ha) return '-';
  const partner = s.ha.partner.state ?? 'unknown';
  return `${s.ha.state}${s.ha.serving ? '' : ' (not serving)'}, partner ${partner}${s.ha.partner.inTouch === false ? ' (not in touch)' : ''}`;
}

type KeaStatistics = { service: string } & (KeaSummary | { error: string });

/** One line per Kea daemon under the table: pool use, packets, failed DNS updates. */
function describeStatistics(d: KeaStatistics): string {
  if ('error' in d) return `${d.service}: no statistics (${d.error})`;
  const parts = d.subnets.map((s) => `subnet ${s.subnetId} ${s.assigned} of ${s.total} in use${s.total > 0 ? ` (${((100 * s.assigned) / s.total).toFixed(1)} %)` : ''}${s.declined ? `, ${s.declined} declined` : ''}`);
  if (d.received !== null) parts.push(`${d.received} packets received, ${d.dropped ?? 0} dropped`);
  if (d.ddnsFailures) parts.push(`DNS updates failed: ${d.ddnsFailures.timeout} timed out, ${d.ddnsFailures.error} refused`);
  return `${d.service}: ${parts.join('; ')}`;
}

function statusTable(services: StatusWithHa[]): string {
  const withHa = services.some((s) => s.ha);
  return table([
    ['SERVICE', 'STATE', 'PID', 'FOR', 'RESTARTS', 'LAST EXIT', ...(withHa ? ['HA'] : []), 'LAST ERROR'],
    ...services.map((s) => [s.name, s.state, s.pid === null ? '-' : String(s.pid), formatDuration(s.forMs), String(s.restarts), describeLastExit(s), ...(withHa ? [describeHa(s)] : []), s.lastError ?? '']),
  ]);
}

export async function control(command: string, args: string[]): Promise<number> {
  const { values, positionals } = parseFlags(command, args, {
    socket: { type: 'string' },
    json: { type: 'boolean' },
    all: { type: 'boolean' },
    lines: { type: 'string', short: 'n' },
    follow: { type: 'boolean', short: 'f' },
    help: { type: 'boolean', short: 'h' },
  }, true);
  if (values.help) {
    process.stdout.write(`${controlHelp[command]}\n`);
    return ExitCode.ok;
  }
  const socket = socketFrom(values.socket, process.env);
  const json = values.json === true;
  const print = (text: string) => process.stdout.write(`${text}\n`);
  const needService = (): string => {
    if (positionals.length !== 1) throw new KeaKnotError('E_USAGE', `kea-knot ${command} takes one service name; see kea-knot ${command} --help`);
    return positionals[0]!;
  };

  switch (command) {
    case 'status': {
      const [response, stats] = await Promise.all([
        callApi<{ services: StatusWithHa[] }>({ socket }, 'GET', '/v1/services'),
        callApi<{ daemons: KeaStatistics[] }>({ socket }, 'GET', '/v1/kea/statistics'),
      ]);
      if (response.status !== 200) throw failure(response);
      // Statistics are extra: a Kea that does not answer leaves the services' table alone.
      const daemons = stats.status === 200 ? stats.body.daemons : [];
      print(json ? JSON.stringify({ ...response.body, statistics: daemons }) : [statusTable(response.body.services), ...daemons.map(describeStatistics)].join('\n'));
      return ExitCode.ok;
    }
    case 'health': {
      const response = await callApi<{ ready: boolean; reasons: string[] }>({ socket }, 'GET', '/v1/ready');
      if (response.status === 200) return ExitCode.ok;
      const reasons = response.body?.reasons ?? [errorText(response.body).message];
      process.stderr.write(`not ready: ${reasons.join('; ')}\n`);
      return ExitCode.failure;
    }
    case 'reload': {
      if (values.all) {
        const response = await callApi<{ ok: boolean; outcomes: { service: string; ok: boolean; method?: string; durationMs?: number; error?: string }[] }>({ socket }, 'POST', '/v1/reload');
        if (response.status !== 200 && response.status !== 502) throw failure(response);
        if (json) print(JSON.stringify(response.body));
        else for (const o of response.body.outcomes) print(o.ok ? `${o.service} reloaded (${o.method}) in ${o.durationMs} ms` : `${o.service} NOT reloaded: ${o.error}`);
        return response.body.ok ? ExitCode.ok : ExitCode.failure;
      }
      return reloadService(socket, needService(), json);
    }
    case 'restart':
    case 'start':
    case 'stop': {
      const service = needService();
      const response = await callApi<ServiceStatus>({ socket }, 'POST', `/v1/services/${encodeURIComponent(service)}/${command}`);
      if (response.status !== 200) throw failure(response);
      const s = response.body;
      print(json ? JSON.stringify(s) : `${s.name} is ${s.state}${s.pid ? ` (pid ${s.pid})` : ''}${s.lastError ? `: ${s.lastError}` : ''}`);
      const wanted = command === 'stop' ? ['stopped'] : ['ready', 'exited'];
      return wanted.includes(s.state) ? ExitCode.ok : ExitCode.failure;
    }
    case 'logs': {
      const service = needService();
      const lines = values.lines ?? '100';
      const url = `/v1/services/${encodeURIComponent(service)}/logs?lines=${encodeURIComponent(lines)}${values.follow ? '&follow=true' : ''}`;
      let errorBody = '';
      const status = await streamApi({ socket }, url, (line) => {
        let entry: LogEntry;
        try { entry = JSON.parse(line) as LogEntry; } catch { errorBody += line; return; }
        if ('error' in entry) { errorBody += line; return; }
        print(json ? line : entry.msg);
      });
      if (status !== 200) throw failure({ status, body: safeJson(errorBody) });
      return ExitCode.ok;
    }
    default:
      throw new KeaKnotError('E_USAGE', `unknown command "${command}"`);
  }
}

function safeJson(text: string): unknown {
  try { return JSON.parse(text); } catch { return text; }
}
