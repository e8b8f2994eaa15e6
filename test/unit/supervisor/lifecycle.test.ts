import { describe, expect, it } from 'vitest';
import { parseServiceFile } from '../../../src/services/load.js';
import { restartDelay } from '../../../src/supervisor/backoff.js';
import { ServiceMachine, satisfiesDependents, type LifecycleEvent } from '../../../src/supervisor/lifecycle.js';
import { FakeClock } from '../../helpers/fake-clock.js';

function machine(yaml = '', random = () => 0.5) {
  const spec = parseServiceFile(`name: svc\ncommand: [/bin/svc]\n${yaml}`, 'svc.yaml', {}).spec!;
  const clock = new FakeClock();
  return { m: new ServiceMachine(spec, clock, random), clock, spec };
}

const crash: LifecycleEvent = { type: 'ended', code: 1, signal: null };
const killed: LifecycleEvent = { type: 'ended', code: null, signal: 'SIGKILL' };
const clean: LifecycleEvent = { type: 'ended', code: 0, signal: null };

describe('restartDelay', () => {
  const { spec } = machine();
  it('grows by the factor from the initial delay up to the cap', () => {
    const mid = () => 0.5; // no jitter at the middle
    expect([1, 2, 3, 4, 5, 10, 20].map((attempt) => restartDelay(spec.backoff, attempt, 0, mid))).toEqual([100, 200, 400, 800, 1600, 30_000, 30_000]);
  });
  it('spreads by the jitter and never passes the cap', () => {
    expect(restartDelay(spec.backoff, 1, 0, () => 0)).toBe(80);
    expect(restartDelay(spec.backoff, 1, 0, () => 1)).toBe(120);
    expect(restartDelay(spec.backoff, 30, 0, () => 1)).toBe(30_000);
  });
  it('is immediate after a long healthy run', () => {
    expect(restartDelay(spec.backoff, 7, 10_000, () => 0.5)).toBe(0);
    expect(restartDelay(spec.backoff, 7, 9_999, () => 0.5)).toBe(6400);
  });
});

