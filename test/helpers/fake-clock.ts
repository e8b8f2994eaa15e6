import type { Clock } from '../../src/supervisor/clock.js';

/** A clock that moves only when the test says so; timers fire in order as time passes. */
export class FakeClock implements Clock {
  private time = 0;
  private timers: { at: number; callback: () => void; cancelled: boolean }[] = [];

  now(): number { return this.time; }

  /** Epoch time: a fixed start plus the fake time. */
  wall(): number { return 1_750_000_000_000 + this.time; }

  setTimeout(callback: () => void, ms: number): { cancel(): void } {
    const timer = { at: this.time + ms, callback, cancelled: false };
    this.timers.push(timer);
    return { cancel: () => { timer.cancelled = true; } };
  }

  advance(ms: number): void {
    const until = this.time + ms;
    for (;;) {
      const due = this.timers.filter((t) => !t.cancelled && t.at <= until).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.time = due.at;
      due.cancelled = true;
      due.callback();
    }
    this.time = until;
  }

  pending(): number { return this.timers.filter((t) => !t.cancelled).length; }
}
