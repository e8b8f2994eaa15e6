import { holdsUdpPort, keaCommand } from './control.js';

/**
 * Whether a Kea daemon serves: it answers status-get on its control socket in time and,
 * when `udpPort` is given, its process holds that DHCP port. A Kea whose reload failed
 * answers status-get as if all were well but holds no DHCP socket, so both are needed.
 * Returns null when serving, else why not.
 */
export async function keaNotServing(socket: string, pid: number, udpPort: number | undefined, timeoutMs: number): Promise<string | null> {
  try {
    const answer = await keaCommand(socket, 'status-get', undefined, timeoutMs);
    if (answer.result !== 0) return `status-get on ${socket} answered result ${answer.result}: ${answer.text ?? ''}`;
  } catch (error) {
    return (error as Error).message;
  }
  if (udpPort !== undefined && !holdsUdpPort(pid, udpPort)) return `it holds no socket on UDP port ${udpPort}, so it answers no DHCP client`;
  return null;
}
