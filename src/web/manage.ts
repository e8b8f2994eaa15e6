import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { knotAccess, leaseSockets, reservationContext, reservationFiles } from '../api/routes/context.js';
import { KeaKnotError } from '../errors.js';
import { listLeases } from '../kea/leases.js';
import { changeReservation, listReservations, reserve, unreserve } from '../kea/reservations-apply.js';
import { addStaticName, readZones, removeStaticName, staticNames } from '../knot/names.js';
import { describe, type Reservation } from '../reservations/reservation.js';
import { html, type Html } from './html.js';
import { leasesMain, namesMain, reservationsMain } from './pages/manage.js';
import type { WebContext } from './server.js';

type Form = Record<string, string | undefined>;
const form = (request: FastifyRequest): Form => (request.body ?? {}) as Form;
const field = (request: FastifyRequest, name: string): string => (form(request)[name] ?? '').trim();

/** What a failed change says: the message and its detail lines. */
function failure(error: unknown): string {
  if (error instanceof KeaKnotError) return [error.message, ...error.details].join('\n');
  return (error as Error).message;
}

/**
 * Leases, reservations and DNS names: pages over the same modules as the API routes and
 * the CLI (kea/leases, kea/reservations-apply, knot/names). A change is a POST that sets a
 * one-time notice and redirects back (post/redirect/get), so a reload never repeats it.
 */
export function registerManagePages(app: FastifyInstance, context: WebContext): void {
  const { supervisor } = context;
  context.nav.splice(1, 0, { path: '/leases', label: 'Leases' }, { path: '/reservations', label: 'Reservations' }, { path: '/names', label: 'DNS names' });

  const change = async (request: FastifyRequest, reply: FastifyReply, back: string, run: () => Promise<string>) => {
    const session = request.session!;
    try {
      session.flash = { kind: 'ok', text: await run() };
    } catch (error) {
      session.flash = { kind: 'error', text: failure(error) };
    }
    return reply.code(303).header('location', back).send();
  };
  const flash = (request: FastifyRequest) => {
    const notice = request.session!.flash;
    request.session!.flash = undefined;
    return notice;
  };
  const show = (request: FastifyRequest, reply: FastifyReply, title: string, current: string, body: () => Promise<Html>) =>
    body().then(
      (html) => context.send(reply, request, { title, current, body: html, notice: flash(request) }),
      (error) => context.send(reply, request, { title, current, body: html``, notice: { kind: 'error', text: failure(error) }, status: error instanceof KeaKnotError && error.code === 'E_STATE' ? 503 : 502 }),
    );

  app.get('/leases', async (request, reply) => show(request, reply, 'Leases', '/leases', async () => {
    const search = String((request.query as { search?: string }).search ?? '').slice(0, 200);
    const listing = await listLeases(leaseSockets(supervisor), () => readZones(knotAccess(supervisor)), search);
    const reserved = await listReservations(reservationFiles()).catch(() => [] as Reservation[]);
    return leasesMain(request.session!.csrf, listing, search, new Set(reserved.map((r) => r['ip-address'])), Date.now());
  }));
  app.post('/leases/pin', async (request, reply) => change(request, reply, '/leases', async () => {
    const { changed, reservation } = await reserve(reservationContext(supervisor), { fromLease: field(request, 'address') });
    return changed ? `Pinned: ${describe(reservation)}.` : `Already reserved: ${describe(reservation)}.`;
  }));

  app.get('/reservations', async (request, reply) => show(request, reply, 'Reservations', '/reservations', async () =>
    reservationsMain(request.session!.csrf, await listReservations(reservationFiles()))));
  const input = (request: FastifyRequest) => {
    const hostname = field(request, 'hostname');
    return { 'hw-address': field(request, 'hw-address'), 'ip-address': field(request, 'ip-address'), ...(hostname ? { hostname } : {}) };
  };
  app.post('/reservations', async (request, reply) => change(request, reply, '/reservations', async () => {
    const { changed, reservation } = await reserve(reservationContext(supervisor), input(request));
    return changed ? `Reserved: ${describe(reservation)}.` : `Already reserved: ${describe(reservation)}.`;
  }));
  app.post('/reservations/edit', async (request, reply) => change(request, reply, '/reservations', async () => {
    const { changed, old, reservation } = await changeReservation(reservationContext(supervisor), field(request, 'old'), input(request));
    return changed ? `Changed: ${describe(old)} is now ${describe(reservation)}.` : `Unchanged: ${describe(old)}.`;
  }));
  app.post('/reservations/remove', async (request, reply) => change(request, reply, '/reservations', async () => {
    const removed = await unreserve(reservationContext(supervisor), field(request, 'key'));
    return `Removed: ${describe(removed)}. The device keeps its address until it renews.`;
  }));

  app.get('/names', async (request, reply) => show(request, reply, 'DNS names', '/names', async () =>
    namesMain(request.session!.csrf, staticNames(await readZones(knotAccess(supervisor))))));
  app.post('/names', async (request, reply) => change(request, reply, '/names', async () => {
    const { changed, name } = await addStaticName(knotAccess(supervisor), field(request, 'name'), field(request, 'address'));
    return changed ? `Added: ${name.name} → ${name.address}${name.reverse ? ' (and its reverse)' : ''}.` : `${name.name} already answers ${name.address}.`;
  }));
  app.post('/names/remove', async (request, reply) => change(request, reply, '/names', async () => {
    const removed = await removeStaticName(knotAccess(supervisor), field(request, 'name'));
    return `Removed: ${removed.map((n) => n.name).join(', ')}.`;
  }));
}
