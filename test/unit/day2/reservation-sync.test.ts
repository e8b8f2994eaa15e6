// Which node's reservations win in a pair, how a partner's are read from its config-get, and
// the revision that a change made here, or a list taken from the partner, leaves in the files.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KeaKnotError } from '../../../src/errors.js';
import { partnerChannel, sideOf, syncDecision, type SyncSide } from '../../../src/kea/reservation-sync.js';
import type { Reservation } from '../../../src/reservations/reservation.js';
import { adoptReservations, compareRevisions, contextFile, includeReservations, NO_REVISION, readReservationRevision, revisionOf, unreserve, type ReservationFiles } from '../../../src/kea/reservations-apply.js';

const A: Reservation = { 'hw-address': '52:54:00:00:00:01', 'ip-address': '10.0.0.40', hostname: 'box' };
const B: Reservation = { 'hw-address': '52:54:00:00:00:02', 'ip-address': '10.0.0.41' };
const side = (revision: number, node: string, ...reservations: Reservation[]): SyncSide => ({ revision: { revision, node }, reservations });

describe('which side wins', () => {
  it('takes the newer list whole, deletions included; keeps its own when it is the newer', () => {
    expect(syncDecision(side(100, 'pi1', A, B), side(200, 'pi2', A))).toBe('adopt');
    expect(syncDecision(side(200, 'pi2', A), side(100, 'pi1', A, B))).toBe('keep');
  });

  it('does nothing when the lists are alike, whatever their revisions or order', () => {
    expect(syncDecision(side(100, 'pi1', A, B), side(200, 'pi2', B, A))).toBe('same');
    expect(syncDecision(side(0, ''), side(0, ''))).toBe('same');
  });

  it('breaks a tie of the same millisecond by node name, so both nodes agree on the winner', () => {
    const pi1 = side(100, 'pi1', A);
    const pi2 = side(100, 'pi2', B);
    expect(syncDecision(pi1, pi2)).toBe('adopt');
    expect(syncDecision(pi2, pi1)).toBe('keep');
  });

  it('takes any change over lists never changed; two unchanged lists that differ are nobody\'s to pick', () => {
    expect(syncDecision(side(0, '', A), side(1, 'pi2'))).toBe('adopt');
    expect(syncDecision(side(0, '', A), side(0, '', B))).toBe('tie');
  });

  it('orders revisions by time, then name', () => {
    expect(compareRevisions({ revision: 1, node: 'b' }, { revision: 2, node: 'a' })).toBeLessThan(0);
    expect(compareRevisions({ revision: 2, node: 'b' }, { revision: 2, node: 'a' })).toBeGreaterThan(0);
    expect(compareRevisions({ revision: 2, node: 'a' }, { revision: 2, node: 'a' })).toBe(0);
  });

  it('reads no revision from a user-context without one', () => {
    for (const junk of [undefined, null, {}, { 'kea-knot-reservations': { revision: 'soon' } }, { 'kea-knot-reservations': { revision: -5 } }]) expect(revisionOf(junk)).toBe(NO_REVISION);
    expect(revisionOf({ other: 1, 'kea-knot-reservations': { revision: 7, node: 'pi2' } })).toEqual({ revision: 7, node: 'pi2' });
  });
});

