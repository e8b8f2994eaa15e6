import { keaCommand } from '../kea/control.js';
import { readStatistics, summarise, type SubnetUse } from '../kea/statistics.js';
import type { KeaTarget } from '../kea/targets.js';

export interface PoolUse extends SubnetUse {
  readonly service: string;
  /** The subnet's prefix from the daemon's running configuration ('' when unknown). */
  readonly subnet: string;
}

/**
 * Addresses in use per subnet of each DHCP daemon: the same statistics as /metrics and
 * GET /v1/kea/statistics (kea/statistics.ts), with each subnet's prefix from config-get (of
 * which only subnet ids and prefixes are read). A daemon that does not answer is left out.
 */
export async function readPoolUse(targets: readonly KeaTarget[], timeoutMs = 2000): Promise<PoolUse[]> {
  const per = await Promise.all(targets.filter((t) => t.service === 'kea-dhcp4' || t.service === 'kea-dhcp6').map(async (target) => {
    try {
      const [statistics, config] = await Promise.all([readStatistics(target.socket, timeoutMs), keaCommand(target.socket, 'config-get', undefined, timeoutMs)]);
      const v6 = target.service === 'kea-dhcp6';
      const root = (config.arguments?.[v6 ? 'Dhcp6' : 'Dhcp4'] ?? {}) as Record<string, unknown>;
      const subnets = (root[v6 ? 'subnet6' : 'subnet4'] ?? []) as { id?: number; subnet?: string }[];
      const prefixes = new Map(subnets.filter((s) => typeof s.id === 'number').map((s) => [s.id!, String(s.subnet ?? '')]));
      return summarise(statistics).subnets.map((use): PoolUse => ({ ...use, service: target.service, subnet: prefixes.get(use.subnetId) ?? '' }));
    } catch {
      return [];
    }
  }));
  return per.flat();
}
