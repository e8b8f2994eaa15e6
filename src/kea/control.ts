import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { connect } from 'node:net';
import { KeaKnotError } from '../errors.js';

export interface KeaAnswer {
  readonly result: number;
  readonly text?: string;
  readonly arguments?: Record<string, unknown>;
}

/**
 * Sends one command to a Kea daemon's unix control socket and returns its answer.
 * Kea answers with one JSON document and closes the connection.
 */
export function keaCommand(socketPath: string, command: string, args?: Record<string, unknown>, timeoutMs = 10_000): Promise<KeaAnswer> {
  return new Promise((resolve, reject) => {
    const socket = connect({ path: socketPath });
    let text = '';
    let answer: unknown; // set once `text` parses: the whole reply is in
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new KeaKnotError('E_UNAVAILABLE', `Kea did not answer "${command}" on ${socketPath} within ${timeoutMs} ms`));
    }, timeoutMs);
    const finish = () => {
      clearTimeout(timer);
      if (answer === undefined) {
        reject(new KeaKnotError('E_IO', `Kea sent a reply to "${command}" on ${socketPath} that is not JSON: ${text.slice(0, 200)}`));
        return;
      }
      // The control agent wraps answers in a list; a daemon's own socket does not.
      resolve((Array.isArray(answer) ? answer[0] : answer) as KeaAnswer);
    };
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write(JSON.stringify({ command, ...(args ? { arguments: args } : {}) })));
    socket.on('data', (chunk: string) => {
      text += chunk;
      // Kea may not close first: a reply that parses is complete. Tried only when a chunk
      // ends as a document would, so a big reply is not parsed again at every chunk.
      if (!/[}\]]\s*$/.test(chunk)) return;
      try { answer = JSON.parse(text); socket.end(); } catch { /* incomplete yet */ }
    });
    socket.on('end', finish);
    socket.on('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(new KeaKnotError('E_UNAVAILABLE', `cannot reach Kea's control socket ${socketPath}: ${error.code ?? error.message}; is the daemon running?`, { cause: error }));
    });
  });
}

/** Inodes of the UDP sockets bound to `port` in this network namespace. */
function udpInodes(port: number): Set<string> {
  const inodes = new Set<string>();
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  for (const table of ['/proc/net/udp', '/proc/net/udp6']) {
    let text: string;
    try { text = readFileSync(table, 'utf8'); } catch { continue; }
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields[1]?.endsWith(`:${hexPort}`)) inodes.add(fields[9]!);
    }
  }
  return inodes;
}

/**
 * Whether process `pid` holds a UDP socket bound to `port`. A failed Kea reload keeps the
 * old config but closes every DHCP socket while status-get still says all is well, so
 * this is the check that DHCP is really being served.
 */
export function holdsUdpPort(pid: number, port: number): boolean {
  const inodes = udpInodes(port);
  if (inodes.size === 0) return false;
  let fds: string[];
  try { fds = readdirSync(`/proc/${pid}/fd`); } catch { return false; }
  return fds.some((fd) => {
    try {
      const target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      return target.startsWith('socket:[') && inodes.has(target.slice(8, -1));
    } catch { return false; }
  });
}
