import pino from 'pino';

type SonicBoom = ReturnType<typeof pino.destination>;

/**
 * An asynchronous writer on one fd (sonic-boom: writes run on libuv's thread pool, so a
 * blocked reader never stalls the event loop) that counts the bytes accepted but not
 * yet written, the measure the output's drop policy works on.
 *
 * Buffer mode: each string is encoded once here; in utf8 mode sonic-boom measures and
 * re-encodes every string up to three times (measured: 1.8 M vs 2.4 M lines/s).
 */
export class QueuedDestination {
  readonly #boom: SonicBoom;
  #queued = 0;
  #closed = false;
  readonly #onWritten: () => void;
  readonly #idleWaiters = new Set<() => void>();
  /** Accepted in this turn of the event loop, written together at its end. */
  #pending: Buffer[] = [];

  /** `onWritten` runs after each completed write, when `queuedBytes` has gone down. */
  constructor(fd: number, onWritten: () => void) {
    this.#onWritten = onWritten;
    // `dest`, not `fd`: for a missing `dest` pino reads process.stdout.fd, which turns fd 1
    // non-blocking, and sonic-boom then sleeps 100 ms on every EAGAIN of a full pipe.
    this.#boom = pino.destination({ dest: fd, sync: false, contentMode: 'buffer', maxWrite: 1024 * 1024 });
    this.#boom.on('write', (bytes: number) => {
      this.#queued = Math.max(0, this.#queued - bytes);
      // sonic-boom emits 'write' before updating its own buffers: react after it returns.
      queueMicrotask(this.#afterWrite);
    });
    // A failed write stays queued and is retried with the next one; while the fd keeps
    // failing the queue stays full and the output drops (and counts) lines. Without this
    // listener the error would be thrown and end the supervisor.
    this.#boom.on('error', () => {});
  }

  get queuedBytes(): number {
    return this.#queued;
  }

  /**
   * A string is encoded here; a Buffer is taken as it is (the caller must not reuse it).
   * What is written in one turn of the event loop (the pipes woken together, the
   * supervisor's own records) goes out as one write at its end: each write is a trip to
   * the thread pool and back.
   */
  write(data: string | Buffer): void {
    if (this.#closed || data.length === 0) return;
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    this.#queued += bytes.length;
    if (this.#pending.push(bytes) === 1) setImmediate(this.#writePending);
  }

  readonly #writePending = (): void => {
    const pending = this.#pending;
    if (pending.length === 0) return;
    this.#pending = [];
    const bytes = pending.length === 1 ? (pending[0] as Buffer) : Buffer.concat(pending);
    this.#boom.write(bytes as unknown as string); // sonic-boom's types omit buffer mode
  };

  /** Resolves once everything queued is written, or after `timeoutMs`. */
  waitIdle(timeoutMs: number): Promise<void> {
    if (this.#queued === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.#idleWaiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.#idleWaiters.add(done);
    });
  }

  /** Stops accepting writes; what is queued is still written, then the fd is closed (unless it is 1 or 2). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#writePending();
    this.#boom.end();
  }

  readonly #afterWrite = (): void => {
    this.#onWritten();
    if (this.#queued === 0) {
      for (const done of [...this.#idleWaiters]) done();
    }
  };
}
