import { constants as osConstants } from 'node:os';
import { z } from 'zod';
import { parseDuration } from './duration.js';
import { HOST_PORT } from '../host-port.js';

/** A duration written with a unit ("500ms", "10s", "2m"), as milliseconds. */
const duration = z.string().transform((text, ctx) => {
  const ms = parseDuration(text);
  if (ms === null) {
    ctx.addIssue({ code: 'custom', message: `"${text}" is not a duration; write a number and a unit, e.g. 500ms, 10s, 2m or 1h` });
    return z.NEVER;
  }
  return ms;
});

const signal = z.string().transform((text, ctx) => {
  const name = text.toUpperCase().startsWith('SIG') ? text.toUpperCase() : `SIG${text.toUpperCase()}`;
  if (!(name in osConstants.signals)) {
    ctx.addIssue({ code: 'custom', message: `"${text}" is not a signal name; write e.g. SIGTERM, SIGHUP or SIGINT` });
    return z.NEVER;
  }
  return name as NodeJS.Signals;
});

const argv = z.array(z.string().min(1, 'an argument is empty')).min(1, 'a command needs at least the program to run');

const TRUE = ['true', 'yes', 'on', '1'];
const FALSE = ['false', 'no', 'off', '0', ''];
/** A switch that may come from an environment variable, so "${KEA_DHCP6:-false}" works. */
const flag = z.union([z.boolean(), z.string()]).transform((value, ctx) => {
  if (typeof value === 'boolean') return value;
  const text = value.trim().toLowerCase();
  if (TRUE.includes(text)) return true;
  if (FALSE.includes(text)) return false;
  ctx.addIssue({ code: 'custom', message: `"${value}" is not a switch; write true or false (yes/no, on/off and 1/0 work too)` });
  return z.NEVER;
});

/** Requires exactly one of `kinds` to be present, with a message that names them. */
function exactlyOne<T extends Record<string, unknown>>(kinds: readonly (keyof T & string)[]) {
  return (value: T, ctx: z.RefinementCtx) => {
    const present = kinds.filter((kind) => value[kind] !== undefined);
    if (present.length !== 1) {
      ctx.addIssue({
        code: 'custom',
        message: present.length === 0
          ? `give one of ${kinds.join(', ')}`
          : `give only one of ${kinds.join(', ')} (found ${present.join(' and ')})`,
      });
    }
  };
}

const regex = z.string().min(1).refine((text) => {
  try { new RegExp(text); return true; } catch { return false; }
}, 'is not a valid regular expression');

/** How the supervisor learns that a service is ready. Exactly one kind per service. */
const READY_KINDS = ['socket', 'tcp', 'command', 'log', 'delay', 'kea', 'knot'] as const;
const port = z.number().int().min(1).max(65535);
const ready = z.strictObject({
  /** A unix socket that accepts a connection. */
  socket: z.string().min(1).optional(),
  /** A Kea daemon's control socket: status-get answers (and with udp_port, the daemon holds that DHCP port). */
  kea: z.string().min(1).optional(),
  /** With kea: the UDP port (67, 547) the daemon must hold to be serving. */
  udp_port: port.optional(),
  /** knotd's control socket: every primary zone loaded, every zone with contents answers its SOA. */
  knot: z.string().min(1).optional(),
  /** A TCP port that accepts a connection. */
  tcp: z.string().regex(HOST_PORT, 'write host:port, e.g. 127.0.0.1:53 or [::1]:53').optional(),
  /** A command that exits 0 once the service is ready. */
  command: argv.optional(),
  /** A regular expression matched against each line the service writes. */
  log: regex.optional(),
  /** A fixed wait, for daemons with nothing better. */
  delay: duration.optional(),
  timeout: duration.prefault('30s'),
  interval: duration.prefault('100ms'),
}).superRefine(exactlyOne(READY_KINDS));

const check = z.strictObject({
  command: argv,
  timeout: duration.prefault('30s'),
});

