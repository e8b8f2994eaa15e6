import { link, mkdir, mkdtemp, open, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { KeaKnotError } from '../errors.js';
import { describeResult, runCommand } from '../supervisor/run-command.js';
import { agentConfig, ddnsConfig, dhcp4Config, dhcp6Config } from './kea-config.js';
import { haPassword } from './ha.js';
import { knotConfig, zoneFiles } from './knot-config.js';
import { filesOf, type Paths } from './paths.js';
import type { SetupSettings } from './settings.js';
import { derivedTsigKey, generateTsigKey } from './tsig.js';
import { withoutSecrets } from './secrets.js';
import { lookupUser } from './users.js';

export interface PlannedFile {
  readonly path: string;
  readonly content: string;
  readonly mode: number;
  /** The daemon user that must own it (Knot rewrites its zone files; it reads knot.conf). */
  readonly owner?: { readonly user: string; readonly group: boolean };
  /** How to validate it, given the staged copy's path; undefined for none. */
  readonly check?: (staged: string) => string[];
  /** Directories it names that must exist (Kea 2.2's data-directory): made by installPlan. */
  readonly dirs?: readonly string[];
}

const json = (config: object) => `${JSON.stringify(config, null, 2)}\n`;

/** Every file of a working configuration, generated together so they agree. */
export function planSetup(s: SetupSettings, paths: Paths): PlannedFile[] {
  const files = filesOf(paths);
  // A pair derives its keys from the shared secret, so both nodes hold the same ones.
  const key = s.ha ? derivedTsigKey(s.ha.secret, 'kea-knot-ddns') : generateTsigKey();
  const xfrKey = s.ha ? derivedTsigKey(s.ha.secret, 'kea-knot-xfr') : undefined;
  // With a pair, kea-dhcp4.conf and kea-ctrl-agent.conf hold the HA password.
  const keaMode = s.ha ? 0o600 : 0o644;
  const knotOwner = s.knotUser ? { user: s.knotUser, group: true } : undefined;
  const plan: PlannedFile[] = [
    { path: files.dhcp4Conf, content: json(dhcp4Config(s, paths)), mode: keaMode, check: (f) => ['kea-dhcp4', '-t', f] },
    { path: files.ddnsConf, content: json(ddnsConfig(s, paths, key)), mode: 0o600, check: (f) => ['kea-dhcp-ddns', '-t', f] },
    // Kea 3.0's peers talk to kea-dhcp4 itself: no control agent.
    ...(s.kea.ownHttpSocket ? [] : [{ path: files.agentConf, content: json(agentConfig(s, paths)), mode: keaMode, check: (f: string) => ['kea-ctrl-agent', '-t', f] }]),
    { path: files.knotConf, content: knotConfig(s, paths, key, xfrKey), mode: knotOwner ? 0o640 : 0o600, ...(knotOwner ? { owner: knotOwner } : {}), check: (f) => ['knotc', '-c', f, 'conf-check'] },
    ...(s.kea.secretFiles ? [
      { path: files.tsigSecret, content: `${key.secret}\n`, mode: 0o600 },
      ...(s.ha ? [{ path: files.haPassword, content: `${haPassword(s.ha)}\n`, mode: 0o600 }] : []),
    ] : []),
  ];
  const v6 = dhcp6Config(s, paths) as { Dhcp6: { 'data-directory'?: string } } | undefined;
  if (v6) {
    const dataDir = v6.Dhcp6['data-directory'];
    plan.splice(1, 0, {
      path: files.dhcp6Conf, content: json(v6), mode: 0o644, check: (f) => ['kea-dhcp6', '-t', f],
      ...(dataDir === undefined ? {} : { dirs: [dataDir] }),
    });
  }
  for (const [name, content] of zoneFiles(s)) {
    plan.push({
      path: path.join(files.zonesDir, name), content, mode: 0o644, ...(knotOwner ? { owner: { user: s.knotUser, group: false } } : {}),
      check: (f) => ['kzonecheck', '-o', name.replace(/\.zone$/, '.'), f],
    });
  }
  return plan;
}

/**
 * Runs each daemon's own checker on a staged copy of every file; throws E_CHECK_FAILED
 * listing every failure with the checker's words. Nothing is written to the real paths.
 */
export async function validatePlan(plan: readonly PlannedFile[], paths: Paths): Promise<void> {
  const stage = await mkdtemp(path.join(tmpdir(), 'kea-knot-setup-'));
  try {
    const failures: string[] = [];
    // Every file staged first, and the checked ones pointing at the staged copies of the
    // others (a configuration names its secret files), so nothing real is read.
    const stagedPath = (file: PlannedFile) => path.join(stage, path.basename(file.path));
    // A directory to be made by the install is checked as an empty one in the stage.
    const missing: string[] = [];
    for (const dir of new Set(plan.flatMap((f) => f.dirs ?? []))) if (!(await exists(dir))) missing.push(dir);
    const moved: [real: string, staged: string][] = [
      ...plan.map((f): [string, string] => [f.path, stagedPath(f)]),
      ...missing.map((dir, i): [string, string] => [dir, path.join(stage, `dir-${i}`)]),
    ];
    await Promise.all(missing.map((_, i) => mkdir(path.join(stage, `dir-${i}`))));
    const forCheck = (content: string) => moved.reduce((text, [real, staged]) => text.replaceAll(real, staged), content);
    await Promise.all(plan.map((file) => writeFile(stagedPath(file), forCheck(file.content), { mode: 0o600 })));
    await Promise.all(plan.map(async (file) => {
      if (!file.check) return;
      const staged = stagedPath(file);
      const argv = file.check(staged);
      // As services.d runs the daemons: Kea 2.6.3+ accepts sockets and leases only there.
      const env = { ...withoutSecrets(process.env), KEA_PIDFILE_DIR: stage, KEA_LOCKFILE_DIR: stage, KEA_CONTROL_SOCKET_DIR: paths.KEA_RUN_DIR, KEA_DHCP_DATA_DIR: paths.KEA_LIB_DIR };
      const result = await runCommand(argv, { timeoutMs: 30_000, env });
      if (result.code !== 0) {
        const real = (line: string) => moved.reduce((text, [back, staged]) => text.replaceAll(staged, back), line);
        failures.push(`${file.path}: ${describeResult([argv[0]!], result)}`, ...result.output.split('\n').filter(Boolean).map((line) => `    ${real(line)}`));
      }
    }));
    if (failures.length > 0) {
      throw new KeaKnotError('E_CHECK_FAILED', 'the daemons\' own checkers refused the generated configuration; nothing was written', { details: failures });
    }
  } finally {
    await rm(stage, { recursive: true, force: true });
  }
}

export async function exists(file: string): Promise<boolean> {
  return stat(file).then(() => true, () => false);
}

/** Opens a directory and fsyncs it, so the names renamed into it survive a power cut. */
async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try { await handle.sync(); } finally { await handle.close(); }
}

