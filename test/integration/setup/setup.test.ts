import { execFile } from 'node:child_process';
import { copyFile, lstat, mkdir, mkdtemp, readFile, readdir, readlink, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CLI } from '../../helpers/supervisor-process.js';

let root: string;
let env: NodeJS.ProcessEnv;
beforeEach(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'kk-setup-'));
  env = {
    KEA_CONF_DIR: `${root}/etc/kea`, KNOT_CONF_DIR: `${root}/etc/knot`, KEA_RUN_DIR: `${root}/run/kea`,
    KNOT_RUN_DIR: `${root}/run/knot`, KEA_LIB_DIR: `${root}/lib/kea`, KNOT_LIB_DIR: `${root}/lib/knot`,
    // lo exists in every namespace; the checker only needs the interface to exist.
    KEA_KNOT_INTERFACE: 'lo', KEA_KNOT_KNOT_USER: '',
  };
});
afterEach(async () => { await rm(root, { recursive: true, force: true }); });

function kk(args: string[], extra: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env: { ...process.env, ...env, ...extra } }, (error, stdout, stderr) => {
      resolve({ code: error ? (error.code as number) : 0, stdout, stderr });
    });
  });
}

function check(argv: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(argv[0]!, argv.slice(1), (error, stdout, stderr) => resolve({ code: error ? (error.code as number) : 0, output: stdout + stderr }));
  });
}

async function allFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) if (entry.isFile()) out.push(path.join(entry.parentPath, entry.name));
  return out.sort();
}

const SETTINGS = ['--domain', 'home.test', '--subnet', '192.0.2.0/24', '--address', '192.0.2.1'];

