import { describe, expect, it } from 'vitest';
import { errorsFirst } from '../../../src/supervisor/check.js';

describe('errorsFirst', () => {
  it('puts the line that says what is wrong before the INFO lines Kea prints first', () => {
    const kea = [
      '2026-12-03 06:20:42.856 INFO  [kea-dhcp4.dhcpsrv/29114] DHCPSRV_CFGMGR_ADD_IFACE listening on interface lo',
      '2026-12-03 06:20:42.856 ERROR [kea-dhcp4.dhcp4/29114] DHCP4_PARSER_FAIL failed to create or run parser for configuration element subnet4',
      'Error encountered: subnet configuration failed: Invalid subnet syntax (prefix/len expected):x (bad.json:4:22)',
      '',
    ].join('\n');
    const lines = errorsFirst(kea);
    expect(lines[0]).toContain('DHCP4_PARSER_FAIL');
    expect(lines[1]).toMatch(/^Error encountered/);
    expect(lines[2]).toContain('DHCPSRV_CFGMGR_ADD_IFACE');
    expect(lines).toHaveLength(3);
  });

  it('keeps Knot\'s one error line and plain output as they are', () => {
    expect(errorsFirst("error: config, file 'knot.conf', line 3, item 'zon', value '' (invalid item)")).toEqual(["error: config, file 'knot.conf', line 3, item 'zon', value '' (invalid item)"]);
    expect(errorsFirst('broken line 7\nmore')).toEqual(['broken line 7', 'more']);
  });
});