/**
 * Installs the whole plan or nothing. Every precondition first (no file present unless
 * `force`, every owner exists, no target is a directory); then every file is staged
 * next to its target (written, fsynced, its mode and owner set), and only when all are
 * staged are they renamed into place and their directories fsynced. A failure while
 * staging leaves the previous files as they were; one while renaming puts back what was
 * already replaced (from hard links kept until the end), so no mix of old and new remains.
 */
export async function installPlan(plan: readonly PlannedFile[], force: boolean): Promise<void> {
  const present = (await Promise.all(plan.map(async (f) => ((await exists(f.path)) ? f.path : undefined)))).filter((f): f is string => f !== undefined);
  if (present.length > 0 && !force) {
    throw new KeaKnotError('E_STATE', `${present.length} file${present.length === 1 ? '' : 's'} already exist; nothing was written (use --force to replace them, which also makes a new TSIG key)`, { details: present });
  }
  const owners = new Map<string, { uid: number; gid: number }>();
  for (const file of plan) {
    if (!file.owner || owners.has(file.owner.user)) continue;
    const ids = lookupUser(file.owner.user);
    if (!ids) throw new KeaKnotError('E_CONFIG', `user ${file.owner.user} (who must own ${file.path}) does not exist here; nothing was written. Create the user, or set --knot-user (KEA_KNOT_KNOT_USER) to an existing one or '' to keep Knot as root`);
    owners.set(file.owner.user, ids);
  }
  for (const target of present) {
    if ((await stat(target)).isDirectory()) throw new KeaKnotError('E_STATE', `${target} is a directory, not a file; nothing was written. Move it away and run setup again`);
  }

  const suffix = `.kea-knot-${process.pid}`;
  const staged: { file: PlannedFile; temp: string; backup?: string }[] = [];
  const cleanUp = () => Promise.all(staged.flatMap((s) => [rm(s.temp, { force: true }), ...(s.backup ? [rm(s.backup, { force: true })] : [])]));
  try {
    for (const dir of plan.flatMap((f) => f.dirs ?? [])) await mkdir(dir, { recursive: true });
    for (const file of plan) {
      await mkdir(path.dirname(file.path), { recursive: true });
      const entry: (typeof staged)[number] = { file, temp: path.join(path.dirname(file.path), `.${path.basename(file.path)}${suffix}.tmp`) };
      staged.push(entry);
      const handle = await open(entry.temp, 'w', file.mode);
      try {
        await handle.writeFile(file.content);
        await handle.chmod(file.mode);
        if (file.owner) {
          const ids = owners.get(file.owner.user)!;
          // knot.conf stays root's, readable by the knot group; zone files belong to knot.
          await handle.chown(file.owner.group ? 0 : ids.uid, ids.gid);
        }
        await handle.sync();
      } finally { await handle.close(); }
      if (present.includes(file.path)) {
        entry.backup = path.join(path.dirname(file.path), `.${path.basename(file.path)}${suffix}.old`);
        await link(file.path, entry.backup);
      }
    }
  } catch (error) {
    await cleanUp();
    throw installError('nothing was written; the previous files are as they were', error);
  }

  const dirs = [...new Set(plan.map((f) => path.dirname(f.path)))];
  const renamed: (typeof staged)[number][] = [];
  try {
    for (const entry of staged) {
      await rename(entry.temp, entry.file.path);
      renamed.push(entry);
    }
    for (const dir of dirs) await syncDir(dir);
  } catch (error) {
    for (const entry of renamed.reverse()) {
      await (entry.backup ? rename(entry.backup, entry.file.path) : rm(entry.file.path, { force: true })).catch(() => undefined);
    }
    await cleanUp();
    await Promise.all(dirs.map((dir) => syncDir(dir).catch(() => undefined)));
    throw installError('the files already replaced were put back', error);
  }
  await cleanUp();
}

function installError(outcome: string, error: unknown): KeaKnotError {
  if (error instanceof KeaKnotError) return error;
  const failed = error as NodeJS.ErrnoException;
  return new KeaKnotError('E_IO', `installing the configuration failed${failed.path ? ` at ${failed.path}` : ''}: ${failed.message}; ${outcome}. Make the directory writable and run setup again`, { cause: error });
}
