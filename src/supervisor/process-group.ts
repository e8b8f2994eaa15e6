import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import treeKill from 'tree-kill';
import { listPids, readProcStat } from './proc.js';

/** Signals a whole process group (each service runs in its own); false when it is gone. */
export function signalGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw error;
  }
}

/**
 * Whether any live process of the group remains. Zombies do not count: one left by a
 * process we cannot reap must not hold up a stop forever.
 */
export function groupAlive(pgid: number): boolean {
  if (!signalGroup(pgid, 0)) return false;
  return listPids().some((pid) => {
    const stat = readProcStat(pid);
    return stat !== null && stat.pgrp === pgid && stat.state !== 'Z';
  });
}

/** Whether `ps` is on PATH: tree-kill runs it, and an absent one would throw uncaught (ENOENT). */
function havePs(): boolean {
  return (process.env.PATH ?? '').split(':').some((dir) => {
    try { accessSync(path.join(dir || '.', 'ps'), constants.X_OK); return true; } catch { return false; }
  });
}

/**
 * SIGKILL for a service that outlived its grace time: the process tree first (reaching
 * descendants that left the group with setsid), then the group (members whose parent
 * already died and so are no longer in the tree). `tree: false` when the main process has
 * been reaped, since its pid may then be reused. Resolves whether the tree was walked.
 */
export function forceKill(pid: number, options: { tree: boolean } = { tree: true }): Promise<boolean> {
  if (!options.tree || !havePs()) {
    signalGroup(pid, 'SIGKILL');
    return Promise.resolve(false);
  }
  return new Promise((resolve) => {
    treeKill(pid, 'SIGKILL', () => {
      signalGroup(pid, 'SIGKILL');
      resolve(true);
    });
  });
}