describe('ServiceMachine', () => {
  it('starts, becomes ready and stops', () => {
    const { m } = machine();
    expect(m.state).toBe('stopped');
    expect(m.dispatch({ type: 'start' })).toEqual([{ type: 'launch' }]);
    expect(m.state).toBe('starting');
    expect(m.dispatch({ type: 'ready' })).toEqual([]);
    expect(m.state).toBe('ready');
    expect(m.dispatch({ type: 'stop' })).toEqual([{ type: 'terminate' }]);
    expect(m.state).toBe('stopping');
    expect(m.dispatch({ type: 'ended', code: null, signal: 'SIGTERM' })).toEqual([]);
    expect(m.state).toBe('stopped');
    expect(m.lastError).toBeUndefined();
    expect(m.restarts).toBe(0);
  });

  it('restarts at once when it had been ready for a while, then backs off on quick crashes', () => {
    const { m, clock } = machine();
    m.dispatch({ type: 'start' });
    m.dispatch({ type: 'ready' });
    clock.advance(60_000);
    expect(m.dispatch(killed)).toEqual([{ type: 'launch' }]);
    expect(m.state).toBe('starting');
    expect(m.lastError).toBe('killed by SIGKILL');
    clock.advance(50);
    expect(m.dispatch(crash)).toEqual([{ type: 'scheduleRestart', delayMs: 200 }]);
    expect(m.state).toBe('backoff');
    expect(m.dispatch({ type: 'backoffElapsed' })).toEqual([{ type: 'launch' }]);
    expect(m.dispatch(crash)).toEqual([{ type: 'scheduleRestart', delayMs: 400 }]);
    expect(m.restarts).toBe(3);
    expect(m.lastError).toBe('exited with code 1');
  });

  it('marks the service failed after max_crashes inside the window', () => {
    const { m, clock } = machine('backoff: {max_crashes: 3, window: 10s}\n');
    m.dispatch({ type: 'start' });
    m.dispatch(crash);
    clock.advance(1000);
    m.dispatch({ type: 'backoffElapsed' });
    m.dispatch(crash);
    clock.advance(1000);
    m.dispatch({ type: 'backoffElapsed' });
    expect(m.dispatch(crash)).toEqual([]);
    expect(m.state).toBe('failed');
    expect(m.lastError).toMatch(/^ended 3 times within 10s \(last: exited with code 1\)/);
  });

  it('forgets earlier crashes once the service was ready for reset_after', () => {
    const { m, clock } = machine('backoff: {max_crashes: 2, reset_after: 5s}\n');
    m.dispatch({ type: 'start' });
    for (let i = 0; i < 6; i += 1) {
      m.dispatch({ type: 'ready' });
      clock.advance(5000);
      expect(m.dispatch(killed)).toEqual([{ type: 'launch' }]);
    }
    expect(m.state).toBe('starting');
    // Quick crashes still count: two without a healthy run between them fail it.
    m.dispatch(crash);
    expect(m.state).toBe('failed');
  });

  it('forgets crashes older than the window', () => {
    const { m, clock } = machine('backoff: {max_crashes: 2, window: 10s, max: 1s}\n');
    m.dispatch({ type: 'start' });
    for (let i = 0; i < 5; i += 1) {
      m.dispatch(crash);
      expect(m.state).toBe('backoff');
      clock.advance(11_000);
      m.dispatch({ type: 'backoffElapsed' });
    }
    expect(m.state).toBe('starting');
  });

  it('an explicit start after failing is a fresh chance', () => {
    const { m } = machine('backoff: {max_crashes: 1}\n');
    m.dispatch({ type: 'start' });
    m.dispatch(crash);
    expect(m.state).toBe('failed');
    expect(m.dispatch({ type: 'start' })).toEqual([{ type: 'launch' }]);
    expect(m.dispatch({ type: 'ended', code: null, signal: null, reason: 'check failed' })).toEqual([]);
    expect(m.state).toBe('failed');
    expect(m.lastError).toContain('check failed');
  });

  it.each([
    ['always', clean, 'backoff'],
    ['always', crash, 'backoff'],
    ['on-failure', clean, 'exited'],
    ['on-failure', crash, 'backoff'],
    ['on-failure', killed, 'backoff'],
    ['never', clean, 'exited'],
    ['never', crash, 'failed'],
    ['never', killed, 'failed'],
  ] as const)('restart %s after %o -> %s', (policy, event, state) => {
    const { m } = machine(`restart: ${policy}\n`);
    m.dispatch({ type: 'start' });
    m.dispatch(event);
    expect(m.state).toBe(state);
  });

  it('a oneshot that exits 0 is done and lets dependents start; one that fails is failed', () => {
    const ok = machine('type: oneshot\n').m;
    ok.dispatch({ type: 'start' });
    expect(satisfiesDependents(ok.state, 'oneshot')).toBe(false);
    ok.dispatch(clean);
    expect(ok.state).toBe('exited');
    expect(satisfiesDependents(ok.state, 'oneshot')).toBe(true);
    const bad = machine('type: oneshot\n').m;
    bad.dispatch({ type: 'start' });
    bad.dispatch(crash);
    expect(bad.state).toBe('failed');
    expect(satisfiesDependents('ready', 'longrun')).toBe(true);
    expect(satisfiesDependents('starting', 'longrun')).toBe(false);
  });

  it("a failure reports its own cause, not an earlier run's", () => {
    const { m } = machine('type: oneshot\nrestart: never\n');
    m.dispatch({ type: 'start' });
    m.dispatch({ type: 'ended', code: null, signal: null, reason: 'check of svc failed' });
    expect(m.lastError).toBe('check of svc failed');
    m.dispatch({ type: 'start' });
    m.dispatch({ type: 'ended', code: 3, signal: null });
    expect(m.state).toBe('failed');
    expect(m.lastError).toBe('exited with code 3');
  });

  it('a failed check counts as a crash even with exit code unknown', () => {
    const { m } = machine();
    m.dispatch({ type: 'start' });
    expect(m.dispatch({ type: 'ended', code: null, signal: null, reason: 'check of svc failed' })).toEqual([{ type: 'scheduleRestart', delayMs: 100 }]);
    expect(m.lastError).toBe('check of svc failed');
    expect(m.lastExit).toBeUndefined();
  });

  it('stop during backoff cancels the restart; stop while stopped does nothing', () => {
    const { m } = machine();
    expect(m.dispatch({ type: 'stop' })).toEqual([]);
    m.dispatch({ type: 'start' });
    m.dispatch(crash);
    expect(m.dispatch({ type: 'stop' })).toEqual([{ type: 'cancelRestart' }]);
    expect(m.state).toBe('stopped');
    expect(m.dispatch({ type: 'backoffElapsed' })).toEqual([]);
  });

  it('ignores events that do not apply to the current state', () => {
    const { m } = machine();
    expect(m.dispatch({ type: 'ready' })).toEqual([]);
    expect(m.dispatch(crash)).toEqual([]);
    m.dispatch({ type: 'start' });
    expect(m.dispatch({ type: 'start' })).toEqual([]);
    m.dispatch({ type: 'stop' });
    expect(m.dispatch({ type: 'start' })).toEqual([]);
    expect(m.dispatch({ type: 'stop' })).toEqual([]);
    expect(m.state).toBe('stopping');
  });

  it('records how long it has been in its state using the clock', () => {
    const { m, clock } = machine();
    clock.advance(500);
    m.dispatch({ type: 'start' });
    expect(m.since).toBe(500);
    clock.advance(250);
    m.dispatch({ type: 'ready' });
    expect(m.since).toBe(750);
  });
});
