import { DEFAULT_SOCKET } from './api-client.js';

/** The API socket for client commands: --socket, else KEA_KNOT_SOCKET, else the default. */
export function socketFrom(flag: string | undefined, env: NodeJS.ProcessEnv): string {
  return flag ?? (env.KEA_KNOT_SOCKET || DEFAULT_SOCKET);
}
