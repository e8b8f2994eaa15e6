/**
 * Knows every child process Node itself spawned. The reaper must never waitpid() one of
 * them: libuv reaps its own children, and a status taken from under it means the
 * ChildProcess never emits 'exit' (tree-kill's `ps` and check commands included).
 *
 * spawn, exec, execFile and fork all construct a ChildProcess and call its spawn() method,
 * so wrapping that one prototype method sees them all. spawnSync/execSync do not go through
 * it, but they wait for their child before returning, so no JavaScript (and no reaper scan)
 * runs while such a child exists. Children spawned from worker threads use another module
 * instance and are NOT tracked: the supervisor must not spawn from workers.
 */
import { ChildProcess } from 'node:child_process';

type SpawnMethod = (this: ChildProcess, ...args: unknown[]) => unknown;

// Kept on the prototype under a global symbol so that two copies of this module (e.g. src
// and dist in one process) share one map and wrap spawn only once.
const KEY = Symbol.for('kea-knot.spawnedChildren');
type TrackedPrototype = { spawn: SpawnMethod; [KEY]?: Map<number, ChildProcess> };

const proto = ChildProcess.prototype as unknown as TrackedPrototype;

/** Wraps ChildProcess.prototype.spawn once; later calls do nothing. */
export function trackSpawnedChildren(): void {
  if (proto[KEY] !== undefined) return;
  const children = new Map<number, ChildProcess>();
  proto[KEY] = children;
  const original = proto.spawn;
  proto.spawn = function spawn(this: ChildProcess, ...args: unknown[]): unknown {
    const result = original.apply(this, args);
    const pid = this.pid;
    if (pid !== undefined) {
      children.set(pid, this);
      // The pid may already belong to a newer child when this one's 'exit' arrives late.
      this.once('exit', () => {
        if (children.get(pid) === this) children.delete(pid);
      });
    }
    return result;
  };
}

/** True while `pid` is a live (not yet reaped by libuv) child that Node spawned. */
export function isSpawnedByNode(pid: number): boolean {
  const child = proto[KEY]?.get(pid);
  // exitCode/signalCode are set once libuv has reaped the child; checking them as well
  // keeps a stale entry (e.g. its 'exit' listener removed by someone) from hiding an
  // unrelated zombie that later got the same pid.
  return child !== undefined && child.exitCode === null && child.signalCode === null;
}