const RELOAD_KINDS = ['signal', 'command', 'kea_command'] as const;
const reload = z.strictObject({
  signal: signal.optional(),
  command: argv.optional(),
  /** A command sent to the service's kea_control_socket, e.g. config-reload; no process started. */
  kea_command: z.string().regex(/^[a-z0-9-]+$/, 'is not a Kea command name like config-reload').optional(),
  timeout: duration.prefault('30s'),
}).superRefine(exactlyOne(RELOAD_KINDS));

const backoff = z.strictObject({
  /** Delay before the second restart in a row; doubles (factor) each time. */
  initial: duration.prefault('100ms'),
  max: duration.prefault('30s'),
  factor: z.number().min(1).max(10).default(2),
  /** Random spread (0..1) so services that crashed together do not restart in lock-step. */
  jitter: z.number().min(0).max(1).default(0.2),
  /** Ready for this long before a crash: the next restart is immediate and the count resets. */
  reset_after: duration.prefault('10s'),
  /** This many crashes inside `window` mark the service failed. */
  max_crashes: z.number().int().min(1).max(1000).default(5),
  window: duration.prefault('60s'),
});

export const serviceFileSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, 'use lower-case letters, digits, ".", "_" and "-" (at most 63), starting with a letter or digit'),
  description: z.string().optional(),
  type: z.enum(['longrun', 'oneshot']).default('longrun'),
  enabled: flag.prefault(true),
  /** When this service fails for good, the supervisor stops everything and exits non-zero. */
  critical: flag.prefault(false),
  command: argv,
  working_dir: z.string().min(1).optional(),
  environment: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'is not a valid variable name'), z.union([z.string(), z.number(), z.boolean()]).transform(String)).prefault({}),
  depends_on: z.array(z.string().min(1)).default([]),
  ready: ready.optional(),
  check: check.optional(),
  pid_file: z.string().min(1).optional(),
  stop_signal: signal.prefault('SIGTERM'),
  stop_grace: duration.prefault('10s'),
  restart: z.enum(['always', 'on-failure', 'never']).optional(),
  backoff: backoff.prefault({}),
  reload: reload.optional(),
  /** A Kea daemon's control socket: status shows its HA state, and readiness needs it serving. */
  kea_control_socket: z.string().min(1).optional(),
  /** Files whose change triggers check-then-reload (e.g. the daemon's config). */
  watch: z.array(z.string().min(1).refine((p) => p.startsWith('/'), 'must be an absolute path')).default([]),
  /** Lines of this service's output kept in memory for the logs API. */
  log_lines: z.number().int().min(0).max(100_000).default(1000),
  /** Secret variables (names ending in _SECRET, _TOKEN, _PASSWORD, optionally _FILE) passed to this service; others never are. */
  secrets: z.array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'is not a valid variable name')).default([]),
});

export type ServiceFile = z.output<typeof serviceFileSchema>;

/** Rules between fields of one file. */
export function crossFieldProblems(file: ServiceFile): { path: string; message: string }[] {
  const problems: { path: string; message: string }[] = [];
  if (file.reload?.kea_command !== undefined && file.kea_control_socket === undefined) {
    problems.push({ path: 'reload.kea_command', message: 'needs kea_control_socket, the socket to send it to' });
  }
  if (file.ready?.udp_port !== undefined && file.ready.kea === undefined) {
    problems.push({ path: 'ready.udp_port', message: 'only goes with ready.kea, the Kea daemon that must hold it' });
  }
  return problems;
}
export type ReadyProbe = NonNullable<ServiceFile['ready']>;
export type BackoffPolicy = ServiceFile['backoff'];
export type RestartPolicy = 'always' | 'on-failure' | 'never';

/** A validated service with defaults applied; what the rest of the supervisor works with. */
export interface ServiceSpec extends Omit<ServiceFile, 'restart'> {
  readonly restart: RestartPolicy;
  /** The file it came from, for messages. */
  readonly file: string;
}

export function toSpec(parsed: ServiceFile, file: string): ServiceSpec {
  // A oneshot runs to completion once; a longrun comes back unless told otherwise.
  const restart = parsed.restart ?? (parsed.type === 'oneshot' ? 'never' : 'always');
  return { ...parsed, restart, file };
}
