import { KeaKnotError } from '../errors.js';
import type { ServiceSpec } from '../services/schema.js';
import { withoutSecrets } from '../setup/secrets.js';
import { describeResult, runCommand, type CommandResult } from './run-command.js';

/** The environment a service's commands run with: the container's without the secrets it does not list, plus its own. */
export function serviceEnv(spec: ServiceSpec): NodeJS.ProcessEnv {
  return { ...withoutSecrets(process.env, spec.secrets), ...spec.environment };
}

/**
 * Runs the service's check command, if it has one. Throws E_CHECK_FAILED with the checker's
 * output as details, so callers show what the daemon's own checker said.
 */
export async function checkService(spec: ServiceSpec, signal?: AbortSignal): Promise<CommandResult | undefined> {
  const check = spec.check;
  if (!check) return undefined;
  const result = await runCommand(check.command, { env: serviceEnv(spec), cwd: spec.working_dir, timeoutMs: check.timeout, signal });
  if (result.code !== 0) {
    const details = errorsFirst(result.output);
    const said = details[0] === undefined ? '' : `: ${details[0]}`;
    throw new KeaKnotError('E_CHECK_FAILED', `check of ${spec.name} failed (${describeResult(check.command, result)})${said}; fix the configuration it names`, { details });
  }
  return result;
}

/** Kea's ERROR/FATAL log lines and its closing "Error encountered"; Knot's "error:" lines. */
const ERROR_LINE = /\b(ERROR|FATAL|CRITICAL)\b|^(error|Error|critical)\b/;

/**
 * A checker's output lines with the errors first: Kea prints a page of INFO lines before
 * the one that says what is wrong.
 */
export function errorsFirst(output: string): string[] {
  const lines = output.split('\n').filter((line) => line.trim() !== '');
  return [...lines.filter((line) => ERROR_LINE.test(line)), ...lines.filter((line) => !ERROR_LINE.test(line))];
}
