import { describe, expect, it } from 'vitest';
import { parseServiceLevel } from '../../../src/logs/levels.js';

describe('parseServiceLevel', () => {
  it('reads the level of Kea lines', () => {
    const kea = (level: string): string =>
      `2024-05-01 12:00:00.123 ${level} [kea-dhcp4.dhcp4/123.139872] DHCP4_STARTED Kea DHCPv4 server version 2.6.1 started`;
    expect(parseServiceLevel(kea('FATAL'))).toBe(60);
    expect(parseServiceLevel(kea('ERROR'))).toBe(50);
    expect(parseServiceLevel(kea('WARN '))).toBe(40);
    expect(parseServiceLevel(kea('INFO '))).toBe(30);
    expect(parseServiceLevel(kea('DEBUG'))).toBe(20);
    // output_options without a timestamp in the pattern
    expect(parseServiceLevel('WARN  [kea-dhcp-ddns.dctl/77.1] DCTL_CONFIG_DEPRECATED ...')).toBe(40);
  });

  it('reads the level of Knot lines, with and without a timestamp', () => {
    expect(parseServiceLevel('2024-05-01T12:00:00+0000 info: [example.com.] zone loaded, serial 2024050101')).toBe(30);
    expect(parseServiceLevel('2024-05-01T12:00:00.123+0200 notice: server started')).toBe(30);
    expect(parseServiceLevel('2024-05-01T12:00:00Z critical: cannot bind 0.0.0.0@53')).toBe(60);
    expect(parseServiceLevel('warning: [example.com.] DNSSEC, key expires soon')).toBe(40);
    expect(parseServiceLevel('error: [example.com.] zone file parser failed')).toBe(50);
    expect(parseServiceLevel('debug: [example.com.] refresh, remote 192.0.2.1@53')).toBe(20);
  });

  it('leaves other lines undefined', () => {
    for (const line of [
      '',
      'hello world',
      'ERROR without a logger name',
      'Error: something threw',
      'info:missing space',
      ' info: leading space',
      'Kea DHCPv4 server, version 2.6.1',
      '2024-05-01 12:00:00.123 something else',
      '2024-05-01 12:00:00.123 info [lowercase kea level]',
      'INFO:  knot level words are lowercase',
    ]) {
      expect(parseServiceLevel(line), line).toBeUndefined();
    }
  });
});
