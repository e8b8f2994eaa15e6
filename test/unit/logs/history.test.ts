import { describe, expect, it } from 'vitest';
import { LogHistory, type LogEntry } from '../../../src/logs/history.js';

const entry = (i: number): LogEntry => ({ time: 1000 + i, stream: i % 2 === 0 ? 'stdout' : 'stderr', level: 30, msg: `line ${i}` });
const msgs = (entries: readonly LogEntry[]): string[] => entries.map((e) => e.msg);

describe('LogHistory', () => {
  it('keeps the last `capacity` entries, oldest first, across wrap-around', () => {
    const history = new LogHistory(3);
    expect(history.last()).toEqual([]);
    history.add(entry(1));
    history.add(entry(2));
    expect(msgs(history.last())).toEqual(['line 1', 'line 2']);
    for (let i = 3; i <= 7; i += 1) history.add(entry(i));
    expect(history.size).toBe(3);
    expect(msgs(history.last())).toEqual(['line 5', 'line 6', 'line 7']);
    expect(history.last()[0]).toEqual(entry(5));
  });

  it('returns the last n, clamped to what is kept', () => {
    const history = new LogHistory(5);
    for (let i = 1; i <= 8; i += 1) history.add(entry(i));
    expect(msgs(history.last(2))).toEqual(['line 7', 'line 8']);
    expect(msgs(history.last(50))).toEqual(['line 4', 'line 5', 'line 6', 'line 7', 'line 8']);
    expect(history.last(0)).toEqual([]);
    expect(history.last(-1)).toEqual([]);
  });

  it('keeps nothing with capacity 0 but still tells subscribers', () => {
    const history = new LogHistory(0);
    const seen: LogEntry[] = [];
    history.subscribe((e) => seen.push(e));
    history.add(entry(1));
    expect(history.last()).toEqual([]);
    expect(history.last(3)).toEqual([]);
    expect(msgs(seen)).toEqual(['line 1']);
  });

  it('calls subscribers with each new entry until they unsubscribe', () => {
    const history = new LogHistory(10);
    history.add(entry(0));
    const a: string[] = [];
    const b: string[] = [];
    const stopA = history.subscribe((e) => a.push(e.msg));
    history.subscribe((e) => b.push(e.msg));
    history.add(entry(1));
    stopA();
    stopA(); // harmless twice
    history.add(entry(2));
    expect(a).toEqual(['line 1']);
    expect(b).toEqual(['line 1', 'line 2']);
  });

  it('rejects a negative or fractional capacity', () => {
    expect(() => new LogHistory(-1)).toThrow(RangeError);
    expect(() => new LogHistory(1.5)).toThrow(RangeError);
  });
});
