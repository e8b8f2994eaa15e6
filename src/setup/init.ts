import { chmod, chown, mkdir, readdir, rename, rm, stat, symlink } from 'node:fs/promises';
import path from 'node:path';
import { KeaKnotError } from '../errors.js';
import { filesOf, type Paths } from './paths.js';
import { lookupUser } from './users.js';

/** Chowns a directory tree (Knot's storage: zones, journal, timers). */
async function chownTree(dir: string, uid: number, gid: number): Promise<void> {
  await chown(dir, uid, gid);
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) await chownTree(full, uid, gid);
    else if (entry.isFile()) await chown(full, uid, gid);
  }
}

/**
 * What the daemons need before they start, on every container start: runtime dirs (a
 * tmpfs /run is empty), Kea's socket dir with mode 0750 (Kea 2.6.3 refuses any other),
 * and Knot's storage owned by the user it drops to.
 */
export async function prepareRuntime(paths: Paths, knotUser: string, say: (line: string) => void): Promise<void> {
  for (const dir of [paths.KEA_RUN_DIR, `${paths.KEA_RUN_DIR}/lock`, paths.KEA_LIB_DIR]) {
    await mkdir(dir, { recursive: true });
    await chmod(dir, 0o750);
  }
  await mkdir(paths.KEA_CONF_DIR, { recursive: true });
  await mkdir(paths.KNOT_CONF_DIR, { recursive: true });
  for (const dir of [paths.KNOT_RUN_DIR, paths.KNOT_LIB_DIR, filesOf(paths).zonesDir]) await mkdir(dir, { recursive: true });
  if (knotUser) {
    const ids = lookupUser(knotUser);
    if (!ids) throw new KeaKnotError('E_CONFIG', `user ${knotUser} does not exist; create it or set KEA_KNOT_KNOT_USER to an existing user (empty: Knot stays root)`);
    await chown(paths.KNOT_RUN_DIR, ids.uid, ids.gid);
    await chownTree(paths.KNOT_LIB_DIR, ids.uid, ids.gid);
    say(`runtime directories ready; ${paths.KNOT_LIB_DIR} belongs to ${knotUser}`);
  } else {
    say('runtime directories ready');
  }
}

/**
 * The root of the system whose /etc/localtime init may set: the image sets it to /. A
 * container cannot be told from a host reliably (a developer's machine may itself have
 * /.dockerenv, and tests run init on hosts), so nothing is touched unless it is set.
 */
export const SYSTEM_ROOT_VARIABLE = 'KEA_KNOT_ROOT';

/** Points <root>/etc/localtime at TZ's zone, when both are given; daemons then log local time. */
export async function applyTimezone(tz: string | undefined, root: string | undefined, say: (line: string) => void): Promise<void> {
  if (!tz) return;
  if (!root) {
    say(`TZ=${tz}: ${SYSTEM_ROOT_VARIABLE} is not set (not the image), so /etc/localtime is left alone; the daemons read TZ themselves`);
    return;
  }
  const zone = path.join(root, 'usr/share/zoneinfo', tz);
  if (tz.includes('..') || !(await stat(zone).then((s) => s.isFile(), () => false))) {
    say(`TZ=${tz} is not a time zone known here (no ${zone}); keeping UTC`);
    return;
  }
  const localtime = path.join(root, 'etc/localtime');
  const temp = `${localtime}.kea-knot`;
  try {
    await rm(temp, { force: true });
    // Relative, so the link is right both from inside that root and from outside it.
    await symlink(path.join('../usr/share/zoneinfo', tz), temp);
    await rename(temp, localtime);
    say(`time zone ${tz}`);
  } catch (error) {
    await rm(temp, { force: true });
    say(`cannot point ${localtime} at ${zone} for TZ=${tz}: ${(error as Error).message}; the daemons read TZ themselves`);
  }
}
