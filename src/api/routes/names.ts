import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { parseBody } from './body.js';
import { knotAccess, type RoutesOptions } from './context.js';

const nameBody = z.strictObject({ name: z.string(), address: z.string() });

/** Static DNS names (forward and reverse) in knotd, through zone transactions on the primary. */
export async function nameRoutes(app: FastifyInstance, { supervisor }: RoutesOptions): Promise<void> {
  // Loaded at the first request, like the reservations' module.
  const names = () => import('../../knot/names.js');
  app.get('/v1/dns/names', async () => {
    const { readZones, staticNames } = await names();
    return { names: staticNames(await readZones(knotAccess(supervisor))) };
  });
  app.post('/v1/dns/names', async (request) => {
    const body = parseBody(nameBody, request.body, 'POST /v1/dns/names');
    return (await names()).addStaticName(knotAccess(supervisor), body.name, body.address);
  });
  app.delete('/v1/dns/names/:name', async (request) => ({
    removed: await (await names()).removeStaticName(knotAccess(supervisor), (request.params as { name: string }).name),
  }));
}
