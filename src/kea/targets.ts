import type { Supervisor } from '../supervisor/supervisor.js';

/** One Kea daemon to ask: the service, its control socket and the pid of the daemon answering. */
export interface KeaTarget {
  readonly service: string;
  readonly socket: string;
  readonly pid: number;
}

/** The Kea daemons that can be asked now: ready services with a kea_control_socket. */
export function keaTargets(supervisor: Supervisor): KeaTarget[] {
  return [...supervisor.runners.values()].flatMap((runner) => {
    const socket = runner.spec.kea_control_socket;
    const pid = runner.pid;
    return socket !== undefined && runner.state === 'ready' && pid !== null ? [{ service: runner.spec.name, socket, pid }] : [];
  });
}
