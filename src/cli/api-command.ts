import { callApi, errorText, type ApiResponse } from '../client/api-client.js';
import { ExitCode, KeaKnotError, type ErrorCode } from '../errors.js';

/** The error a non-2xx API answer stands for, so the CLI exits with the matching code. */
export function failure(response: ApiResponse): KeaKnotError {
  const { message, details, code } = errorText(response.body);
  const known: ErrorCode = response.status === 404 ? 'E_NOT_FOUND' : ((code as ErrorCode | undefined) ?? 'E_IO');
  return new KeaKnotError(known, message, { details });
}

export interface ReloadResult { service: string; method: string; durationMs: number; output: string }

/** POST /v1/services/NAME/reload; prints the outcome and returns the exit code. Used by the wrappers too. */
export async function reloadService(socket: string, service: string, json: boolean): Promise<number> {
  const response = await callApi<ReloadResult>({ socket }, 'POST', `/v1/services/${encodeURIComponent(service)}/reload`);
  if (response.status !== 200) throw failure(response);
  const r = response.body;
  process.stdout.write(json ? `${JSON.stringify(r)}\n` : `${r.service} reloaded (${r.method}) in ${r.durationMs} ms${r.output ? `\n${r.output}` : ''}\n`);
  return ExitCode.ok;
}
