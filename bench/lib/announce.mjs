// The harness end of the fixtures' announcements: a unix stream socket server.
// Each fixture connects at start, sends "<name> <pid> <monotonic-ns>\n" and keeps the
// connection open until it dies; the kernel closes it then, which marks the process gone.
import { createServer } from 'node:net';
import { EventEmitter } from 'node:events';

const now = () => process.hrtime.bigint(); // CLOCK_MONOTONIC, the fixtures' clock too

export class Announcements extends EventEmitter {
  constructor(path) {
    super();
    this.path = path;
    /** pid -> { name, pid, startNs, recvNs, goneNs } */
    this.byPid = new Map();
    this.server = createServer((socket) => this.#accept(socket));
  }

  listen() {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.path, () => resolve());
    });
  }

  close() {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  #accept(socket) {
    let text = '';
    let record = null;
    const gone = () => {
      if (!record || record.goneNs !== null) return;
      record.goneNs = now();
      this.emit('gone', record);
    };
    socket.setEncoding('utf8');
    socket.on('data', (chunk) => {
      if (record) return;
      const recvNs = now();
      text += chunk;
      const nl = text.indexOf('\n');
      if (nl < 0) return;
      const [name, pid, ns] = text.slice(0, nl).split(' ');
      record = { name, pid: Number(pid), startNs: BigInt(ns), recvNs, goneNs: null };
      this.byPid.set(record.pid, record);
      this.emit('announce', record);
    });
    socket.on('end', gone);
    socket.on('close', gone);
    socket.on('error', gone);
  }

  /** Live (announced, not gone) records. */
  live() {
    return [...this.byPid.values()].filter((r) => r.goneNs === null);
  }

  /** Resolves with the first announcement satisfying `predicate` (already seen ones count). */
  waitAnnounce(predicate, timeoutMs, what = 'announcement') {
    for (const record of this.byPid.values()) if (predicate(record)) return Promise.resolve(record);
    return this.#waitEvent('announce', predicate, timeoutMs, what);
  }

  /** Resolves once every pid in `pids` is gone; with the latest gone time. */
  async waitGone(pids, timeoutMs) {
    const pending = new Set(pids.filter((pid) => this.byPid.get(pid)?.goneNs === null));
    if (pending.size) {
      await this.#waitEvent('gone', (r) => { pending.delete(r.pid); return pending.size === 0; }, timeoutMs, `exit of pids ${[...pending].join(',')}`);
    }
    return pids.reduce((latest, pid) => {
      const t = this.byPid.get(pid)?.goneNs ?? 0n;
      return t > latest ? t : latest;
    }, 0n);
  }

  #waitEvent(event, predicate, timeoutMs, what) {
    return new Promise((resolve, reject) => {
      const onEvent = (record) => {
        if (!predicate(record)) return;
        clearTimeout(timer);
        this.off(event, onEvent);
        resolve(record);
      };
      const timer = setTimeout(() => {
        this.off(event, onEvent);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      this.on(event, onEvent);
    });
  }
}
