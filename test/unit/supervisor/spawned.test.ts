import { ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { isSpawnedByNode, trackSpawnedChildren } from '../../../src/supervisor/spawned.js';

trackSpawnedChildren();

describe('isSpawnedByNode', () => {
  it('knows a spawned child until its exit event', async () => {
    const child = spawn('sleep', ['30'], { stdio: 'ignore' });
    const pid = child.pid ?? -1;
    expect(isSpawnedByNode(pid)).toBe(true);
    child.kill();
    await once(child, 'exit');
    expect(isSpawnedByNode(pid)).toBe(false);
  });

  it('knows children of execFile', async () => {
    let pid = -1;
    await new Promise<void>((resolve, reject) => {
      const child = execFile('/bin/sh', ['-c', 'sleep 0.1'], (err) => (err ? reject(err) : resolve()));
      pid = child.pid ?? -1;
      expect(isSpawnedByNode(pid)).toBe(true);
    });
    expect(isSpawnedByNode(pid)).toBe(false);
  });

  it('records nothing for a command that cannot start', async () => {
    const child = spawn('/nonexistent/kea-knot-test', { stdio: 'ignore' });
    const [err] = (await once(child, 'error')) as [NodeJS.ErrnoException];
    expect(err.code).toBe('ENOENT');
    expect(child.pid).toBeUndefined();
  });

  it('wraps spawn only once', () => {
    const wrapped = (ChildProcess.prototype as unknown as { spawn: unknown }).spawn;
    trackSpawnedChildren();
    expect((ChildProcess.prototype as unknown as { spawn: unknown }).spawn).toBe(wrapped);
  });

  it('is false for processes Node did not spawn', () => {
    expect(isSpawnedByNode(process.pid)).toBe(false);
    expect(isSpawnedByNode(1)).toBe(false);
  });
});