describe("the partner's side, from its config-get", () => {
  it('reads reservations as Kea writes them back, with their defaults and empty host names', () => {
    const dhcp4 = { subnet4: [{ 'user-context': { 'kea-knot-reservations': { revision: 9, node: 'pi2' } }, reservations: [
      { 'hw-address': '52:54:00:00:00:01', 'ip-address': '10.0.0.40', hostname: 'box', 'client-classes': [], 'option-data': [], 'next-server': '0.0.0.0', 'boot-file-name': '' },
      { 'hw-address': '52:54:00:00:00:02', 'ip-address': '10.0.0.41', hostname: '' },
    ] }] };
    expect(sideOf(dhcp4, 'pi2')).toEqual({ revision: { revision: 9, node: 'pi2' }, reservations: [A, B] });
    expect(sideOf({ subnet4: [{}] }, 'pi2')).toEqual({ revision: NO_REVISION, reservations: [] });
  });

  it('refuses what it would lose: a reservation by client id, a Kea without a subnet', () => {
    expect(() => sideOf({ subnet4: [{ reservations: [{ 'client-id': '01:02', 'ip-address': '10.0.0.9' }] }] }, 'pi2')).toThrow(/pi2's kea-dhcp4 holds a reservation kea-knot does not keep/);
    const error = (() => { try { sideOf({}, 'pi2'); } catch (e) { return e as KeaKnotError; } })();
    expect(error?.code).toBe('E_CONFIG');
  });
});

describe('the HA channel, from the local config-get', () => {
  let dir: string;
  beforeEach(async () => { dir = await mkdtemp(path.join(tmpdir(), 'kk-sync-')); });
  afterEach(() => rm(dir, { recursive: true, force: true }));
  const ha = (peer: object, extra: object = {}) => ({
    ...extra,
    'hooks-libraries': [{ library: '/usr/lib/kea/hooks/libdhcp_lease_cmds.so' }, { library: '/usr/lib/kea/hooks/libdhcp_ha.so', parameters: { 'high-availability': [{ 'this-server-name': 'pi1', peers: [
      { name: 'pi1', url: 'http://10.0.0.2:8000/', 'basic-auth-user': 'kea-ha', 'basic-auth-password': 'not-this-one' },
      { name: 'pi2', url: 'http://10.0.0.3:8000/', 'basic-auth-user': 'kea-ha', ...peer },
    ] }] } }],
  });

  it("Kea 2.2: the partner's control agent, with the password the hook has", async () => {
    expect(await partnerChannel(ha({ 'basic-auth-password': 's3cret' }))).toEqual({
      name: 'pi2', url: 'http://10.0.0.3:8000/', authorization: `Basic ${Buffer.from('kea-ha:s3cret').toString('base64')}`, viaAgent: true,
    });
  });

  it("Kea 3.0: the partner's kea-dhcp4 itself, with the password from the hook's file", async () => {
    const file = path.join(dir, 'kea-ha.password');
    await writeFile(file, 'fromfile\n', { mode: 0o600 });
    const channel = await partnerChannel(ha({ 'basic-auth-password-file': file }, { 'control-sockets': [{ 'socket-type': 'unix' }, { 'socket-type': 'http' }] }));
    expect(channel).toMatchObject({ name: 'pi2', authorization: `Basic ${Buffer.from('kea-ha:fromfile').toString('base64')}`, viaAgent: false });
    await expect(partnerChannel(ha({ 'basic-auth-password-file': path.join(dir, 'gone') }))).rejects.toThrow(/cannot read the pair's HA password file/);
  });

  it('is none without the HA hook', async () => {
    expect(await partnerChannel({ 'hooks-libraries': [{ library: '/usr/lib/kea/hooks/libdhcp_lease_cmds.so' }] })).toBeUndefined();
    expect(await partnerChannel(undefined)).toBeUndefined();
  });
});

describe('the revision in the files', () => {
  let dir: string;
  let files: ReservationFiles;
  const conf = (subnet: object) => `${JSON.stringify({ Dhcp4: { 'hooks-libraries': [{ library: 'libdhcp_ha.so', parameters: { 'high-availability': [{ 'this-server-name': 'pi1' }] } }], subnet4: [{ id: 1, subnet: '10.0.0.0/16', ...subnet }] } }, null, 2)}\n`;
  const ctx = () => ({ files, socket: path.join(dir, 'no-kea'), reload: async () => undefined });
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'kk-revision-'));
    files = { conf: path.join(dir, 'kea-dhcp4.conf'), store: path.join(dir, 'kea-knot-reservations.json'), include: path.join(dir, 'reservations4.json') };
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('includes the revision file as the subnet\'s user-context, also into a conf that already includes the list', () => {
    const plain = includeReservations(conf({ reservations: [A], 'user-context': { 'kea-knot-reservations': { revision: 5, node: 'pi2' } } }), files.conf, files.include, contextFile(files));
    expect(plain.text).toContain(`"reservations": <?include "${files.include}"?>`);
    expect(plain.text).toContain(`"user-context": <?include "${path.join(dir, 'reservations4-context.json')}"?>`);
    expect(plain.inline).toEqual([A]);
    expect(revisionOf(plain.userContext)).toEqual({ revision: 5, node: 'pi2' });
    const before = conf({ reservations: '@' }).replace('"@"', `<?include "${files.include}"?>`);
    const again = includeReservations(before, files.conf, files.include, contextFile(files));
    expect(again.text).toBe(plain.text);
    expect(again.inline).toEqual([]);
  });

  it('a change made here is by this node, and newer than the list it changed even when that came from a clock ahead', async () => {
    await writeFile(files.conf, conf({ reservations: [A, B] }));
    const ahead = Date.now() + 3_600_000;
    expect(await adoptReservations(ctx(), [A, B], { revision: ahead, node: 'pi2' })).toBe(true);
    expect(await readReservationRevision(files)).toEqual({ reservations: [A, B], revision: { revision: ahead, node: 'pi2' } });
    await unreserve(ctx(), B['hw-address']);
    expect(JSON.parse(await readFile(contextFile(files), 'utf8'))).toEqual({ 'kea-knot-reservations': { revision: ahead + 1, node: 'pi1' } });
    expect(await readFile(files.conf, 'utf8')).toContain('"user-context": <?include');
  });

  it("takes the partner's list only when it is newer than this node's by then", async () => {
    await writeFile(files.conf, conf({ reservations: [A] }));
    await unreserve(ctx(), A['hw-address']);
    const { revision } = await readReservationRevision(files);
    expect(await adoptReservations(ctx(), [A, B], { revision: revision.revision - 1, node: 'pi2' })).toBe(false);
    expect((await readReservationRevision(files)).reservations).toEqual([]);
  });

  it('puts the revision file back when the reload fails', async () => {
    await writeFile(files.conf, conf({ reservations: [A] }));
    const refusing = { ...ctx(), reload: async () => { throw new KeaKnotError('E_CHECK_FAILED', 'kea-dhcp4 -t refused'); } };
    await expect(adoptReservations(refusing, [B], { revision: 10, node: 'pi2' })).rejects.toThrow(/were not changed/);
    await expect(readFile(contextFile(files))).rejects.toThrow(/ENOENT/);
    expect(await readReservationRevision(files)).toEqual({ reservations: [A], revision: NO_REVISION });
  });
});
