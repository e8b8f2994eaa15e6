import { request } from 'node:http';
import { KeaKnotError } from '../errors.js';

/** Where the supervisor's API is; the default socket is the supervisor's default. */
export const DEFAULT_SOCKET = '/run/kea-knot/api.sock';

export interface ApiResponse<T = unknown> {
  readonly status: number;
  readonly body: T;
}

export interface ApiTarget {
  readonly socket: string;
}

/**
 * One HTTP request to the supervisor over its unix socket, with an optional JSON body.
 * Kept free of heavy imports: the reload wrappers load only this, so they start fast.
 */
export function callApi<T = unknown>(target: ApiTarget, method: 'GET' | 'POST' | 'DELETE', urlPath: string, body?: unknown): Promise<ApiResponse<T>> {
  const payload = body === undefined ? '' : JSON.stringify(body);
  const headers: Record<string, string | number> = { accept: 'application/json' };
  if (body !== undefined) Object.assign(headers, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) });
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: target.socket, method, path: urlPath, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => { text += chunk; });
      res.on('end', () => {
        let parsed: unknown = text;
        try { parsed = JSON.parse(text); } catch { /* not JSON: keep the text */ }
        resolve({ status: res.statusCode ?? 0, body: parsed as T });
      });
    });
    req.on('error', (error: NodeJS.ErrnoException) => reject(unreachable(target.socket, error)));
    req.end(payload);
  });
}

/** Streams NDJSON lines of a long response (logs -f) to `onLine` until the server ends it. */
export function streamApi(target: ApiTarget, urlPath: string, onLine: (line: string) => void): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: target.socket, method: 'GET', path: urlPath }, (res) => {
      let tail = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        const lines = (tail + chunk).split('\n');
        tail = lines.pop() ?? '';
        for (const line of lines) if (line) onLine(line);
      });
      res.on('end', () => { if (tail) onLine(tail); resolve(res.statusCode ?? 0); });
    });
    req.on('error', (error: NodeJS.ErrnoException) => reject(unreachable(target.socket, error)));
    req.end();
  });
}

function unreachable(socket: string, error: NodeJS.ErrnoException): KeaKnotError {
  const why = error.code === 'ENOENT' ? `no socket at ${socket}`
    : error.code === 'ECONNREFUSED' ? `nothing answers on ${socket}`
    : error.code === 'EACCES' ? `no permission to use ${socket} (run as root, or as a member of its group)`
    : error.message;
  return new KeaKnotError('E_UNAVAILABLE', `cannot reach the kea-knot supervisor: ${why}; is it running? (set --socket or KEA_KNOT_SOCKET if it listens elsewhere)`, { cause: error });
}

/** The message of an error body the API sent, for printing. */
export function errorText(body: unknown): { message: string; details: string[]; code?: string } {
  const error = (body as { error?: { message?: string; details?: string[]; code?: string } } | null)?.error;
  if (error?.message) return { message: error.message, details: error.details ?? [], ...(error.code ? { code: error.code } : {}) };
  return { message: typeof body === 'string' ? body : JSON.stringify(body), details: [] };
}
