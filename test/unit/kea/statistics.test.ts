import { describe, expect, it } from 'vitest';
import { dropGrowth, type DropStatistic } from '../../../src/kea/statistics.js';

const counts = (entries: Partial<Record<DropStatistic, number>>) => new Map(Object.entries(entries) as [DropStatistic, number][]);

describe('dropGrowth', () => {
  it('gives only the counters that grew, by how much', () => {
    expect(dropGrowth(counts({ 'pkt4-parse-failed': 2, 'pkt4-receive-drop': 5 }), counts({ 'pkt4-parse-failed': 2, 'pkt4-receive-drop': 7 })))
      .toEqual(counts({ 'pkt4-receive-drop': 2 }));
  });

  it('counts a first look (or a new daemon) from 0', () => {
    expect(dropGrowth(new Map(), counts({ 'pkt6-parse-failed': 0, 'pkt6-receive-drop': 3 }))).toEqual(counts({ 'pkt6-receive-drop': 3 }));
  });

  it('takes a counter lower than before as reset, counting from 0 again', () => {
    expect(dropGrowth(counts({ 'pkt4-receive-drop': 9 }), counts({ 'pkt4-receive-drop': 0 }))).toEqual(new Map());
    expect(dropGrowth(counts({ 'pkt4-receive-drop': 9 }), counts({ 'pkt4-receive-drop': 2 }))).toEqual(counts({ 'pkt4-receive-drop': 2 }));
  });
});
