import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { IMPORT_FORMATS } from '../../reservations/import.js';
import { parseBody } from './body.js';
import { reservationContext, reservationFiles, type RoutesOptions } from './context.js';

const reservation = z.union([
  z.strictObject({ 'hw-address': z.string(), 'ip-address': z.string(), hostname: z.string().optional() }),
  z.strictObject({ 'from-lease': z.string() }),
]);
const importBody = z.strictObject({ format: z.enum(IMPORT_FORMATS), text: z.string(), file: z.string().optional(), dryRun: z.boolean().optional() });

/** An imported file may be far larger than the other bodies. */
const IMPORT_BODY_LIMIT = 4 * 1024 * 1024;

/**
 * The reservations: list, add (or pin a lease), remove, import. Every change is checked,
 * applied to the running kea-dhcp4 through its reload, and undone whole if that fails.
 */
export async function reservationRoutes(app: FastifyInstance, { supervisor }: RoutesOptions): Promise<void> {
  // Loaded at the first request: most supervisors never get one (see BENCHMARKS, RSS).
  const apply = () => import('../../kea/reservations-apply.js');
  app.get('/v1/reservations', async () => ({ reservations: await (await apply()).listReservations(reservationFiles()) }));
  app.post('/v1/reservations', async (request) => {
    const body = parseBody(reservation, request.body, 'POST /v1/reservations');
    return (await apply()).reserve(reservationContext(supervisor), 'from-lease' in body ? { fromLease: body['from-lease'] } : body);
  });
  app.delete('/v1/reservations/:key', async (request) => ({
    removed: await (await apply()).unreserve(reservationContext(supervisor), (request.params as { key: string }).key),
  }));
  app.post('/v1/reservations/import', { bodyLimit: IMPORT_BODY_LIMIT }, async (request) => {
    const body = parseBody(importBody, request.body, 'POST /v1/reservations/import');
    return (await apply()).importReservations(reservationContext(supervisor), body.format, body.text, body.file ?? `the ${body.format} file`, body.dryRun ?? false);
  });
}
