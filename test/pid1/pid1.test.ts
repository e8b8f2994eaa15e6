import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ROOT, byLine, byMsg, startSupervisor, svc, type SupervisorHandle } from '../helpers/supervisor-process.js';

// The supervisor as PID 1 of a fresh PID namespace, as in a container.
const PID1 = ['unshare', '--pid', '--fork', '--mount-proc'];
const ORPHANS = path.join(ROOT, 'test/fixtures/orphan-maker.sh');

let run: SupervisorHandle | undefined;
let init: number | undefined;
afterEach(async () => {
  // SIGKILL of a namespace's init ends everything in it, whatever state the test left.
  if (init !== undefined) { try { process.kill(init, 'SIGKILL'); } catch { /* already gone */ } }
  await run?.cleanup();
  run = undefined;
  init = undefined;
});

/** The host pid of the namespace's PID 1: the child of `unshare`. */
function initPid(handle: SupervisorHandle): number {
  const children = readFileSync(`/proc/${handle.child.pid}/task/${handle.child.pid}/children`, 'utf8').trim().split(/\s+/);
  const pid = Number(children[0]);
  // Never signal a pid we are not sure of (0 or 1 would hit far more than the test's own).
  if (!Number.isInteger(pid) || pid <= 1) throw new Error(`cannot find the namespace's PID 1 under unshare ${handle.child.pid}: ${children.join(' ')}`);
  return pid;
}

/** Host pids of processes whose parent is `parent`, with their state letter. */
function childrenOf(parent: number): { pid: number; state: string }[] {
  const out: { pid: number; state: string }[] = [];
  for (const task of readFileSync(`/proc/${parent}/task/${parent}/children`, 'utf8').trim().split(/\s+/).filter(Boolean)) {
    try {
      const stat = readFileSync(`/proc/${task}/stat`, 'utf8');
      out.push({ pid: Number(task), state: stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) });
    } catch { /* exited meanwhile */ }
  }
  return out;
}

async function started(files: Record<string, string>): Promise<SupervisorHandle> {
  run = await startSupervisor(files, { wrap: PID1 });
  const first = await run.waitFor((r) => /kea-knot supervisor started/.test(r.msg));
  expect(first.pid).toBe(1);
  init = initPid(run);
  return run;
}

describe('the supervisor as PID 1', () => {
  it('stops every service on SIGTERM and exits 0; a failed critical service gives 1', async () => {
    const sup = await started({
      'a.yaml': svc('a', ['run']),
      'b.yaml': svc('b', ['ignore-term'], 'stop_grace: 300ms\n'),
      'c.yaml': svc('c', ['run'], 'depends_on: [a]\n'),
    });
    await sup.waitFor(byMsg('c', /is ready/));
    await sup.waitFor(byLine('b', /ignoring TERM/));
    process.kill(init!, 'SIGTERM');
    expect(await sup.exited).toBe(0);
    for (const name of ['a', 'b', 'c']) expect(sup.records.some(byMsg(name, /stopped$/))).toBe(true);
    await sup.cleanup();

    const crit = await started({ 'core.yaml': svc('core', ['exit', '4', '0.2'], 'critical: true\nrestart: never\n') });
    expect(await crit.exited).toBe(1);
  });

  it('reaps 200 orphans while losing no exit status of its own children', async () => {
    const oneshots = Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`exit${i}.yaml`, svc(`exit${i}`, ['exit', '7', '0.1'], 'restart: never\n')]));
    const sup = await started({
      'orphans.yaml': `name: orphans\ntype: oneshot\ncommand: [${ORPHANS}, "200", "0.3"]\n`,
      'steady.yaml': svc('steady', ['run']),
      ...oneshots,
    });
    await sup.waitFor(byMsg('orphans', /finished/));
    // Every one of our own children reports its real exit code (none stolen by the reaper).
    for (let i = 0; i < 60; i += 1) {
      const failed = await sup.waitFor(byMsg(`exit${i}`, / failed: /));
      expect(failed.msg).toBe(`exit${i} failed: exited with code 7`);
    }
    // Every orphan has exited and been reaped: no zombie left under PID 1.
    const deadline = Date.now() + 5000;
    let zombies = childrenOf(init!).filter((c) => c.state === 'Z');
    let sleepers = childrenOf(init!).length;
    while ((zombies.length > 0 || sleepers > 1) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      zombies = childrenOf(init!).filter((c) => c.state === 'Z');
      sleepers = childrenOf(init!).length;
    }
    expect(zombies).toEqual([]);
    // Only `steady` is left as a child of PID 1.
    expect(childrenOf(init!).map((c) => c.pid)).toHaveLength(1);
  });

  it('keeps Node\'s inspector closed on SIGUSR1 and logs every state instead; survives HUP and USR2', async () => {
    const sup = await started({ 'a.yaml': svc('a', ['run']) });
    await sup.waitFor(byMsg('a', /is ready/));
    process.kill(init!, 'SIGUSR1');
    const dump = await sup.waitFor((r) => r.msg.startsWith('a: ready (pid'));
    expect(dump.status).toMatchObject({ name: 'a', state: 'ready' });
    const inspector = await new Promise<boolean>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port: 9229 });
      socket.once('connect', () => { socket.destroy(); resolve(true); });
      socket.once('error', () => resolve(false));
    });
    expect(inspector).toBe(false);
    process.kill(init!, 'SIGHUP');
    process.kill(init!, 'SIGUSR2');
    await sup.waitFor((r) => r.msg === 'services.d re-read: 0 added, 0 removed, 0 changed');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(sup.child.exitCode).toBeNull();
    expect(childrenOf(init!).length).toBe(1);
  });
});
