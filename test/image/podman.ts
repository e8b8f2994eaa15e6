/**
 * Building and running the real image without a Docker engine or registry, as
 * ../shared/notes/containers-here.md measured it: podman + buildah + runc, with storage and
 * containers.conf of the test run in a temp dir (nothing of the machine's own storage is
 * touched), and a debian:trixie-slim base made locally with debootstrap from the Debian
 * mirror the machine's apt is configured with (read from /etc/apt at run time, written
 * nowhere in the repository).
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createGzip } from 'node:zlib';

export const RUN_DIR_PREFIX = 'kk-image-';
const STALE_AFTER_MS = 30 * 60_000;

export interface Result { code: number; stdout: string; stderr: string }

/** The tools the image test needs, each with the Debian package that has it. */
export const TOOLS: Record<string, string> = { podman: 'podman', buildah: 'buildah', runc: 'runc', debootstrap: 'debootstrap', kdig: 'knot-dnsutils', udhcpc: 'udhcpc', ip: 'iproute2' };

export function missingTools(): string[] {
  const dirs = (process.env.PATH ?? '').split(':').concat(['/usr/sbin', '/sbin']);
  return Object.keys(TOOLS).filter((tool) => !dirs.some((dir) => dir && existsSync(path.join(dir, tool))));
}

/**
 * The Debian mirror apt uses here: the first deb822 `URIs:` (or sources.list `deb` line)
 * of a suite that is neither -security nor -updates. Never printed to the repository.
 */
export function debianMirror(root = '/etc/apt'): string | undefined {
  const candidates: { uri: string; suites: string[] }[] = [];
  const files: string[] = [];
  if (existsSync(path.join(root, 'sources.list'))) files.push(path.join(root, 'sources.list'));
  const dir = path.join(root, 'sources.list.d');
  if (existsSync(dir)) for (const f of readdirSync(dir).sort()) if (/\.(list|sources)$/.test(f)) files.push(path.join(dir, f));
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    if (file.endsWith('.sources')) {
      for (const stanza of text.split(/\n\s*\n/)) {
        const field = (name: string): string => new RegExp(`^${name}:\\s*(.*)$`, 'mi').exec(stanza)?.[1]?.trim() ?? '';
        if (!/\bdeb\b/.test(field('Types')) || /^no$/i.test(field('Enabled'))) continue;
        for (const uri of field('URIs').split(/\s+/).filter(Boolean)) candidates.push({ uri, suites: field('Suites').split(/\s+/) });
      }
    } else {
      for (const line of text.split('\n')) {
        const m = /^\s*deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)/.exec(line);
        if (m) candidates.push({ uri: m[1]!, suites: [m[2]!] });
      }
    }
  }
  const main = candidates.find((c) => /\/debian\/?$/.test(c.uri) && c.suites.some((s) => !/-(security|updates|backports)$/.test(s)));
  return (main ?? candidates.find((c) => c.suites.some((s) => !/-security$/.test(s))))?.uri;
}

