import type { FastifyInstance } from 'fastify';
import { knotAccess, leaseSockets, type RoutesOptions } from './context.js';

/**
 * GET /v1/leases?search=TEXT: every lease of kea-dhcp4 and (when it runs) kea-dhcp6, with
 * whether its name is in DNS (one zone-read of knotd for them all) and, in a pair, the
 * peer whose pool half holds it.
 */
export async function leaseRoutes(app: FastifyInstance, { supervisor }: RoutesOptions): Promise<void> {
  app.get('/v1/leases', async (request) => {
    // Loaded at the first request, like the reservations' module.
    const [{ listLeases }, { readZones }] = await Promise.all([import('../../kea/leases.js'), import('../../knot/names.js')]);
    const { search } = request.query as { search?: string };
    return listLeases(leaseSockets(supervisor), () => readZones(knotAccess(supervisor)), search);
  });
}
