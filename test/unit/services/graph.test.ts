import { describe, expect, it } from 'vitest';
import { findCycle, startLayers, startable, stoppable } from '../../../src/services/graph.js';

const stack = new Map<string, string[]>([
  ['init', []],
  ['knot', ['init']],
  ['kea-dhcp-ddns', ['knot']],
  ['kea-dhcp4', ['init']],
  ['kea-ctrl-agent', ['kea-dhcp4', 'kea-dhcp-ddns']],
  ['logger', []],
]);

describe('dependency order', () => {
  it('starts independent services together, each after its dependencies', () => {
    expect(startLayers(stack)).toEqual([['init', 'logger'], ['kea-dhcp4', 'knot'], ['kea-dhcp-ddns'], ['kea-ctrl-agent']]);
  });

  it('lets a service start only when every dependency is satisfied', () => {
    expect(startable(stack, ['kea-ctrl-agent', 'knot'], new Set(['init', 'kea-dhcp4']))).toEqual(['knot']);
    expect(startable(stack, ['kea-ctrl-agent'], new Set(['kea-dhcp4', 'kea-dhcp-ddns']))).toEqual(['kea-ctrl-agent']);
  });

  it('stops dependents before what they depend on', () => {
    const all = new Set(stack.keys());
    expect(stoppable(stack, all).sort()).toEqual(['kea-ctrl-agent', 'logger']);
    expect(stoppable(stack, new Set(['init', 'knot', 'kea-dhcp4'])).sort()).toEqual(['kea-dhcp4', 'knot']);
    expect(stoppable(stack, new Set(['init']))).toEqual(['init']);
  });

  it('finds cycles, including long ones, and says none when there is none', () => {
    expect(findCycle(stack)).toBeNull();
    expect(findCycle(new Map([['a', ['b']], ['b', ['a']]]))).toEqual(['a', 'b', 'a']);
    expect(findCycle(new Map([['x', []], ['a', ['b']], ['b', ['c']], ['c', ['d']], ['d', ['b']]]))).toEqual(['b', 'c', 'd', 'b']);
    expect(() => startLayers(new Map([['a', ['b']], ['b', ['a']]]))).toThrow(/cycle/);
  });
});
