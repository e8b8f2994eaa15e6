/** One line a service wrote, as kept in memory and passed to the output. */
export interface LogEntry {
  /** Epoch milliseconds when the supervisor read the line. */
  time: number;
  stream: 'stdout' | 'stderr';
  /** pino level number (30 when the line shows none). */
  level: number;
  msg: string;
}

export type LogListener = (entry: LogEntry) => void;

/** The last `capacity` lines of one service (a ring buffer), plus listeners for following new lines. */
export class LogHistory {
  readonly capacity: number;
  readonly #ring: (LogEntry | undefined)[];
  #next = 0; // slot of the next add
  #size = 0;
  readonly #listeners = new Set<LogListener>();

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 0) {
      throw new RangeError(`history capacity must be an integer >= 0, got ${capacity}`);
    }
    this.capacity = capacity;
    this.#ring = new Array<LogEntry | undefined>(capacity);
  }

  get size(): number {
    return this.#size;
  }

  add(entry: LogEntry): void {
    if (this.capacity > 0) {
      this.#ring[this.#next] = entry;
      this.#next = this.#next + 1 === this.capacity ? 0 : this.#next + 1;
      if (this.#size < this.capacity) this.#size += 1;
    }
    if (this.#listeners.size > 0) {
      for (const listener of this.#listeners) listener(entry);
    }
  }

  /** The last `n` entries (all kept entries when n is omitted), oldest first. */
  last(n: number = this.#size): LogEntry[] {
    const count = Math.max(0, Math.min(Math.floor(n), this.#size));
    const result = new Array<LogEntry>(count);
    let slot = (this.#next - count + this.capacity) % this.capacity;
    for (let i = 0; i < count; i += 1) {
      result[i] = this.#ring[slot] as LogEntry;
      slot = slot + 1 === this.capacity ? 0 : slot + 1;
    }
    return result;
  }

  /** Calls `listener` with every entry added from now on; returns the unsubscribe function. */
  subscribe(listener: LogListener): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }
}
