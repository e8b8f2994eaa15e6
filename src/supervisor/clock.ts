/** Time as the lifecycle policies see it; tests inject a fake one. */
export interface Clock {
  /** Monotonic milliseconds: policies measure with it, so a clock step (NTP on a Pi) cannot skew them. */
  now(): number;
  /** Epoch milliseconds now, for times shown to people. */
  wall(): number;
  setTimeout(callback: () => void, ms: number): { cancel(): void };
}

export const systemClock: Clock = {
  now: () => performance.now(),
  wall: () => Date.now(),
  setTimeout(callback, ms) {
    const timer = setTimeout(callback, ms);
    return { cancel: () => clearTimeout(timer) };
  },
};

/** The epoch time of `at`, a reading of clock.now(). */
export function wallTime(clock: Clock, at: number): number {
  return Math.round(clock.wall() - (clock.now() - at));
}