/** Runs a command (argv, no shell) with the run's container environment; never rejects on exit codes. */
export function run(argv: string[], options: { env?: NodeJS.ProcessEnv; timeoutMs?: number; input?: string } = {}): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { env: { ...process.env, ...options.env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => { stdout += s; if (stdout.length > 4_000_000) stdout = stdout.slice(-2_000_000); });
    child.stderr.setEncoding('utf8').on('data', (s: string) => { stderr += s; if (stderr.length > 4_000_000) stderr = stderr.slice(-2_000_000); });
    const timeoutMs = options.timeoutMs ?? 60_000;
    const timer = setTimeout(() => { if (child.pid) child.kill('SIGKILL'); }, timeoutMs);
    child.once('error', (err) => { clearTimeout(timer); reject(err); });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (signal === 'SIGKILL' && code === null) {
        reject(new Error(`timed out after ${timeoutMs} ms: ${argv.join(' ')}\n${stdout.slice(-4000)}${stderr.slice(-4000)}`));
        return;
      }
      resolve({ code: code ?? 128, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}

export async function mustRun(argv: string[], options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<string> {
  const result = await run(argv, options);
  if (result.code !== 0) throw new Error(`${argv.join(' ')} exited ${result.code}:\n${(result.stderr + result.stdout).slice(-6000)}`);
  return result.stdout;
}

/** The hard open-files limit of this process (what --ulimit nofile may ask for without CAP_SYS_RESOURCE). */
export function hardNofile(): number {
  const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
  const hard = line?.trim().split(/\s+/)[4];
  const n = hard === undefined || hard === 'unlimited' ? 1_048_576 : Number(hard);
  return Math.min(n, 1_048_576);
}

/** Unmounts whatever is still mounted below `dir` (overlay layers of a crashed run), deepest first. */
async function unmountBelow(dir: string): Promise<void> {
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n')
    .map((line) => line.split(' ')[4] ?? '')
    .map((p) => p.replace(/\\040/g, ' '))
    .filter((p) => p === dir || p.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
  for (const mount of mounts) await run(['umount', '-l', mount]).catch(() => undefined);
}

/** One test run's container world: its storage, its containers.conf, the env that selects them. */
export class PodmanRun {
  readonly env: NodeJS.ProcessEnv;
  private constructor(readonly dir: string) {
    this.env = {
      CONTAINERS_STORAGE_CONF: path.join(dir, 'storage.conf'),
      CONTAINERS_CONF: path.join(dir, 'containers.conf'),
      TMPDIR: path.join(dir, 'tmp'),
      BUILDAH_ISOLATION: 'oci',
    };
  }

  static async create(): Promise<PodmanRun> {
    const dir = await mkdtemp(path.join(tmpdir(), RUN_DIR_PREFIX));
    const r = new PodmanRun(dir);
    await mkdir(path.join(dir, 'tmp'));
    await writeFile(path.join(dir, 'owner.pid'), String(process.pid));
    await writeFile(r.env.CONTAINERS_STORAGE_CONF!, [
      '[storage]', 'driver = "overlay"', `graphroot = "${dir}/graph"`, `runroot = "${dir}/runroot"`, '',
    ].join('\n'));
    const nofile = hardNofile();
    await writeFile(r.env.CONTAINERS_CONF!, [
      '[containers]',
      // Root here lacks CAP_SYS_RESOURCE: never ask for more than the hard limits (RUN steps too).
      `default_ulimits = ["nofile=${nofile}:${nofile}", "nproc=4096:4096"]`,
      '[engine]',
      'runtime = "runc"',
      'cgroup_manager = "cgroupfs"',
      'events_logger = "file"',
      `events_logfile_path = "${dir}/events.log"`,
      `volume_path = "${dir}/volumes"`,
      `tmp_dir = "${dir}/libpod-tmp"`,
      '[network]',
      `network_config_dir = "${dir}/networks"`,
      '',
    ].join('\n'));
    return r;
  }

  podman(args: string[], timeoutMs = 60_000): Promise<Result> {
    return run(['podman', ...args], { env: this.env, timeoutMs });
  }

  async mustPodman(args: string[], timeoutMs = 60_000): Promise<string> {
    return mustRun(['podman', ...args], { env: this.env, timeoutMs });
  }

  /**
   * debootstrap --variant=minbase trixie from the configured mirror, slimmed like the
   * official -slim images, imported as docker.io/library/debian:trixie-slim. When this
   * machine's Node trusts an extra CA (NODE_EXTRA_CA_CERTS: a TLS-inspecting egress proxy),
   * the stand-in base image trusts it too, so `npm ci` in the build reaches the registry
   * as the machine's own npm does.
   */
  async makeDebianBase(mirror: string, log: (line: string) => void): Promise<void> {
    const root = path.join(this.dir, 'rootfs');
    const t0 = Date.now();
    await mustRun(['debootstrap', '--variant=minbase', 'trixie', root, mirror], { timeoutMs: 300_000 });
    log(`debootstrap: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    for (const sub of ['var/cache/apt/archives', 'var/lib/apt/lists', 'usr/share/doc', 'usr/share/man', 'usr/share/info', 'var/log/apt']) {
      const full = path.join(root, sub);
      for (const entry of await readdir(full).catch(() => [] as string[])) {
        if (entry === 'partial' || entry === 'lock') continue;
        await rm(path.join(full, entry), { recursive: true, force: true });
      }
    }
    for (const entry of await readdir(path.join(root, 'var/cache/apt')).catch(() => [] as string[])) {
      if (entry.endsWith('.bin')) await rm(path.join(root, 'var/cache/apt', entry), { force: true });
    }
    for (const entry of await readdir(path.join(root, 'usr/share/locale')).catch(() => [] as string[])) {
      if (entry !== 'locale.alias') await rm(path.join(root, 'usr/share/locale', entry), { recursive: true, force: true });
    }
    await writeFile(path.join(root, 'etc/dpkg/dpkg.cfg.d/docker'), [
      'path-exclude /usr/share/doc/*', 'path-include /usr/share/doc/*/copyright', 'path-exclude /usr/share/man/*',
      'path-exclude /usr/share/info/*', 'path-exclude /usr/share/locale/*', 'path-include /usr/share/locale/locale.alias', '',
    ].join('\n'));
    const changes = ['--change', 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', '--change', 'CMD ["bash"]'];
    // CI's environment may lack the variable while the machine's bundle (which its own npm
    // uses as cafile) still holds the proxy's CA: fall back to that bundle.
    const extraCa = process.env.NODE_EXTRA_CA_CERTS ?? '/etc/ssl/certs/ca-certificates.crt';
    if (extraCa && existsSync(extraCa)) {
      await mkdir(path.join(root, 'usr/local/share/kea-knot-test'), { recursive: true });
      await writeFile(path.join(root, 'usr/local/share/kea-knot-test/extra-ca.pem'), readFileSync(extraCa));
      changes.push('--change', 'ENV NODE_EXTRA_CA_CERTS=/usr/local/share/kea-knot-test/extra-ca.pem');
    }
    const tar = spawn('tar', ['-C', root, '--numeric-owner', '-c', '.'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const importer = spawn('podman', ['import', ...changes, '-', 'docker.io/library/debian:trixie-slim'], { env: { ...process.env, ...this.env }, stdio: ['pipe', 'pipe', 'pipe'] });
    tar.stdout.pipe(importer.stdin);
    let err = '';
    importer.stderr.setEncoding('utf8').on('data', (s: string) => { err += s; });
    tar.stderr.setEncoding('utf8').on('data', (s: string) => { err += s; });
    const [tarCode, importCode] = await Promise.all([
      new Promise<number>((resolve) => tar.once('close', (code) => resolve(code ?? 1))),
      new Promise<number>((resolve) => importer.once('close', (code) => resolve(code ?? 1))),
    ]);
    if (tarCode !== 0 || importCode !== 0) throw new Error(`importing the base image failed (tar ${tarCode}, podman import ${importCode}):\n${err.slice(-4000)}`);
    await rm(root, { recursive: true, force: true });
    log(`base image debian:trixie-slim made in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }

  /** `podman save IMAGE | gzip | wc -c`, in process. */
  async compressedSize(image: string): Promise<number> {
    const save = spawn('podman', ['save', image], { env: { ...process.env, ...this.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const gzip = createGzip();
    let bytes = 0;
    gzip.on('data', (chunk: Buffer) => { bytes += chunk.length; });
    save.stdout.pipe(gzip);
    let err = '';
    save.stderr.setEncoding('utf8').on('data', (s: string) => { err += s; });
    const [code] = await Promise.all([
      new Promise<number>((resolve) => save.once('close', (c) => resolve(c ?? 1))),
      new Promise<void>((resolve) => gzip.once('end', () => resolve())),
    ]);
    if (code !== 0) throw new Error(`podman save ${image} exited ${code}: ${err.slice(-2000)}`);
    return bytes;
  }

  /** Removes everything this run made: containers, volumes, images, storage, the dir. */
  async destroy(): Promise<void> {
    await this.podman(['rm', '--all', '--force', '--time', '5'], 120_000).catch(() => undefined);
    await this.podman(['volume', 'rm', '--all', '--force'], 60_000).catch(() => undefined);
    await this.podman(['rmi', '--all', '--force'], 120_000).catch(() => undefined);
    // No `podman system reset`: it also touches files outside this run's storage.
    await unmountBelow(this.dir);
    await rm(this.dir, { recursive: true, force: true });
  }

  /** Storage dirs of crashed earlier runs (owner gone, older than 30 min) are reset and removed. */
  static async sweepStale(): Promise<void> {
    for (const entry of await readdir(tmpdir()).catch(() => [] as string[])) {
      if (!entry.startsWith(RUN_DIR_PREFIX)) continue;
      const dir = path.join(tmpdir(), entry);
      const info = await stat(dir).catch(() => undefined);
      if (!info?.isDirectory() || !existsSync(path.join(dir, 'owner.pid'))) continue;
      const age = Date.now() - info.mtimeMs;
      const owner = Number(readFileSafe(path.join(dir, 'owner.pid')));
      if (age < STALE_AFTER_MS || (owner > 1 && existsSync(`/proc/${owner}`))) continue;
      await new PodmanRun(dir).destroy().catch(() => undefined);
    }
  }
}

function readFileSafe(file: string): string {
  try { return readFileSync(file, 'utf8').trim(); } catch { return ''; }
}
