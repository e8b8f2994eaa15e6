/**
 * Removes a daemon's stale PID file before the daemon starts.
 *
 * Kea refuses to start when its PID file names a PID that is alive or a zombie, even if
 * that PID now belongs to an unrelated process. In a container PIDs are small and reused, so
 * after a power cut the old number often names someone else. A file is kept only when it
 * names a live process running the same program: the daemon then refuses with its own clear
 * message.
 */
import { readFile, unlink } from 'node:fs/promises';
import { basename } from 'node:path';
import { KeaKnotError } from '../errors.js';
import { readCmdline, readProcStat } from './proc.js';

export interface PidFileDecision {
  removed: boolean;
  reason: string;
}

// PIDs stay below Linux's PID_MAX_LIMIT (2^22).
const PID_LIMIT = 4_194_304;

/**
 * @param program the daemon's executable (path or name); compared by basename.
 * @param knownPids processes known to be something else (the supervisor's other services).
 */
export async function removeStalePidFile(
  file: string,
  program: string,
  knownPids: ReadonlySet<number> = new Set(),
): Promise<PidFileDecision> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { removed: false, reason: `no PID file ${file}` };
    throw new KeaKnotError('E_IO', `cannot read PID file ${file}: ${(err as Error).message}`, { cause: err });
  }

  const content = text.trim();
  if (content === '') return remove(file, `PID file ${file} is empty`);
  const pid = /^\d+$/.test(content) ? Number(content) : NaN;
  if (!(pid >= 1 && pid < PID_LIMIT)) {
    return remove(file, `PID file ${file} does not hold a PID (${JSON.stringify(content.slice(0, 40))})`);
  }

  const staleBecause = whyStale(pid, basename(program), knownPids);
  if (staleBecause !== null) return remove(file, `PID file ${file} is stale: ${staleBecause}`);
  return { removed: false, reason: `PID file ${file} names PID ${pid}, a live ${basename(program)} process; left in place` };
}

/** Why `pid` cannot be a running instance of `program`, or null if it may well be one. */
function whyStale(pid: number, program: string, knownPids: ReadonlySet<number>): string | null {
  if (pid === process.pid) return `PID ${pid} is the supervisor itself`;
  if (knownPids.has(pid)) return `PID ${pid} is another known process`;
  const stat = readProcStat(pid);
  if (stat === null) return `no process has PID ${pid}`;
  if (stat.state === 'Z' || stat.state === 'X') return `PID ${pid} is a zombie (${stat.comm})`;
  const argv0 = readCmdline(pid)?.[0];
  // comm is cut to 15 bytes by the kernel, so compare it with the name cut the same way.
  const running = argv0 ? basename(argv0) : stat.comm;
  const expected = argv0 ? program : program.slice(0, 15);
  if (running !== expected) return `PID ${pid} is running ${running}, not ${program}`;
  return null;
}

async function remove(file: string, reason: string): Promise<PidFileDecision> {
  try {
    await unlink(file);
  } catch (err) {
    // Already gone is as good as removed.
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new KeaKnotError('E_IO', `cannot remove stale PID file ${file} (${reason}): ${(err as Error).message}`, {
        cause: err,
      });
    }
  }
  return { removed: true, reason: `${reason}; removed` };
}
