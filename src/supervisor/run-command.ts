import { spawn } from 'node:child_process';
import { signalGroup } from './process-group.js';

export interface CommandResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** stdout and stderr interleaved, cut to the last `maxOutput` characters. */
  readonly output: string;
  readonly timedOut: boolean;
  readonly durationMs: number;
  /** Set when the program could not be started at all (e.g. ENOENT). */
  readonly spawnError?: string;
}

export interface CommandOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
  readonly maxOutput?: number;
}

/**
 * Runs a short command (a check, a readiness probe, a reload) to completion in its own
 * process group, so a timeout or an abort ends everything it started.
 */
export function runCommand(argv: readonly string[], options: CommandOptions): Promise<CommandResult> {
  const started = performance.now();
  const maxOutput = options.maxOutput ?? 64 * 1024;
  return new Promise((resolve) => {
    const [program, ...args] = argv as [string, ...string[]];
    const child = spawn(program, args, {
      env: options.env, cwd: options.cwd, detached: true, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    let timedOut = false;
    let spawnError: string | undefined;
    const collect = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      if (output.length > maxOutput * 2) output = output.slice(-maxOutput);
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    const kill = () => { if (child.pid !== undefined) signalGroup(child.pid, 'SIGKILL'); };
    const timer = setTimeout(() => { timedOut = true; kill(); }, options.timeoutMs);
    options.signal?.addEventListener('abort', kill, { once: true });
    child.on('error', (error) => { spawnError = error.message; });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', kill);
      resolve({
        code, signal, timedOut, spawnError,
        output: output.slice(-maxOutput).trimEnd(),
        durationMs: performance.now() - started,
      });
    });
  });
}

/** One line saying how a command ended, for messages. */
export function describeResult(argv: readonly string[], result: CommandResult): string {
  const command = argv.join(' ');
  if (result.spawnError) return `${command} could not start: ${result.spawnError}`;
  if (result.timedOut) return `${command} did not finish in time and was killed`;
  if (result.signal) return `${command} was killed by ${result.signal}`;
  return `${command} exited with code ${result.code}`;
}
