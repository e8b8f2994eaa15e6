import { mkdtemp, readFile, readdir, rm, stat, writeFile, mkdir, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KeaKnotError } from '../../../src/errors.js';
import { writeFileAtomic } from '../../../src/reservations/atomic-write.js';
import { parseReservationsFile, readReservationsFile, serializeReservations, writeReservationsFile } from '../../../src/reservations/file.js';
import { catchError } from './catch-error.js';

const FILE = '/etc/kea/reservations.json';

describe('the reservations file format', () => {
  it('writes a versioned, sorted file, one entry a line, that reads back the same', () => {
    const text = serializeReservations([
      { 'hw-address': '52:54:00:00:00:02', 'ip-address': '192.168.1.20', hostname: 'printer' },
      { 'hw-address': '52:54:00:00:00:01', 'ip-address': '192.168.1.9' },
    ]);
    expect(text).toBe(`{
  "version": 1,
  "reservations": [
    {"hw-address":"52:54:00:00:00:01","ip-address":"192.168.1.9"},
    {"hw-address":"52:54:00:00:00:02","ip-address":"192.168.1.20","hostname":"printer"}
  ]
}
`);
    expect(parseReservationsFile(text, FILE)).toEqual([
      { 'hw-address': '52:54:00:00:00:01', 'ip-address': '192.168.1.9' },
      { 'hw-address': '52:54:00:00:00:02', 'ip-address': '192.168.1.20', hostname: 'printer' },
    ]);
    expect(serializeReservations([])).toBe('{\n  "version": 1,\n  "reservations": []\n}\n');
    expect(parseReservationsFile(serializeReservations([]), FILE)).toEqual([]);
  });

  it("reads setup's bare --reservations list, normalising MACs and names", () => {
    const text = JSON.stringify([{ 'hw-address': '52-54-00-AA-BB-CC', 'ip-address': '192.168.1.30', hostname: 'Camera' }]);
    expect(parseReservationsFile(text, 'reservations.json')).toEqual([{ 'hw-address': '52:54:00:aa:bb:cc', 'ip-address': '192.168.1.30', hostname: 'camera' }]);
  });

  it.each([
    ['a stray comma', '{\n  "version": 1,\n  "reservations": [,]\n}\n', ':3: not valid JSON: "," at column 20'],
    ['a trailing comma', '[\n  {"hw-address": "52:54:00:00:00:01", "ip-address": "192.168.1.10"},\n]\n', ':3: not valid JSON: "]" at column 1'],
    ['a missing comma', '[\n  {"hw-address": "52:54:00:00:00:01"\n   "ip-address": "192.168.1.10"}\n]', ':3: not valid JSON: "\\"" at column 4'],
    ['single quotes', "[{'hw-address': 'x'}]", ':1: not valid JSON: "\'" at column 3'],
    ['a cut-off file', '{"version": 1, "reservations": [', ':1: not valid JSON: the end of the file at column 33'],
    ['an empty file', '', ':1: not valid JSON: the end of the file at column 1'],
  ])('names the file, line and column of invalid JSON: %s', (_what, text, where) => {
    const error = catchError(() => parseReservationsFile(text, FILE));
    expect(error.code).toBe('E_CONFIG');
    expect(error.message).toBe(`${FILE}${where}; fix the file or remove it to start with no reservations`);
  });

  it('refuses a newer version rather than drop what it does not know', () => {
    expect(catchError(() => parseReservationsFile('{"version":2,"reservations":[]}', FILE)).message)
      .toBe('/etc/kea/reservations.json: version 2 is not supported (this kea-knot reads version 1); use the kea-knot that wrote it');
  });

  it('names every bad entry by number, MAC, field and value', () => {
    const text = JSON.stringify({
      version: 1,
      reservations: [
        { 'hw-address': '52:54:00:00:00:01', 'ip-address': '192.168.1.300' },
        { 'hw-address': 'printer', 'ip-address': '192.168.1.21' },
        { 'hw-address': '52:54:00:00:00:03', 'ip-address': '192.168.1.22', hostname: 'my_pc' },
        { 'hw-address': '52:54:00:00:00:04', 'ip-address': '192.168.1.23', mac: 'x' },
        { 'hw-address': '52:54:00:00:00:05' },
      ],
      extra: true,
    });
    const error = catchError(() => parseReservationsFile(text, FILE));
    expect(error.message).toBe('/etc/kea/reservations.json has 6 problems; fix them and retry');
    expect(error.details).toEqual([
      '/etc/kea/reservations.json: reservation 1 (52:54:00:00:00:01): ip-address: "192.168.1.300" is not an IPv4 address like 192.168.1.20',
      '/etc/kea/reservations.json: reservation 2: hw-address: "printer" is not a network card\'s MAC; a MAC address is six hex octets separated by ":" or "-", e.g. 52:54:00:12:34:56',
      '/etc/kea/reservations.json: reservation 3 (52:54:00:00:00:03): hostname: "my_pc" is not valid; a host name is one DNS label: 1-63 letters, digits and hyphens, not starting or ending with a hyphen, e.g. printer',
      '/etc/kea/reservations.json: reservation 4 (52:54:00:00:00:04): Unrecognized key: "mac"',
      '/etc/kea/reservations.json: reservation 5 (52:54:00:00:00:05): ip-address: Invalid input: expected string, received undefined',
      '/etc/kea/reservations.json: top level: Unrecognized key: "extra"',
    ]);
  });

  it('refuses entries that repeat a MAC, an address or a host name, as Kea would', () => {
    const text = JSON.stringify([
      { 'hw-address': '52:54:00:00:00:01', 'ip-address': '192.168.1.10', hostname: 'nas' },
      { 'hw-address': '52:54:00:00:00:01', 'ip-address': '192.168.1.11' },
      { 'hw-address': '52:54:00:00:00:03', 'ip-address': '192.168.1.10' },
      { 'hw-address': '52:54:00:00:00:04', 'ip-address': '192.168.1.14', hostname: 'NAS' },
    ]);
    expect(catchError(() => parseReservationsFile(text, 'r.json')).details).toEqual([
      'r.json: reservation 2 (52:54:00:00:00:01 192.168.1.11) repeats the MAC of reservation 1 (52:54:00:00:00:01 192.168.1.10 (nas)); remove one of them',
      'r.json: reservation 3 (52:54:00:00:00:03 192.168.1.10) repeats the address of reservation 1 (52:54:00:00:00:01 192.168.1.10 (nas)); remove one of them',
      'r.json: reservation 4 (52:54:00:00:00:04 192.168.1.14 (nas)) repeats the host name of reservation 1 (52:54:00:00:00:01 192.168.1.10 (nas)); remove one of them',
    ]);
  });
});

