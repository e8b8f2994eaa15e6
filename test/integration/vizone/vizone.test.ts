// vizone against a real knotd: DDNS (knsupdate) and manual edits of the same zone.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const VIZONE = path.join(ROOT, 'rootfs/usr/local/bin/vizone');
const ZONE = 'example.test.';

interface Result { code: number; stdout: string; stderr: string }

function run(cmd: string, args: string[], options: { input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: options.env ?? process.env, stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (c: Buffer) => { stdout += c.toString(); });
    child.stderr!.on('data', (c: Buffer) => { stderr += c.toString(); });
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 10_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : -1), stdout, stderr });
    });
    if (options.input !== undefined) {
      child.stdin!.on('error', () => { /* the child may exit without reading; its status tells */ });
      child.stdin!.end(options.input);
    }
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// One knotd per run, under a fresh temp dir and a random port.
let dir = '';
let knotd: ChildProcess | undefined;
let port = 0;
let sock = '';
let zoneFile = '';
let keyArg = '';

const knotc = (...args: string[]) => run('knotc', ['-s', sock, ...args]);

async function dig(name: string, type = 'A'): Promise<string> {
  const r = await run('kdig', [`@127.0.0.1`, '-p', String(port), '+short', '+timeout=2', '+retry=0', name, type]);
  return r.stdout.trim();
}
async function serial(): Promise<number> {
  return Number((await dig(ZONE, 'SOA')).split(/\s+/)[2]);
}
async function frozen(): Promise<boolean> {
  return /freeze: yes/.test((await knotc('zone-status', ZONE)).stdout);
}
async function ddnsAdd(name: string, ip: string): Promise<Result> {
  const script = `server 127.0.0.1 ${port}\nzone ${ZONE}\nupdate add ${name}.${ZONE} 300 IN A ${ip}\nsend\n`;
  return run('knsupdate', ['-t', '3', '-y', keyArg], { input: script });
}
/** DNS may lag a committed update slightly; poll up to 3 s. */
async function waitDig(name: string, want: string): Promise<string> {
  let got = '';
  for (const end = Date.now() + 3000; Date.now() < end; await sleep(50)) {
    got = await dig(name);
    if (got === want) break;
  }
  return got;
}
async function editor(name: string, body: string): Promise<string> {
  const file = path.join(dir, 'editors', name);
  await writeFile(file, `#!/bin/sh\nset -e\n${body}\n`);
  await chmod(file, 0o755);
  return file;
}
function vizone(args: string[], env: NodeJS.ProcessEnv, shell: 'dash' | 'direct' = 'dash'): Promise<Result> {
  const fullEnv = { ...process.env, KNOT_SOCKET: sock, VISUAL: '', ...env };
  return shell === 'dash' ? run('dash', [VIZONE, ...args], { env: fullEnv }) : run(VIZONE, args, { env: fullEnv });
}
async function reloadsLogged(): Promise<number> {
  const log = await readFile(path.join(dir, 'knot.log'), 'utf8');
  return log.split('\n').filter((l) => l.includes("received command 'zone-reload'")).length;
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'vizone-test-'));
  for (const d of ['run', 'db', 'zones', 'editors']) await mkdir(path.join(dir, d));
  port = 20000 + Math.floor(Math.random() * 30000);
  sock = path.join(dir, 'run', 'knot.sock');
  zoneFile = path.join(dir, 'zones', 'example.test.zone');
  const secret = randomBytes(32).toString('base64');
  const keyName = `vizone-${path.basename(dir).toLowerCase().replace(/[^a-z0-9-]/g, '')}`;
  keyArg = `hmac-sha256:${keyName}:${secret}`;
  // The zone settings vizone is meant for: journal-content changes, zonefile-load
  // difference, zonefile-sync default (0).
  await writeFile(path.join(dir, 'knot.conf'), `
log:
  - target: ${dir}/knot.log
    any: info
server:
  rundir: ${dir}/run
  listen: 127.0.0.1@${port}
database:
  storage: ${dir}/db
key:
  - id: ${keyName}
    algorithm: hmac-sha256
    secret: ${secret}
acl:
  - id: ddns
    key: ${keyName}
    action: update
template:
  - id: default
    storage: ${dir}/zones
    journal-content: changes
    zonefile-load: difference
    acl: ddns
zone:
  - domain: ${ZONE}
`);
  await writeFile(zoneFile, `$ORIGIN ${ZONE}
$TTL 300
@    IN SOA ns1 hostmaster ( 2024010100 3600 900 604800 300 )
     IN NS  ns1
ns1  IN A   192.0.2.1
mail IN A   192.0.2.2
`);
  knotd = spawn('knotd', ['-c', path.join(dir, 'knot.conf')], { stdio: 'ignore' });
  for (const end = Date.now() + 5000; ; await sleep(50)) {
    if ((await knotc('status')).code === 0 && (await serial()) === 2024010100) break;
    if (Date.now() > end || knotd.exitCode !== null) throw new Error(`knotd did not start: ${await readFile(path.join(dir, 'knot.log'), 'utf8').catch(() => '')}`);
  }
});

