import { z } from 'zod';
import { KeaKnotError } from './errors.js';

/** Every environment variable the supervisor reads, with its default; --help prints this table. */
export const SETTINGS = {
  KEA_KNOT_SERVICES_DIR: { default: '/etc/kea-knot/services.d', help: 'directory of service files (*.yaml); --services-dir overrides it' },
  KEA_KNOT_LOG_FORMAT: { default: 'json', help: 'json (one pino record per line) or pretty (for people)' },
  KEA_KNOT_LOG_LEVEL: { default: 'info', help: "the supervisor's own log level: fatal, error, warn, info, debug or trace" },
  KEA_KNOT_LOG_QUEUE_BYTES: { default: String(4 * 1024 * 1024), help: 'log bytes held while stdout is not read; past this, service lines are dropped and counted' },
} as const;

const settingsSchema = z.strictObject({
  servicesDir: z.string().min(1),
  logFormat: z.enum(['json', 'pretty']),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']),
  logQueueBytes: z.coerce.number().int().min(64 * 1024, 'must be at least 65536'),
});

export type Settings = z.output<typeof settingsSchema>;

const FIELD_TO_VARIABLE: Record<keyof Settings, keyof typeof SETTINGS> = {
  servicesDir: 'KEA_KNOT_SERVICES_DIR',
  logFormat: 'KEA_KNOT_LOG_FORMAT',
  logLevel: 'KEA_KNOT_LOG_LEVEL',
  logQueueBytes: 'KEA_KNOT_LOG_QUEUE_BYTES',
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
