import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { constants, tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const CLI = path.join(ROOT, 'dist/cli/main.js');
export const SVC = path.join(ROOT, 'test/fixtures/bin/svc.sh');

export interface LogRecord {
  level: number;
  time: number;
  service: string;
  stream?: 'stdout' | 'stderr';
  msg: string;
  [key: string]: unknown;
}

export interface SupervisorHandle {
  readonly child: ChildProcess;
  readonly dir: string;
  readonly socket: string;
  readonly records: LogRecord[];
  readonly stderr: () => string;
  /** Resolves with the first record (seen or to come) matching; rejects after `timeoutMs`. */
  waitFor(match: (record: LogRecord) => boolean, timeoutMs?: number): Promise<LogRecord>;
  /** Resolves with the exit code (or 128+signal). */
  exited: Promise<number>;
  /** SIGTERM, wait, then make sure nothing of the run is left. */
  cleanup(): Promise<void>;
}

/** Writes the given service files into a fresh directory and runs `kea-knot supervise` on it. */
export async function startSupervisor(
  files: Record<string, string>,
  options: { env?: NodeJS.ProcessEnv; wrap?: string[]; args?: string[] } = {},
): Promise<SupervisorHandle> {
  const dir = await mkdtemp(path.join(tmpdir(), 'kk-sup-'));
  for (const [name, text] of Object.entries(files)) await writeFile(path.join(dir, name), text);
  // A socket of its own, so parallel test files never meet.
  const socket = path.join(dir, 'api.sock');
  const argv = [...(options.wrap ?? []), process.execPath, CLI, 'supervise', '--services-dir', dir, '--socket', socket, ...(options.args ?? [])];
  const child = spawn(argv[0]!, argv.slice(1), {
    cwd: ROOT, env: { ...process.env, KEA_KNOT_LOG_LEVEL: 'debug', ...options.env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  const records: LogRecord[] = [];
  const waiters = new Set<{ match: (r: LogRecord) => boolean; resolve: (r: LogRecord) => void }>();
  createInterface({ input: child.stdout! }).on('line', (line) => {
    let record: LogRecord;
    try { record = JSON.parse(line) as LogRecord; } catch { return; }
    records.push(record);
    for (const waiter of waiters) if (waiter.match(record)) { waiters.delete(waiter); waiter.resolve(record); }
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
  const exited = new Promise<number>((resolve) => {
    child.on('exit', (code, signal) => resolve(code ?? 128 + (signal ? constants.signals[signal] : 0)));
  });
  const handle: SupervisorHandle = {
    child, dir, socket, records, stderr: () => stderr, exited,
    waitFor(match, timeoutMs = 10_000) {
      const seen = records.find(match);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const waiter = { match, resolve: (r: LogRecord) => { clearTimeout(timer); resolve(r); } };
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`no matching record within ${timeoutMs} ms; last records:\n${records.slice(-15).map((r) => JSON.stringify(r)).join('\n')}\nstderr: ${stderr}`));
        }, timeoutMs);
        waiters.add(waiter);
      });
    },
    async cleanup() {
      // Pids in records are the supervisor's view: only meaningful when it shares our PID
      // namespace, and never 0 or 1 (kill(-1) would hit every process).
      const pids = options.wrap ? new Set<number>() : new Set(records.flatMap((r) => (typeof r.pid === 'number' && r.pid > 1 && r.pid !== child.pid ? [r.pid] : [])));
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        await exited;
        clearTimeout(timer);
      }
      // Whatever a broken run left behind: its services' process groups.
      for (const pid of pids) {
        try { process.kill(-pid, 'SIGKILL'); } catch { /* gone, as it should be */ }
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
  return handle;
}

/** A service file for the fixture service script. */
export function svc(name: string, args: string[], extra = ''): string {
  return `name: ${name}\ncommand: [${[SVC, ...args].map((a) => JSON.stringify(a)).join(', ')}]\n${extra}`;
}

export const byMsg = (service: string, pattern: RegExp) => (r: LogRecord) => r.service === service && r.stream === undefined && pattern.test(r.msg);
export const byLine = (service: string, pattern: RegExp) => (r: LogRecord) => r.service === service && r.stream !== undefined && pattern.test(r.msg);

export function pidAlive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch { return false; }
}