describe('reading and writing the file', () => {
  let dir: string;
  beforeEach(async () => { dir = await mkdtemp(path.join(tmpdir(), 'kea-knot-reservations-')); });
  afterEach(async () => { await chmod(dir, 0o755).catch(() => undefined); await rm(dir, { recursive: true, force: true }); });

  it('reads a missing file as no reservations', async () => {
    expect(await readReservationsFile(path.join(dir, 'none.json'))).toEqual([]);
  });

  it('replaces the file whole, mode 0644 whatever the umask, leaving no temp file', async () => {
    const file = path.join(dir, 'reservations.json');
    await writeFile(file, 'old', { mode: 0o600 });
    const previous = process.umask(0o077);
    try {
      await writeReservationsFile(file, [{ 'hw-address': '52:54:00:00:00:01', 'ip-address': '192.168.1.10', hostname: 'nas' }]);
    } finally { process.umask(previous); }
    expect(await readReservationsFile(file)).toEqual([{ 'hw-address': '52:54:00:00:00:01', 'ip-address': '192.168.1.10', hostname: 'nas' }]);
    expect((await stat(file)).mode & 0o777).toBe(0o644);
    expect(await readdir(dir)).toEqual(['reservations.json']);
  });

  it('fails with E_IO naming the file, and leaves the old file and no temp file', async () => {
    const file = path.join(dir, 'missing-dir', 'reservations.json');
    const error = await writeFileAtomic(file, 'x').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KeaKnotError);
    expect((error as KeaKnotError).code).toBe('E_IO');
    expect((error as KeaKnotError).message).toContain(`cannot write ${file}: create ${path.join(dir, 'missing-dir')}/.reservations.json.`);

    const target = path.join(dir, 'target');
    await mkdir(target);
    const blocked = await writeFileAtomic(target, 'x').catch((e: unknown) => e) as KeaKnotError;
    expect(blocked.message).toMatch(new RegExp(`^cannot write ${target}: rename .+ to ${target} failed: `));
    expect((await readdir(dir)).sort()).toEqual(['target']);
  });

  it('reports an unreadable file with E_IO and a bad one with E_CONFIG', async () => {
    const file = path.join(dir, 'reservations.json');
    await writeFile(file, '[{"hw-address":"x","ip-address":"192.168.1.10"}]');
    await expect(readReservationsFile(file)).rejects.toMatchObject({ code: 'E_CONFIG', details: [expect.stringContaining(`${file}: reservation 1: hw-address: "x"`)] });
    const asDir = path.join(dir, 'a-dir');
    await mkdir(asDir);
    await expect(readReservationsFile(asDir)).rejects.toMatchObject({ code: 'E_IO', message: expect.stringContaining(`cannot read ${asDir}: `) });
    expect(await readFile(file, 'utf8')).toContain('192.168.1.10');
  });
});