describe('kea-knot setup', () => {
  it('writes a configuration every daemon checker accepts, with a shared secret never printed', async () => {
    const result = await kk(['setup', ...SETTINGS, '--dhcp6-subnet', '2001:db8:1::/64']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const conf = (name: string) => path.join(root, name);
    for (const argv of [
      ['kea-dhcp4', '-t', conf('etc/kea/kea-dhcp4.conf')],
      ['kea-dhcp6', '-t', conf('etc/kea/kea-dhcp6.conf')],
      ['kea-dhcp-ddns', '-t', conf('etc/kea/kea-dhcp-ddns.conf')],
      ['kea-ctrl-agent', '-t', conf('etc/kea/kea-ctrl-agent.conf')],
      ['knotc', '-c', conf('etc/knot/knot.conf'), 'conf-check'],
      ['kzonecheck', '-o', 'home.test.', conf('lib/knot/zones/home.test.zone')],
      ['kzonecheck', '-o', '2.0.192.in-addr.arpa.', conf('lib/knot/zones/2.0.192.in-addr.arpa.zone')],
    ]) {
      const outcome = await check(argv);
      expect(outcome.code, `${argv.join(' ')}\n${outcome.output}`).toBe(0);
    }
    const ddns = JSON.parse(await readFile(conf('etc/kea/kea-dhcp-ddns.conf'), 'utf8')) as { DhcpDdns: { 'tsig-keys': { name: string; secret: string }[] } };
    const key = ddns.DhcpDdns['tsig-keys'][0]!;
    expect(Buffer.from(key.secret, 'base64')).toHaveLength(32);
    expect(await readFile(conf('etc/knot/knot.conf'), 'utf8')).toContain(`secret: ${key.secret}`);
    expect(result.stdout).not.toContain(key.secret);
    expect((await stat(conf('etc/kea/kea-dhcp-ddns.conf'))).mode & 0o777).toBe(0o600);
    expect((await stat(conf('etc/knot/knot.conf'))).mode & 0o777).toBe(0o600);
    expect(result.stdout).toContain(`wrote ${conf('etc/kea/kea-dhcp4.conf')}`);

    // A second run makes a different key; without --force it writes nothing.
    const again = await kk(['setup', ...SETTINGS]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('already exist; nothing was written');
    const forced = await kk(['setup', ...SETTINGS, '--force']);
    expect(forced.code).toBe(0);
    const newKey = (JSON.parse(await readFile(conf('etc/kea/kea-dhcp-ddns.conf'), 'utf8')) as typeof ddns).DhcpDdns['tsig-keys'][0]!;
    expect(newKey.secret).not.toBe(key.secret);
  });

  it('refuses bad settings with a clear message and writes nothing', async () => {
    const result = await kk(['setup', '--domain', 'bad..domain', '--subnet', '192.0.2.0/24', '--address', '192.0.2.1', '--pools', '198.51.100.10-198.51.100.20']);
    expect(result.code).toBe(78);
    expect(result.stderr).toContain('--domain (KEA_KNOT_DOMAIN): "bad..domain" is not a valid domain name');
    expect(result.stderr).toContain('--pools (KEA_KNOT_POOLS): 198.51.100.10-198.51.100.20 is not inside the subnet 192.0.2.0/24');
    expect(await allFiles(root)).toEqual([]);
  });

  it('writes nothing when a daemon checker refuses the result, and shows the checker', async () => {
    const result = await kk(['setup', ...SETTINGS], { KEA_KNOT_INTERFACE: 'kknope0' });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${root}/etc/kea/kea-dhcp4.conf: kea-dhcp4 exited with code 1`);
    expect(result.stderr).toContain("interface 'kknope0' doesn't exist");
    expect(await allFiles(root)).toEqual([]);
  });

  it('--if-missing writes from the environment once, leaves a complete configuration alone and refuses a partial one', async () => {
    const fromEnv = { KEA_KNOT_DOMAIN: 'home.test', KEA_KNOT_SUBNET: '192.0.2.0/24', KEA_KNOT_ADDRESS: '192.0.2.1' };
    const none = await kk(['setup', '--if-missing']);
    expect(none.code).toBe(78);
    expect(none.stderr).toContain('no configuration in');
    expect((await kk(['setup', '--if-missing'], fromEnv)).code).toBe(0);
    const before = await readFile(`${root}/etc/knot/knot.conf`, 'utf8');
    const second = await kk(['setup', '--if-missing'], fromEnv);
    expect(second).toMatchObject({ code: 0, stdout: 'kea-knot setup: the configuration exists; left as it is\n' });
    expect(await readFile(`${root}/etc/knot/knot.conf`, 'utf8')).toBe(before);
    await rm(`${root}/etc/kea/kea-ctrl-agent.conf`);
    const partial = await kk(['setup', '--if-missing'], fromEnv);
    expect(partial.code).toBe(78);
    expect(partial.stderr).toContain(`a partial configuration exists: ${root}/etc/kea/kea-ctrl-agent.conf is missing while the others are there`);
    expect(partial.stderr).toContain('kea-knot setup --force');
    expect(await stat(`${root}/etc/kea/kea-ctrl-agent.conf`).catch(() => null)).toBeNull();
    expect(await readFile(`${root}/etc/knot/knot.conf`, 'utf8')).toBe(before);
  });

  it('installs nothing when an owner is missing, rather than the files before it', async () => {
    const result = await kk(['setup', ...SETTINGS], { KEA_KNOT_KNOT_USER: `kknouser${process.pid}` });
    expect(result.code).toBe(78);
    expect(result.stderr).toContain(`user kknouser${process.pid} (who must own ${root}/etc/knot/knot.conf) does not exist here; nothing was written`);
    expect(await allFiles(root)).toEqual([]);
  });

  it('leaves the previous set intact when a directory cannot be written mid-install', async () => {
    expect((await kk(['setup', ...SETTINGS])).code).toBe(0);
    const files = await allFiles(root);
    const before = await Promise.all(files.map((f) => readFile(f, 'utf8')));
    // knot.conf is installed after the Kea files: its directory made read-only (also for
    // root) by a bind mount in a mount namespace of this command alone.
    const dir = `${root}/etc/knot`;
    const script = `mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && shift && exec "$@"`;
    const result = await new Promise<{ code: number; stderr: string }>((resolve) => {
      execFile('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script, 'sh', dir, process.execPath, CLI, 'setup', ...SETTINGS, '--force'], { env: { ...process.env, ...env } }, (error, _stdout, stderr) => {
        resolve({ code: error ? (error.code as number) : 0, stderr });
      });
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`installing the configuration failed at ${dir}/`);
    expect(result.stderr).toContain('nothing was written; the previous files are as they were');
    expect(await allFiles(root)).toEqual(files);
    expect(await Promise.all(files.map((f) => readFile(f, 'utf8')))).toEqual(before);
  });

  it('init prepares the runtime directories with the modes Kea wants', async () => {
    await writeFile(path.join(root, 'placeholder'), '');
    const result = await kk(['init'], { KEA_KNOT_DOMAIN: 'home.test', KEA_KNOT_SUBNET: '192.0.2.0/24', KEA_KNOT_ADDRESS: '192.0.2.1', TZ: 'Nowhere/Atlantis', KEA_KNOT_ROOT: `${root}/system` });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('TZ=Nowhere/Atlantis is not a time zone known here');
    expect((await stat(`${root}/run/kea`)).mode & 0o777).toBe(0o750);
    expect((await stat(`${root}/run/kea/lock`)).isDirectory()).toBe(true);
    expect((await stat(`${root}/lib/knot/zones/home.test.zone`)).isFile()).toBe(true);
  });
});

describe('kea-knot init and the time zone', () => {
  const fromEnv = { KEA_KNOT_DOMAIN: 'home.test', KEA_KNOT_SUBNET: '192.0.2.0/24', KEA_KNOT_ADDRESS: '192.0.2.1', TZ: 'Europe/Berlin' };
  const realLocaltime = async () => {
    const info = await lstat('/etc/localtime');
    return { ino: info.ino, mtime: info.mtimeMs, target: info.isSymbolicLink() ? await readlink('/etc/localtime') : null };
  };
  /** A system root of the test's own, with the one zone file TZ names. */
  const systemRoot = async () => {
    const system = `${root}/system`;
    await mkdir(`${system}/usr/share/zoneinfo/Europe`, { recursive: true });
    await mkdir(`${system}/etc`);
    await copyFile('/usr/share/zoneinfo/Europe/Berlin', `${system}/usr/share/zoneinfo/Europe/Berlin`);
    return system;
  };

  it('never touches this machine\'s /etc/localtime: neither when it succeeds nor when it exits 78', async () => {
    const before = await realLocaltime();
    const ok = await kk(['init'], fromEnv);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain('TZ=Europe/Berlin: KEA_KNOT_ROOT is not set (not the image), so /etc/localtime is left alone');
    const refused = await kk(['init'], { TZ: 'Europe/Berlin', KEA_CONF_DIR: `${root}/empty/kea`, KNOT_CONF_DIR: `${root}/empty/knot` });
    expect(refused.code).toBe(78);
    expect(await realLocaltime()).toEqual(before);
  });

  it('points the system root\'s localtime at the zone, only after the configuration step succeeded', async () => {
    const system = await systemRoot();
    const refused = await kk(['init'], { TZ: 'Europe/Berlin', KEA_KNOT_ROOT: system });
    expect(refused.code).toBe(78);
    expect(await lstat(`${system}/etc/localtime`).catch(() => null)).toBeNull();
    const ok = await kk(['init'], { ...fromEnv, KEA_KNOT_ROOT: system });
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain('time zone Europe/Berlin');
    expect(await readlink(`${system}/etc/localtime`)).toBe('../usr/share/zoneinfo/Europe/Berlin');
    expect(await readFile(`${system}/etc/localtime`)).toEqual(await readFile('/usr/share/zoneinfo/Europe/Berlin'));
  });
});
