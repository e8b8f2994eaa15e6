import { KeaKnotError } from '../../errors.js';
import type { ReservationContext, ReservationFiles } from '../../kea/reservations-apply.js';
import { keaTargets } from '../../kea/targets.js';
import type { KnotAccess } from '../../knot/names.js';
import { filesOf, pathsFrom } from '../../setup/paths.js';
import type { Supervisor } from '../../supervisor/supervisor.js';

/** What the lease, reservation and name routes get from the supervisor. */
export interface RoutesOptions {
  readonly supervisor: Supervisor;
}

function notShuttingDown(supervisor: Supervisor): void {
  if (supervisor.shuttingDown) throw new KeaKnotError('E_STATE', 'the supervisor is shutting down');
}

/** The ready kea-dhcp4's control socket; E_STATE when it is not ready (nothing can be asked or applied). */
export function dhcp4Socket(supervisor: Supervisor): string {
  notShuttingDown(supervisor);
  const target = keaTargets(supervisor).find((t) => t.service === 'kea-dhcp4');
  if (!target) throw new KeaKnotError('E_STATE', 'kea-dhcp4 is not ready (kea-knot status says why); start it and retry');
  return target.socket;
}

/** Where the lease listing asks: kea-dhcp4 (which must be ready), kea-dhcp6 while it is ready. */
export function leaseSockets(supervisor: Supervisor): { dhcp4: string; dhcp6?: string } {
  const dhcp6 = keaTargets(supervisor).find((t) => t.service === 'kea-dhcp6')?.socket;
  return { dhcp4: dhcp4Socket(supervisor), ...(dhcp6 === undefined ? {} : { dhcp6 }) };
}

/** The files (the same path table as setup) and the kea-dhcp4 service's own reload. */
export function reservationContext(supervisor: Supervisor): ReservationContext {
  const socket = dhcp4Socket(supervisor);
  const runner = supervisor.runner('kea-dhcp4');
  return { files: reservationFiles(), socket, reload: () => runner.reload() };
}

/** kea-dhcp4.conf, the store and the included list, from the supervisor's environment like setup's. */
export function reservationFiles(): ReservationFiles {
  const files = filesOf(pathsFrom(process.env));
  return { conf: files.dhcp4Conf, store: files.reservationsStore, include: files.reservations4 };
}

/** knotd's control socket (its readiness probe's), when knot is ready. */
export function knotAccess(supervisor: Supervisor): KnotAccess {
  notShuttingDown(supervisor);
  const runner = supervisor.runners.get('knot');
  const socket = runner?.spec.ready?.knot;
  if (!runner || socket === undefined) throw new KeaKnotError('E_STATE', 'services.d has no knot service with a `ready: knot:` control socket; static names need it');
  if (runner.state !== 'ready') throw new KeaKnotError('E_STATE', `knot is ${runner.state}, not ready; start it and retry`);
  return { socket };
}
