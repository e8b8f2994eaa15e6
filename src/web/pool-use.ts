import { keaCommand } from '../kea/control.js';
import type { KeaTarget } from '../kea/targets.js';

export interface PoolUse {
  readonly service: string;
  readonly subnetId: number;
  /** The subnet's prefix from the daemon's running configuration ('' when unknown). */
  readonly subnet: string;
  readonly total: number;
  readonly assigned: number;
  readonly declined: number;
}

type Samples = Record<string, [number, string][] | undefined>;

/**
 * Addresses in use per subnet, from the Kea daemons' own statistics (statistic-get-all)
 * and their running configuration (config-get, of which only subnet ids and prefixes are
 * read). A daemon that does not answer is left out. With HA, each node counts the leases
 * it holds, its partner's included (lease updates reach both).
 */
export async function readPoolUse(targets: readonly KeaTarget[], timeoutMs = 2000): Promise<PoolUse[]> {
  const per = await Promise.all(targets.filter((t) => t.service === 'kea-dhcp4' || t.service === 'kea-dhcp6').map(async (target) => {
    try {
      const [stats, config] = await Promise.all([
        keaCommand(target.socket, 'statistic-get-all', undefined, timeoutMs),
        keaCommand(target.socket, 'config-get', undefined, timeoutMs),
      ]);
      if (stats.result !== 0) return [];
      const v6 = target.service === 'kea-dhcp6';
      const root = (config.arguments?.[v6 ? 'Dhcp6' : 'Dhcp4'] ?? {}) as Record<string, unknown>;
      const subnets = (root[v6 ? 'subnet6' : 'subnet4'] ?? []) as { id?: number; subnet?: string }[];
      const prefixes = new Map(subnets.filter((s) => typeof s.id === 'number').map((s) => [s.id!, String(s.subnet ?? '')]));
      const samples = (stats.arguments ?? {}) as Samples;
      const value = (name: string) => {
        const v = samples[name]?.[0]?.[0];
        return typeof v === 'number' ? v : 0;
      };
      const ids = new Set<number>();
      for (const name of Object.keys(samples)) {
        const id = /^subnet\[(\d+)\]\.total-(?:addresses|nas)$/.exec(name)?.[1];
        if (id !== undefined) ids.add(Number(id));
      }
      return [...ids].sort((a, b) => a - b).map((id): PoolUse => ({
        service: target.service,
        subnetId: id,
        subnet: prefixes.get(id) ?? '',
        total: value(`subnet[${id}].total-${v6 ? 'nas' : 'addresses'}`),
        assigned: value(`subnet[${id}].assigned-${v6 ? 'nas' : 'addresses'}`),
        declined: value(`subnet[${id}].declined-addresses`),
      }));
    } catch {
      return [];
    }
  }));
  return per.flat();
}
