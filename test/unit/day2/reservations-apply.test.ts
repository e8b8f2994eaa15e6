// The everything-or-nothing path of a reservation change, with real files and a reload
// that refuses (as the supervisor's does when kea-dhcp4 -t or config-reload fails).
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KeaKnotError } from '../../../src/errors.js';
import { includeReservations, listReservations, setupReservations, unreserve, type ReservationFiles } from '../../../src/kea/reservations-apply.js';

let dir: string;
let files: ReservationFiles;
const CONF = `${JSON.stringify({ Dhcp4: { subnet4: [{ id: 1, subnet: '10.0.0.0/16', reservations: [
  { 'hw-address': '52:54:00:00:00:01', 'ip-address': '10.0.0.40', hostname: 'box' },
  { 'hw-address': '52:54:00:00:00:02', 'ip-address': '10.0.0.41' },
] }] } }, null, 2)}\n`;

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'kk-apply-'));
  files = { conf: path.join(dir, 'kea-dhcp4.conf'), store: path.join(dir, 'kea-knot-reservations.json'), include: path.join(dir, 'reservations4.json') };
  await writeFile(files.conf, CONF, { mode: 0o600 });
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe('reservation changes', () => {
  it('points a plain kea-dhcp4.conf at the included list, keeping the rest', () => {
    const { text, inline, subnet } = includeReservations(CONF, files.conf, files.include);
    expect(text).toContain(`"reservations": <?include "${files.include}"?>`);
    expect(text.replace(/<\?include "[^"]+"\?>/, '[]')).toBe(`${JSON.stringify({ Dhcp4: { subnet4: [{ id: 1, subnet: '10.0.0.0/16', reservations: [] }] } }, null, 2)}\n`);
    expect(inline).toHaveLength(2);
    expect(subnet).toBe('10.0.0.0/16');
    expect(() => includeReservations('{ // a comment\n}', files.conf, files.include)).toThrow(/is not plain JSON .*<\?include/);
  });

  it("lists setup's inline reservations before any change, writing nothing", async () => {
    expect(await listReservations(files)).toEqual([
      { 'hw-address': '52:54:00:00:00:01', 'ip-address': '10.0.0.40', hostname: 'box' },
      { 'hw-address': '52:54:00:00:00:02', 'ip-address': '10.0.0.41' },
    ]);
    expect(await readFile(files.conf, 'utf8')).toBe(CONF);
  });

  it('puts every file back as it was when the reload fails', async () => {
    const refused = new KeaKnotError('E_CHECK_FAILED', 'kea-dhcp4 -t refused the configuration');
    let seen = '';
    const ctx = { files, socket: path.join(dir, 'no-kea'), reload: async () => { seen = await readFile(files.include, 'utf8'); throw refused; } };
    const error = await unreserve(ctx, '52:54:00:00:00:02').catch((e: unknown) => e as KeaKnotError);
    expect(error).toBeInstanceOf(KeaKnotError);
    expect(error.code).toBe('E_CHECK_FAILED');
    expect(error.message).toMatch(/kea-dhcp4 -t refused .*the reservations were not changed/);
    // The reload saw the new list; afterwards nothing of it is left.
    expect(JSON.parse(seen)).toEqual([{ 'hw-address': '52:54:00:00:00:01', 'ip-address': '10.0.0.40', hostname: 'box' }]);
    expect(await readFile(files.conf, 'utf8')).toBe(CONF);
    await expect(readFile(files.store)).rejects.toThrow(/ENOENT/);
    await expect(readFile(files.include)).rejects.toThrow(/ENOENT/);
  });

  it('moves the inline reservations into the store with the first change', async () => {
    const ctx = { files, socket: path.join(dir, 'no-kea'), reload: async () => undefined };
    expect(await unreserve(ctx, '10.0.0.41')).toEqual({ 'hw-address': '52:54:00:00:00:02', 'ip-address': '10.0.0.41' });
    expect(JSON.parse(await readFile(files.store, 'utf8'))).toEqual({ version: 1, reservations: [{ 'hw-address': '52:54:00:00:00:01', 'ip-address': '10.0.0.40', hostname: 'box' }] });
    expect(await readFile(files.conf, 'utf8')).toContain('<?include');
    // In a pair the conf holds the HA password: its mode stays.
    expect((await stat(files.conf)).mode & 0o777).toBe(0o600);
    expect(await listReservations(files)).toHaveLength(1);
  });
});

describe('setup and the store', () => {
  it("keeps the store's reservations when setup runs again, adds --reservations' and refuses a clash", async () => {
    const given = [{ 'hw-address': '52:54:00:00:00:09', 'ip-address': '10.0.0.9' }];
    expect(setupReservations(files.store, given, '10.0.0.0/16')).toEqual(given);
    await writeFile(files.store, JSON.stringify({ version: 1, reservations: [{ 'hw-address': '52:54:00:00:00:01', 'ip-address': '10.0.0.40', hostname: 'box' }] }));
    expect(setupReservations(files.store, [...given, { 'hw-address': '52:54:00:00:00:01', 'ip-address': '10.0.0.40', hostname: 'box' }], '10.0.0.0/16')).toEqual([
      { 'hw-address': '52:54:00:00:00:09', 'ip-address': '10.0.0.9' },
      { 'hw-address': '52:54:00:00:00:01', 'ip-address': '10.0.0.40', hostname: 'box' },
    ]);
    expect(() => setupReservations(files.store, [{ 'hw-address': '52:54:00:00:00:08', 'ip-address': '10.0.0.40' }], '10.0.0.0/16'))
      .toThrow(/--reservations clash with the reservations kea-knot keeps in .*kea-knot-reservations\.json/);
  });
});