afterAll(async () => {
  if (knotd?.pid && knotd.exitCode === null) {
    const exited = new Promise((r) => knotd!.once('exit', r));
    knotd.kill('SIGTERM');
    await Promise.race([exited, sleep(3000)]);
    if (knotd.exitCode === null) knotd.kill('SIGKILL');
  }
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('vizone', () => {
  it('names the zones it knows when asked for an unknown one (run directly, #!/bin/sh)', async () => {
    const r = await vizone(['nope.test'], { EDITOR: 'true' }, 'direct');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`vizone: no zone nope.test. on this server (zones: ${ZONE})`);
    expect((await vizone([], {})).code).toBe(2);
    expect((await vizone(['-h'], {})).stdout).toContain('Usage: vizone');
  });

  it('leaves an unchanged zone alone: exit 0, nothing reloaded, thawed', async () => {
    const before = await serial();
    const reloads = await reloadsLogged();
    const r = await vizone([ZONE], { EDITOR: 'true' });
    expect(r.stderr).toContain('no changes');
    expect(r.code).toBe(0);
    expect(await serial()).toBe(before);
    expect(await reloadsLogged()).toBe(reloads);
    expect(await frozen()).toBe(false);
  });

  it('applies a good edit under dash, bumps the serial and keeps DDNS records', async () => {
    expect((await ddnsAdd('dyn1', '192.0.2.51')).code).toBe(0);
    expect(await waitDig('dyn1.example.test.', '192.0.2.51')).toBe('192.0.2.51');
    const before = await serial();
    const { mode } = await stat(zoneFile);
    const ed = await editor('add-www', `echo 'www 300 IN A 192.0.2.80' >> "$1"`);
    // The zone name without the trailing dot works too.
    const r = await vizone(['example.test'], { EDITOR: ed });
    expect(r.stderr).toMatch(/reloaded: serial \d+ -> \d+/);
    expect(r.code).toBe(0);
    expect(await dig('www.example.test.')).toBe('192.0.2.80');
    expect(await dig('dyn1.example.test.')).toBe('192.0.2.51');
    expect(await dig('mail.example.test.')).toBe('192.0.2.2');
    expect(await serial()).toBeGreaterThan(before);
    expect(await frozen()).toBe(false);
    expect((await stat(zoneFile)).mode).toBe(mode);
    expect(await readFile(`${zoneFile}.vizone-backup`, 'utf8')).toContain('dyn1.example.test.');
    // DDNS keeps working on top of the edit.
    expect((await ddnsAdd('dyn2', '192.0.2.52')).code).toBe(0);
    expect(await waitDig('dyn2.example.test.', '192.0.2.52')).toBe('192.0.2.52');
    expect(await dig('www.example.test.')).toBe('192.0.2.80');
  });

  it('rolls back a broken edit: exit 1, message, .vizone-rejected, old data served, thawed', async () => {
    const before = await serial();
    const ed = await editor('break', `echo 'broken 300 IN A 192.0.2.999' >> "$1"`);
    const r = await vizone([ZONE], { EDITOR: ed });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('kzonecheck refused the edit');
    expect(r.stderr).toContain('invalid IPv4 address');
    expect(r.stderr).toContain(`${zoneFile}.vizone-rejected`);
    expect(await readFile(`${zoneFile}.vizone-rejected`, 'utf8')).toContain('192.0.2.999');
    // The live file is as vizone's flush left it (only knotd's ';; Time' line may differ
    // from before), i.e. the backup.
    expect(await readFile(zoneFile, 'utf8')).toBe(await readFile(`${zoneFile}.vizone-backup`, 'utf8'));
    expect(await readFile(zoneFile, 'utf8')).not.toContain('broken');
    expect(await serial()).toBe(before);
    expect(await dig('www.example.test.')).toBe('192.0.2.80');
    expect(await dig('broken.example.test.')).toBe('');
    expect(await frozen()).toBe(false);
    expect((await ddnsAdd('dyn3', '192.0.2.53')).code).toBe(0);
    expect(await waitDig('dyn3.example.test.', '192.0.2.53')).toBe('192.0.2.53');
  });

  it('bumps the serial inside a multi-line SOA with comments, touching nothing else', async () => {
    const before = await serial();
    // Rewrites the zone by hand with a multi-line SOA that keeps the current serial.
    const ed = await editor('multiline', `
s=$(awk '{ for (i = 1; i < NF; i++) if ($i == "SOA") { print $(i + 3); exit } }' "$1")
cat > "$1" <<EOF
\\$ORIGIN example.test.
\\$TTL 300
; a comment that says SOA 1 2 3
note IN TXT "SOA ; 7 8 9"
@ IN SOA ns1 hostmaster (
        $s ; serial
        3600 900 604800 300 )
  IN NS ns1
ns1 IN A 192.0.2.1
mail IN A 192.0.2.2
www IN A 192.0.2.81
EOF`);
    const r = await vizone([ZONE], { EDITOR: ed });
    expect(r.stderr).toContain(`SOA serial ${before} -> `);
    expect(r.code).toBe(0);
    const after = await serial();
    expect(after).toBeGreaterThan(before);
    const text = await readFile(zoneFile, 'utf8');
    expect(text).toContain(`        ${after} ; serial\n`);
    expect(text).toContain('note IN TXT "SOA ; 7 8 9"');
    expect(await dig('www.example.test.')).toBe('192.0.2.81');
    expect(await dig('note.example.test.', 'TXT')).toBe('"SOA ; 7 8 9"');
  });

  it('restores the backup when knotd refuses to load the edit', async () => {
    const before = await serial();
    // A knotc whose first zone-reload fails, as a reload of a file knotd rejects would.
    const bin = path.join(dir, 'fakebin');
    await mkdir(bin, { recursive: true });
    const realKnotc = (await run('sh', ['-c', 'command -v knotc'])).stdout.trim();
    const mark = path.join(dir, 'reload-failed');
    await writeFile(path.join(bin, 'knotc'), `#!/bin/sh
for a; do
  if [ "$a" = zone-reload ] && [ ! -e '${mark}' ]; then : > '${mark}'; echo 'error: [example.test.] (failed)' >&2; exit 1; fi
done
exec '${realKnotc}' "$@"
`);
    await chmod(path.join(bin, 'knotc'), 0o755);
    const ed = await editor('add-ftp', `echo 'ftp 300 IN A 192.0.2.21' >> "$1"`);
    const r = await vizone([ZONE], { EDITOR: ed, PATH: `${bin}:${process.env.PATH}` });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('knotd failed to load the edit');
    expect(r.stderr).toContain('restored');
    // The live file is the backup again (vizone's flush had rewritten it in knotd's format).
    expect(await readFile(zoneFile, 'utf8')).toBe(await readFile(`${zoneFile}.vizone-backup`, 'utf8'));
    expect(await readFile(zoneFile, 'utf8')).not.toContain('ftp');
    expect(await readFile(`${zoneFile}.vizone-rejected`, 'utf8')).toContain('ftp 300 IN A 192.0.2.21');
    expect(await serial()).toBe(before);
    expect(await dig('ftp.example.test.')).toBe('');
    expect(await frozen()).toBe(false);
  });

  it('thaws when interrupted: Ctrl-C killing the editor, and SIGTERM to vizone', async () => {
    const before = await serial();
    // Ctrl-C reaches the whole foreground process group; the editor dies of it.
    const ctrlC = await editor('ctrl-c', `echo 'x 300 IN A 192.0.2.9' >> "$1"; kill -INT $PPID $$; sleep 5`);
    const r1 = await vizone([ZONE], { EDITOR: ctrlC });
    expect(r1.code).toBe(1);
    expect(r1.stderr).toMatch(/editor .* exited with status 130/);
    expect(await frozen()).toBe(false);
    const term = await editor('term', `echo 'x 300 IN A 192.0.2.9' >> "$1"; kill -TERM $PPID`);
    const r2 = await vizone([ZONE], { EDITOR: term });
    expect(r2.code).toBe(143);
    expect(await frozen()).toBe(false);
    expect(await serial()).toBe(before);
    expect(await dig('x.example.test.')).toBe('');
    expect((await ddnsAdd('dyn4', '192.0.2.54')).code).toBe(0);
    expect(await waitDig('dyn4.example.test.', '192.0.2.54')).toBe('192.0.2.54');
  });
});
