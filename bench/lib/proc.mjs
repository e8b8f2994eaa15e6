// Reading /proc: process trees, resident memory, CPU time. Linux only.
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

export const CLK_TCK = (() => {
  try { return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100; } catch { return 100; }
})();

function readStat(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm may hold spaces and parentheses: the fields that follow start after the last ')'.
    const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
    // rest[0] is field 3 (state); field N is rest[N - 3].
    return { pid, state: rest[0], ppid: Number(rest[1]), utime: Number(rest[11]), stime: Number(rest[12]) };
  } catch {
    return null;
  }
}

/** Every process on the machine as pid -> ppid. */
function processTable() {
  const table = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(Number(entry));
    if (stat) table.set(stat.pid, stat.ppid);
  }
  return table;
}

/** `root` and all its descendants. */
export function tree(root) {
  const table = processTable();
  const children = new Map();
  for (const [pid, ppid] of table) {
    if (!children.has(ppid)) children.set(ppid, []);
    children.get(ppid).push(pid);
  }
  const out = [];
  const queue = table.has(root) ? [root] : [];
  while (queue.length) {
    const pid = queue.shift();
    out.push(pid);
    for (const child of children.get(pid) ?? []) queue.push(child);
  }
  return { pids: out, children };
}

export function exeOf(pid) {
  try { return readlinkSync(`/proc/${pid}/exe`); } catch { return null; }
}

/**
 * The supervisor's own processes: `root` and its descendants, leaving out every process
 * whose executable lies under `fixtureDir` (the supervised services) and what they started.
 */
export function supervisorPids(root, fixtureDir) {
  const { children } = tree(root);
  const out = [];
  const queue = [root];
  while (queue.length) {
    const pid = queue.shift();
    const exe = exeOf(pid);
    if (exe && exe.startsWith(fixtureDir + '/')) continue;
    if (readStat(pid) === null) continue;
    out.push(pid);
    for (const child of children.get(pid) ?? []) queue.push(child);
  }
  return out;
}

/** VmRSS (or another Vm* line) of one process, in KiB; 0 if it is gone. */
export function vmKiB(pid, field = 'VmRSS') {
  try {
    const text = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text);
    return match ? Number(match[1]) : 0;
  } catch {
    return 0;
  }
}

export function sumKiB(pids, field = 'VmRSS') {
  return pids.reduce((sum, pid) => sum + vmKiB(pid, field), 0);
}

/** utime + stime per pid, in clock ticks. */
export function cpuTicks(pids) {
  const out = new Map();
  for (const pid of pids) {
    const stat = readStat(pid);
    if (stat) out.set(pid, stat.utime + stat.stime);
  }
  return out;
}

/** True while the process exists and is not a zombie. */
export function running(pid) {
  const stat = readStat(pid);
  return stat !== null && stat.state !== 'Z' && stat.state !== 'X';
}

export function nameOf(pid) {
  try { return readFileSync(`/proc/${pid}/comm`, 'utf8').trim(); } catch { return '?'; }
}

function kill(pid, signal) {
  try { process.kill(pid, signal); } catch { /* already gone */ }
}

/** SIGKILL `root` and its descendants (processes this harness started), synchronously. */
export function killTreeSync(root) {
  const { pids } = tree(root);
  for (const pid of pids) kill(pid, 'SIGSTOP');
  for (const pid of pids) kill(pid, 'SIGKILL');
}

/** SIGKILL every process whose executable lies under `dir` (this run's own temp dir). */
export function killByExeDirSync(dir) {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    const exe = exeOf(pid);
    if (exe && exe.startsWith(dir + '/')) kill(pid, 'SIGKILL');
  }
}
