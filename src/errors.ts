/**
 * The one error type of kea-knot. `code` is stable (scripts and tests match on it);
 * `message` says what was wrong and how to fix it.
 */
export type ErrorCode =
  | 'E_CONFIG' // services.d or settings are invalid
  | 'E_USAGE' // bad command-line arguments
  | 'E_CHECK_FAILED' // a service's check command refused its config
  | 'E_READINESS' // a readiness probe gave up
  | 'E_STATE' // an operation that the service's current state does not allow
  | 'E_NOT_FOUND' // no such service
  | 'E_RELOAD_FAILED' // the daemon refused or failed its reload
  | 'E_CONFLICT' // the change clashes with what is there (a reservation, a lease, a DDNS-owned name)
  | 'E_UNAVAILABLE' // the supervisor cannot be reached
  | 'E_IO'; // a file or socket operation failed

export class KeaKnotError extends Error {
  readonly code: ErrorCode;
  /** Extra lines shown after the message (e.g. a checker's output, every config problem). */
  readonly details: readonly string[];

  constructor(code: ErrorCode, message: string, options: { details?: readonly string[]; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'KeaKnotError';
    this.code = code;
    this.details = options.details ?? [];
  }
}

/** Process exit codes; documented in the README. */
export const ExitCode = {
  ok: 0,
  /** A critical service failed, or the supervisor hit an internal error. */
  failure: 1,
  usage: 64, // EX_USAGE (also an unknown service)
  unavailable: 69, // EX_UNAVAILABLE: the supervisor cannot be reached
  config: 78, // EX_CONFIG
} as const;

export function exitCodeFor(error: KeaKnotError): number {
  if (error.code === 'E_USAGE' || error.code === 'E_NOT_FOUND') return ExitCode.usage;
  if (error.code === 'E_UNAVAILABLE') return ExitCode.unavailable;
  if (error.code === 'E_CONFIG') return ExitCode.config;
  return ExitCode.failure;
}
