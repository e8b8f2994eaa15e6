import { mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fingerprint, unchangedSince } from '../../../src/supervisor/fingerprint.js';

let dir: string;
beforeEach(async () => { dir = await mkdtemp(path.join(tmpdir(), 'kk-fingerprint-')); });
afterEach(async () => { await rm(dir, { recursive: true, force: true }); });

describe('fingerprints of watched files', () => {
  it('tells a file written back to what it held from one that changed', async () => {
    const conf = path.join(dir, 'kea-dhcp4.conf');
    await writeFile(conf, '{"Dhcp4": {}}\n');
    const taken = await fingerprint([conf]);
    expect(await unchangedSince(taken, conf)).toBe(true);
    await writeFile(conf, '{"Dhcp4": {"valid-lifetime": 600}}\n');
    expect(await unchangedSince(taken, conf)).toBe(false);
    await writeFile(conf, '{"Dhcp4": {}}\n');
    expect(await unchangedSince(taken, conf)).toBe(true);
  });

  it('counts a file missing then and now as unchanged, and one that appeared or went as changed', async () => {
    const conf = path.join(dir, 'knot.conf');
    const missing = await fingerprint([conf]);
    expect(await unchangedSince(missing, conf)).toBe(true);
    await writeFile(conf, 'server:\n');
    expect(await unchangedSince(missing, conf)).toBe(false);
    const present = await fingerprint([conf]);
    await unlink(conf);
    expect(await unchangedSince(present, conf)).toBe(false);
  });

  it('knows nothing of a file it was not given, or before it was taken', async () => {
    const conf = path.join(dir, 'a.conf');
    await writeFile(conf, 'x\n');
    expect(await unchangedSince(await fingerprint([]), conf)).toBe(false);
    expect(await unchangedSince(undefined, conf)).toBe(false);
    // A relative spelling of the same file is the same file.
    const taken = await fingerprint([conf]);
    expect(await unchangedSince(taken, path.relative(process.cwd(), conf))).toBe(true);
  });
});
