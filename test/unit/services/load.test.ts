import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KeaKnotError } from '../../../src/errors.js';
import { enabledDependencies, loadServices, parseServiceFile } from '../../../src/services/load.js';

let dir: string;
beforeEach(async () => { dir = await mkdtemp(path.join(tmpdir(), 'kk-load-')); });
afterEach(async () => { await rm(dir, { recursive: true, force: true }); });

async function problemsOf(files: Record<string, string>, env: NodeJS.ProcessEnv = {}): Promise<string[]> {
  for (const [name, text] of Object.entries(files)) await writeFile(path.join(dir, name), text);
  try {
    await loadServices(dir, env);
  } catch (error) {
    expect(error).toBeInstanceOf(KeaKnotError);
    expect((error as KeaKnotError).code).toBe('E_CONFIG');
    return [...(error as KeaKnotError).details];
  }
  throw new Error('expected loadServices to refuse these files');
}

describe('parseServiceFile', () => {
  it('applies defaults and converts durations and signals', () => {
    const { spec, problems } = parseServiceFile('name: knot\ncommand: [knotd]\nstop_signal: int\nready: {socket: /run/knot/knot.sock}\n', 'knot.yaml', {});
    expect(problems).toEqual([]);
    expect(spec).toMatchObject({
      name: 'knot', type: 'longrun', enabled: true, critical: false, restart: 'always',
      stop_signal: 'SIGINT', stop_grace: 10_000, depends_on: [], environment: {},
      ready: { socket: '/run/knot/knot.sock', timeout: 30_000, interval: 100 },
      backoff: { initial: 100, max: 30_000, factor: 2, reset_after: 10_000, max_crashes: 5, window: 60_000 },
    });
  });

  it('gives a oneshot restart never unless told otherwise', () => {
    expect(parseServiceFile('name: init\ntype: oneshot\ncommand: [/bin/true]\n', 'f', {}).spec?.restart).toBe('never');
    expect(parseServiceFile('name: init\ntype: oneshot\nrestart: on-failure\ncommand: [/bin/true]\n', 'f', {}).spec?.restart).toBe('on-failure');
  });

  it('takes enabled and environment from the container environment', () => {
    const text = 'name: kea-dhcp6\nenabled: ${KEA_DHCP6:-false}\ncommand: [kea-dhcp6, -c, "${KEA_CONF_DIR:-/etc/kea}/kea-dhcp6.conf"]\nenvironment:\n  KEA_PIDFILE_DIR: ${PIDS:-/run/kea}\n  PORT: 53\n';
    expect(parseServiceFile(text, 'f', {}).spec).toMatchObject({ enabled: false, command: ['kea-dhcp6', '-c', '/etc/kea/kea-dhcp6.conf'], environment: { KEA_PIDFILE_DIR: '/run/kea', PORT: '53' } });
    expect(parseServiceFile(text, 'f', { KEA_DHCP6: 'yes', KEA_CONF_DIR: '/data' }).spec).toMatchObject({ enabled: true, command: ['kea-dhcp6', '-c', '/data/kea-dhcp6.conf'] });
  });

  it.each([
    ['unknown key', 'name: a\ncommand: [x]\nrestart_policy: always\n', 'restart_policy: unknown key'],
    ['unknown nested key', 'name: a\ncommand: [x]\nbackoff: {maximum: 3s}\n', 'backoff.maximum: unknown key'],
    ['missing name', 'command: [x]\n', 'name: is required'],
    ['missing command', 'name: a\n', 'command: is required'],
    ['empty command', 'name: a\ncommand: []\n', 'command: a command needs at least the program to run'],
    ['command as a string', 'name: a\ncommand: knotd -c x\n', 'command: expected array, got string "knotd -c x"'],
    ['bad name', 'name: Kea DHCP\ncommand: [x]\n', 'name: use lower-case letters'],
    ['bad duration', 'name: a\ncommand: [x]\nstop_grace: 10\n', 'stop_grace: expected string, got number 10'],
    ['duration without unit', 'name: a\ncommand: [x]\nstop_grace: "10"\n', 'stop_grace: "10" is not a duration'],
    ['bad duration unit', 'name: a\ncommand: [x]\nready: {delay: 3 days}\n', 'ready.delay: "3 days" is not a duration'],
    ['bad signal', 'name: a\ncommand: [x]\nstop_signal: SIGFOO\n', 'stop_signal: "SIGFOO" is not a signal name'],
    ['bad restart policy', 'name: a\ncommand: [x]\nrestart: sometimes\n', 'restart: expected one of "always", "on-failure", "never", got string "sometimes"'],
    ['bad type', 'name: a\ncommand: [x]\ntype: daemon\n', 'type: expected one of "longrun", "oneshot"'],
    ['bad switch', 'name: a\ncommand: [x]\nenabled: maybe\n', 'enabled: "maybe" is not a switch'],
    ['two readiness probes', 'name: a\ncommand: [x]\nready: {socket: /s, tcp: "127.0.0.1:53"}\n', 'ready: give only one of socket, tcp, command, log, delay, kea, knot (found socket and tcp)'],
    ['no readiness probe', 'name: a\ncommand: [x]\nready: {timeout: 5s}\n', 'ready: give one of socket, tcp, command, log, delay, kea, knot'],
    ['bad tcp address', 'name: a\ncommand: [x]\nready: {tcp: localhost}\n', 'ready.tcp: write host:port'],
    ['bad regex', 'name: a\ncommand: [x]\nready: {log: "(unclosed"}\n', 'ready.log: is not a valid regular expression'],
    ['two reload methods', 'name: a\ncommand: [x]\nreload: {signal: HUP, command: [y]}\n', 'reload: give only one of signal, command, kea_command'],
    ['a Kea reload without a socket', 'name: a\ncommand: [x]\nreload: {kea_command: config-reload}\n', 'reload.kea_command: needs kea_control_socket'],
    ['a DHCP port without a Kea probe', 'name: a\ncommand: [x]\nready: {socket: /s, udp_port: 67}\n', 'ready.udp_port: only goes with ready.kea'],
    ['the old reload.verify_port', 'name: a\ncommand: [x]\nkea_control_socket: /s\nreload: {kea_command: config-reload, verify_port: 67}\n', 'reload.verify_port: unknown key'],
    ['a bad Kea command', 'name: a\ncommand: [x]\nkea_control_socket: /s\nreload: {kea_command: "config reload"}\n', 'reload.kea_command: is not a Kea command name'],
    ['bad environment name', 'name: a\ncommand: [x]\nenvironment: {"1X": y}\n', 'environment.1X: is not a valid variable name'],
    ['environment value a list', 'name: a\ncommand: [x]\nenvironment: {X: [1]}\n', 'environment.X:'],
    ['unset variable', 'name: a\ncommand: [x, "${KEA_KNOT_TEST_UNSET}"]\n', 'command.1: ${KEA_KNOT_TEST_UNSET} is not set'],
    ['negative max_crashes', 'name: a\ncommand: [x]\nbackoff: {max_crashes: 0}\n', 'backoff.max_crashes:'],
    ['YAML syntax', 'name: a\ncommand: [x\n', 'line '],
    ['duplicate YAML key', 'name: a\nname: b\ncommand: [x]\n', 'line 2:'],
    ['not a mapping', '- name: a\n', 'the file must be a YAML mapping'],
    ['empty file', '', 'the file must be a YAML mapping'],
  ])('refuses %s', (_what, text, expected) => {
    const { spec, problems } = parseServiceFile(text, 'svc.yaml', {});
    expect(spec).toBeUndefined();
    expect(problems.join('\n')).toContain(expected);
  });

  it('lists every problem of a file, not only the first', () => {
    const { problems } = parseServiceFile('name: A\ncommand: []\nstop_grace: soon\nfoo: 1\n', 'svc.yaml', {});
    expect(problems).toHaveLength(4);
  });
});

