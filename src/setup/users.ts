import { readFileSync } from 'node:fs';

/** uid and gid of a local user from /etc/passwd (Node has no getpwnam), or undefined. */
export function lookupUser(name: string): { uid: number; gid: number } | undefined {
  let passwd: string;
  try { passwd = readFileSync('/etc/passwd', 'utf8'); } catch { return undefined; }
  for (const line of passwd.split('\n')) {
    const [user, , uid, gid] = line.split(':');
    if (user === name && uid !== undefined && gid !== undefined) return { uid: Number(uid), gid: Number(gid) };
  }
  return undefined;
}
