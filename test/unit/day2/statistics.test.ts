import { describe, expect, it } from 'vitest';
import { summarise } from '../../../src/kea/statistics.js';

describe("a Kea daemon's statistics summarised", () => {
  it('gives packets and each subnet of a DHCP server', () => {
    const stats = new Map(Object.entries({
      'pkt4-received': 120, 'pkt4-receive-drop': 3,
      'subnet[1].total-addresses': 256, 'subnet[1].assigned-addresses': 12, 'subnet[1].declined-addresses': 1,
      'subnet[2].total-addresses': 10,
    }));
    expect(summarise(stats)).toEqual({
      received: 120, dropped: 3, ddnsFailures: null,
      subnets: [{ subnetId: 1, total: 256, assigned: 12, declined: 1 }, { subnetId: 2, total: 10, assigned: 0, declined: 0 }],
    });
  });

  it("gives the DDNS daemon's failed updates", () => {
    const stats = new Map(Object.entries({ 'ncr-received': 4, 'update-sent': 6, 'update-timeout': 2, 'update-error': 1, 'key[k.].update-error': 1 }));
    expect(summarise(stats)).toEqual({ received: null, dropped: null, subnets: [], ddnsFailures: { timeout: 2, error: 1 } });
  });
});
