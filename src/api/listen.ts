import { chown, lstat, mkdir, unlink } from 'node:fs/promises';
import { connect } from 'node:net';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { KeaKnotError } from '../errors.js';
import { parseHostPort } from '../host-port.js';

/** Whether something accepts connections on the unix socket. */
function socketAnswers(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ path: socketPath });
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('error', () => resolve(false));
  });
}

/**
 * Listens on a unix socket that only root (and `group`, if given) can use: the API can
 * stop DHCP and DNS, so it is for someone already inside the container. A socket file
 * left by an earlier run is replaced; a live one means another supervisor runs.
 */
export async function listenUnix(app: FastifyInstance, socketPath: string, group?: number): Promise<void> {
  await mkdir(path.dirname(socketPath), { recursive: true, mode: 0o755 });
  const existing = await lstat(socketPath).catch(() => undefined);
  if (existing) {
    if (!existing.isSocket()) throw new KeaKnotError('E_IO', `${socketPath} exists and is not a socket; remove it or set KEA_KNOT_SOCKET elsewhere`);
    if (await socketAnswers(socketPath)) throw new KeaKnotError('E_IO', `another supervisor already answers on ${socketPath}; stop it or set KEA_KNOT_SOCKET elsewhere`);
    await unlink(socketPath);
  }
  // The umask makes the socket private from its creation: no window before a chmod.
  const previous = process.umask(group === undefined ? 0o177 : 0o117);
  try {
    await app.listen({ path: socketPath });
  } finally {
    process.umask(previous);
  }
  if (group !== undefined) await chown(socketPath, 0, group);
}

/** The optional TCP listener; the app given must require a token. */
export async function listenTcp(app: FastifyInstance, address: string): Promise<void> {
  await app.listen(parseHostPort(address));
}
