import { z } from 'zod';
import { DEFAULT_SOCKET } from './client/api-client.js';
import { KeaKnotError } from './errors.js';
import { HOST_PORT } from './host-port.js';

/** Every environment variable the supervisor reads, with its default; --help prints this table. */
export const SETTINGS = {
  KEA_KNOT_SERVICES_DIR: { default: '/etc/kea-knot/services.d', help: 'directory of service files (*.yaml); --services-dir overrides it' },
  KEA_KNOT_LOG_FORMAT: { default: 'json', help: 'json (one pino record per line) or pretty (for people)' },
  KEA_KNOT_LOG_LEVEL: { default: 'info', help: "the supervisor's own log level: fatal, error, warn, info, debug or trace" },
  KEA_KNOT_LOG_QUEUE_BYTES: { default: String(4 * 1024 * 1024), help: 'log bytes held while stdout is not read; past this, service lines are dropped and counted' },
  KEA_KNOT_SOCKET: { default: DEFAULT_SOCKET, help: 'unix socket of the control API (mode 0600); --socket overrides it' },
  KEA_KNOT_SOCKET_GROUP: { default: '', help: 'numeric group id that may also use the socket (mode 0660)' },
  KEA_KNOT_API_LISTEN: { default: '', help: 'host:port of an extra TCP listener for the API (off when empty); needs a token file; plain HTTP, so bind it to 127.0.0.1 or put it behind a TLS proxy' },
  KEA_KNOT_API_TOKEN_FILE: { default: '', help: 'file holding the bearer token the TCP listener requires' },
  KEA_KNOT_WEB_LISTEN: { default: '', help: 'host:port of the web dashboard (off when empty); needs a password file' },
  KEA_KNOT_WEB_PASSWORD_FILE: { default: '', help: 'file holding the password (or a long token) the dashboard login asks for; at least 12 characters' },
  KEA_KNOT_WEB_TLS_CERT_FILE: { default: '', help: 'PEM certificate: the dashboard then speaks HTTPS and its cookie is Secure (with KEA_KNOT_WEB_TLS_KEY_FILE)' },
  KEA_KNOT_WEB_TLS_KEY_FILE: { default: '', help: 'PEM private key of that certificate' },
} as const;

const optional = z.string().transform((text) => (text === '' ? undefined : text));

const settingsSchema = z.strictObject({
  servicesDir: z.string().min(1),
  logFormat: z.enum(['json', 'pretty']),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']),
  logQueueBytes: z.coerce.number().int().min(64 * 1024, 'must be at least 65536'),
  socket: z.string().min(1).refine((text) => text.startsWith('/'), 'must be an absolute path'),
  socketGroup: optional.pipe(z.string().regex(/^\d+$/, 'must be a numeric group id').transform(Number).optional()),
  apiListen: optional.pipe(z.string().regex(HOST_PORT, 'write host:port, e.g. 0.0.0.0:8053').optional()),
  apiTokenFile: optional,
  webListen: optional.pipe(z.string().regex(HOST_PORT, 'write host:port, e.g. 0.0.0.0:8080').optional()),
  webPasswordFile: optional,
  webTlsCertFile: optional,
  webTlsKeyFile: optional,
}).superRefine((value, ctx) => {
  if (value.apiListen !== undefined && value.apiTokenFile === undefined) {
    ctx.addIssue({ code: 'custom', path: ['apiTokenFile'], message: 'KEA_KNOT_API_LISTEN is set, so a token file is required; put a long random token in a file (mode 0600) and name it here' });
  }
  if (value.webListen !== undefined && value.webPasswordFile === undefined) {
    ctx.addIssue({ code: 'custom', path: ['webPasswordFile'], message: 'KEA_KNOT_WEB_LISTEN is set, so a password file is required; put a password or a long random token in a file (mode 0600) and name it here' });
  }
  if ((value.webTlsCertFile === undefined) !== (value.webTlsKeyFile === undefined)) {
    ctx.addIssue({ code: 'custom', path: [value.webTlsCertFile === undefined ? 'webTlsCertFile' : 'webTlsKeyFile'], message: 'HTTPS needs both KEA_KNOT_WEB_TLS_CERT_FILE and KEA_KNOT_WEB_TLS_KEY_FILE' });
  }
});

export type Settings = z.output<typeof settingsSchema>;

const FIELD_TO_VARIABLE: Record<keyof Settings, keyof typeof SETTINGS> = {
  servicesDir: 'KEA_KNOT_SERVICES_DIR',
  logFormat: 'KEA_KNOT_LOG_FORMAT',
  logLevel: 'KEA_KNOT_LOG_LEVEL',
  logQueueBytes: 'KEA_KNOT_LOG_QUEUE_BYTES',
  socket: 'KEA_KNOT_SOCKET',
  socketGroup: 'KEA_KNOT_SOCKET_GROUP',
  apiListen: 'KEA_KNOT_API_LISTEN',
  apiTokenFile: 'KEA_KNOT_API_TOKEN_FILE',
  webListen: 'KEA_KNOT_WEB_LISTEN',
  webPasswordFile: 'KEA_KNOT_WEB_PASSWORD_FILE',
  webTlsCertFile: 'KEA_KNOT_WEB_TLS_CERT_FILE',
  webTlsKeyFile: 'KEA_KNOT_WEB_TLS_KEY_FILE',
};

/** Reads settings from the environment, with command-line values taking precedence. */
export function readSettings(env: NodeJS.ProcessEnv, flags: Partial<Record<keyof Settings, string>> = {}): Settings {
  const raw = Object.fromEntries(
    (Object.keys(FIELD_TO_VARIABLE) as (keyof Settings)[]).map((field) => {
      const variable = FIELD_TO_VARIABLE[field];
      return [field, flags[field] ?? env[variable] ?? SETTINGS[variable].default];
    }),
  );
  const result = settingsSchema.safeParse(raw);
  if (!result.success) {
    throw new KeaKnotError('E_CONFIG', 'invalid settings', {
      details: result.error.issues.map((issue) => {
        const field = issue.path[0] as keyof Settings;
        return `${FIELD_TO_VARIABLE[field]}=${JSON.stringify(raw[field])}: ${issue.message}`;
      }),
    });
  }
  return result.data;
}
