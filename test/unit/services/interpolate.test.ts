import { describe, expect, it } from 'vitest';
import { interpolateString, interpolateTree } from '../../../src/services/interpolate.js';

describe('interpolateString', () => {
  const env = { DIR: '/etc/kea', EMPTY: '', PORT: '53' };

  it.each([
    ['${DIR}/kea-dhcp4.conf', '/etc/kea/kea-dhcp4.conf'],
    ['${MISSING:-/run/kea}', '/run/kea'],
    ['${EMPTY:-fallback}', 'fallback'],
    ['${EMPTY}', ''],
    ['${DIR:-unused}', '/etc/kea'],
    ['127.0.0.1:${PORT}', '127.0.0.1:53'],
    ['costs $$5', 'costs $5'],
    ['no references', 'no references'],
    ['${MISSING:-}', ''],
    ['$DIR stays literal', '$DIR stays literal'],
  ])('%s -> %s', (text, expected) => {
    expect(interpolateString(text, env)).toEqual({ value: expected, problems: [] });
  });

  it('names an unset variable and how to give it a default', () => {
    const { problems } = interpolateString('${KEA_CONF}', {});
    expect(problems).toEqual([expect.stringContaining('${KEA_CONF} is not set')]);
    expect(problems[0]).toContain('${KEA_CONF:-default}');
  });

  it.each(['${}', '${1BAD}', '${OPEN', '${A B}'])('refuses the malformed reference %s', (text) => {
    expect(interpolateString(text, {}).problems[0]).toContain('is not a valid reference');
  });
});

describe('interpolateTree', () => {
  it('replaces strings at any depth, leaves keys and other values, and reports paths', () => {
    const { value, problems } = interpolateTree(
      { command: ['knotd', '-c', '${CONF:-/etc/knot/knot.conf}'], environment: { TZ: '${TZ}' }, stop_grace: '10s', critical: true },
      { TZ: 'Europe/Berlin' },
    );
    expect(value).toEqual({ command: ['knotd', '-c', '/etc/knot/knot.conf'], environment: { TZ: 'Europe/Berlin' }, stop_grace: '10s', critical: true });
    expect(problems).toEqual([]);
    expect(interpolateTree({ a: [{ b: '${NOPE}' }] }, {}).problems[0]?.path).toEqual(['a', 0, 'b']);
  });
});
