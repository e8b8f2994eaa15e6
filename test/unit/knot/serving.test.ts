import { describe, expect, it } from 'vitest';
import { parseListen, parseZoneStatus } from '../../../src/knot/serving.js';

describe('knotc output', () => {
  it('reads zone-status: a loaded primary, and a secondary not transferred yet', () => {
    // As knotc 3.2 prints it.
    const text = '[home.arpa.] role: master | serial: 7\n[sec.arpa.] role: slave | serial: - | refresh: +1s\n';
    expect(parseZoneStatus(text)).toEqual([
      { zone: 'home.arpa.', role: 'master', serial: 7 },
      { zone: 'sec.arpa.', role: 'slave', serial: null },
    ]);
  });

  it('takes the first listen address, and asks a wildcard on loopback', () => {
    expect(parseListen('server.listen = 127.0.0.1@15353 ::1@15353')).toBe('127.0.0.1:15353');
    expect(parseListen('server.listen = 0.0.0.0@53 ::@53')).toBe('127.0.0.1:53');
    expect(parseListen('server.listen = ::@53')).toBe('[::1]:53');
    expect(parseListen('server.listen = 192.0.2.1')).toBe('192.0.2.1:53');
    expect(parseListen('server.listen =')).toBeNull();
  });
});