describe('loadServices', () => {
  it('loads every *.yaml and *.yml, ignores other files, and names the file in each spec', async () => {
    await writeFile(path.join(dir, 'a.yaml'), 'name: a\ncommand: [x]\n');
    await writeFile(path.join(dir, 'b.yml'), 'name: b\ncommand: [x]\ndepends_on: [a]\n');
    await writeFile(path.join(dir, 'README.md'), '# not a service');
    await writeFile(path.join(dir, 'a.yaml.bak'), 'garbage: [');
    const set = await loadServices(dir, {});
    expect(set.services.map((s) => [s.name, s.file])).toEqual([['a', path.join(dir, 'a.yaml')], ['b', path.join(dir, 'b.yml')]]);
  });

  it('reports problems of all files at once, each as file: field: problem', async () => {
    const problems = await problemsOf({ 'a.yaml': 'name: a\ncommand: []\n', 'b.yaml': 'name: b\ncommand: [x]\nstop_grace: later\n' });
    expect(problems).toEqual([
      `${path.join(dir, 'a.yaml')}: command: a command needs at least the program to run`,
      `${path.join(dir, 'b.yaml')}: stop_grace: "later" is not a duration; write a number and a unit, e.g. 500ms, 10s, 2m or 1h`,
    ]);
  });

  it('refuses duplicate names, naming both files', async () => {
    const problems = await problemsOf({ 'a.yaml': 'name: knot\ncommand: [x]\n', 'b.yaml': 'name: knot\ncommand: [y]\n' });
    expect(problems).toEqual([`${path.join(dir, 'b.yaml')}: name: "knot" is already the name of ${path.join(dir, 'a.yaml')}; names must be unique`]);
  });

  it('refuses unknown dependencies and self-dependencies', async () => {
    const problems = await problemsOf({ 'a.yaml': 'name: a\ncommand: [x]\ndepends_on: [knott, a]\n', 'knot.yaml': 'name: knot\ncommand: [x]\n' });
    expect(problems).toEqual([
      `${path.join(dir, 'a.yaml')}: depends_on.0: no service is named "knott" (known: a, knot)`,
      `${path.join(dir, 'a.yaml')}: depends_on.1: a service cannot depend on itself`,
    ]);
  });

  it('refuses a dependency cycle and shows it', async () => {
    const problems = await problemsOf({
      'a.yaml': 'name: a\ncommand: [x]\ndepends_on: [b]\n',
      'b.yaml': 'name: b\ncommand: [x]\ndepends_on: [c]\n',
      'c.yaml': 'name: c\ncommand: [x]\ndepends_on: [a]\n',
    });
    expect(problems).toEqual([`${path.join(dir, 'a.yaml')}: depends_on: dependency cycle a -> b -> c -> a; remove one of these dependencies`]);
  });

  it('refuses an empty or missing directory with a hint', async () => {
    await expect(loadServices(dir, {})).rejects.toThrow(/holds no service files/);
    await expect(loadServices(path.join(dir, 'nope'), {})).rejects.toThrow(/cannot read the services directory .*KEA_KNOT_SERVICES_DIR/);
  });
});

describe('enabledDependencies', () => {
  it('leaves out disabled services and treats a dependency on one as met', async () => {
    const a = parseServiceFile('name: a\ncommand: [x]\ndepends_on: [b, c]\n', 'a', {}).spec!;
    const b = parseServiceFile('name: b\ncommand: [x]\nenabled: false\n', 'b', {}).spec!;
    const c = parseServiceFile('name: c\ncommand: [x]\n', 'c', {}).spec!;
    expect(enabledDependencies([a, b, c])).toEqual(new Map([['a', ['c']], ['c', []]]));
  });
});
