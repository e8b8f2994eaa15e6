import type { FastifyInstance } from 'fastify';
import type { ZoneRecord } from '../../knot/names.js';
import { dhcp4Socket, knotAccess, type RoutesOptions } from './context.js';

/**
 * GET /v1/leases?search=TEXT: every IPv4 lease with whether its name is in DNS (one
 * zone-read of knotd for them all) and, in a pair, the peer whose pool half holds it.
 */
export async function leaseRoutes(app: FastifyInstance, { supervisor }: RoutesOptions): Promise<void> {
  app.get('/v1/leases', async (request) => {
    // Loaded at the first request, like the reservations' module.
    const [{ describeLeases, keaLeases, poolOwners }, { readZones }] = await Promise.all([import('../../kea/leases.js'), import('../../knot/names.js')]);
    const { search } = request.query as { search?: string };
    const { leases, dhcp4 } = await keaLeases(dhcp4Socket(supervisor));
    let records: ZoneRecord[] | undefined;
    let dnsError: string | undefined;
    try { records = await readZones(knotAccess(supervisor)); } catch (error) { dnsError = (error as Error).message; }
    const owners = poolOwners(dhcp4);
    return {
      leases: describeLeases(leases, owners, records, search),
      dns: dnsError === undefined ? { checked: true } : { checked: false, error: dnsError },
      ha: owners.length > 0,
    };
  });
}
