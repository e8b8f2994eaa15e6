import { describe, expect, it } from 'vitest';
import { ddnsConfig, dhcp4Config } from '../../../src/setup/kea-config.js';
import { keaFeatures, parseKeaSeries } from '../../../src/setup/kea-version.js';
import { filesOf, pathsFrom } from '../../../src/setup/paths.js';
import { planSetup } from '../../../src/setup/plan.js';
import { resolveSetup, type SetupFlag } from '../../../src/setup/settings.js';

const pair: Partial<Record<SetupFlag, string>> = {
  domain: 'home.arpa', subnet: '192.168.1.0/24', 'ha-peers': 'pi1=192.168.1.2,pi2=192.168.1.3', 'ha-this': 'pi2',
  'ha-secret': 'a-shared-secret-of-enough-length', 'hooks-dir': '/usr/lib/kea/hooks', 'knot-user': '',
};
const paths = pathsFrom({});
const files = filesOf(paths);
type Dhcp4 = { Dhcp4: Record<string, unknown> & { subnet4: { pools: Record<string, unknown>[] }[] } };
const peersOf = (d: Dhcp4) => ((d.Dhcp4['hooks-libraries'] as { parameters?: { 'high-availability': { peers: Record<string, unknown>[] }[] } }[])
  .find((h) => h.parameters)!.parameters!['high-availability'][0]!.peers);

describe('the Kea series a configuration is written for', () => {
  it('reads the series from kea-dhcp4 -v and knows what each accepts', () => {
    expect(parseKeaSeries('2.2.0\n')).toBe('2.2');
    expect(parseKeaSeries('3.0.3')).toBe('3.0');
    expect(parseKeaSeries('tarball')).toBeUndefined();
    expect(keaFeatures('2.2')).toMatchObject({ conflictResolutionMode: false, secretFiles: false, ownHttpSocket: false, classesList: false, dataDirFromEnv: false });
    expect(keaFeatures('2.6')).toMatchObject({ conflictResolutionMode: true, secretFiles: true, ownHttpSocket: false, classesList: false, dataDirFromEnv: true });
    expect(keaFeatures('3.0')).toMatchObject({ conflictResolutionMode: true, secretFiles: true, ownHttpSocket: true, classesList: true, dataDirFromEnv: true });
  });

  it('refuses a series that is not one', async () => {
    await expect(resolveSetup({ ...pair, 'kea-version': 'latest' })).rejects.toMatchObject({ details: [expect.stringContaining('--kea-version (KEA_KNOT_KEA_VERSION): "latest" is not a Kea series')] });
  });

  it('Kea 2.2: inline secrets, the control agent, ddns-use-conflict-resolution', async () => {
    const s = await resolveSetup({ ...pair, 'kea-version': '2.2' });
    const dhcp4 = dhcp4Config(s, paths) as Dhcp4;
    expect(dhcp4.Dhcp4['control-socket']).toEqual({ 'socket-type': 'unix', 'socket-name': files.dhcp4Socket });
    expect(dhcp4.Dhcp4['ddns-use-conflict-resolution']).toBe(true);
    expect(peersOf(dhcp4).map((p) => [p.url, typeof p['basic-auth-password']])).toEqual([['http://192.168.1.2:8000/', 'string'], ['http://192.168.1.3:8000/', 'string']]);
    expect(dhcp4.Dhcp4.subnet4[0]!.pools[0]).toHaveProperty('client-class', 'HA_pi1');
    expect(JSON.stringify(ddnsConfig(s, paths, { name: 'k', secret: 'c2VjcmV0' }))).toContain('"secret":"c2VjcmV0"');
    expect(planSetup(s, paths).map((f) => f.path)).toContain(files.agentConf);
    expect(planSetup(s, paths).map((f) => f.path)).not.toContain(files.haPassword);
  });

  it('Kea 3.0: secrets in 0600 files, the peers at kea-dhcp4\'s own authenticated HTTP socket, no control agent', async () => {
    const s = await resolveSetup({ ...pair, 'kea-version': '3.0' });
    const dhcp4 = dhcp4Config(s, paths) as Dhcp4;
    const text = JSON.stringify(dhcp4);
    expect(dhcp4.Dhcp4['control-socket']).toBeUndefined();
    expect(dhcp4.Dhcp4['control-sockets']).toEqual([
      { 'socket-type': 'unix', 'socket-name': files.dhcp4Socket },
      { 'socket-type': 'http', 'socket-address': '192.168.1.3', 'socket-port': 8000, authentication: { type: 'basic', realm: 'kea-knot', clients: [{ user: 'kea-ha', 'password-file': files.haPassword }] } },
    ]);
    expect(dhcp4.Dhcp4['ddns-conflict-resolution-mode']).toBe('check-with-dhcid');
    expect(peersOf(dhcp4).every((p) => p['basic-auth-password-file'] === files.haPassword && !('basic-auth-password' in p))).toBe(true);
    expect(dhcp4.Dhcp4.subnet4[0]!.pools[0]).toHaveProperty('client-classes', ['HA_pi1']);
    const plan = planSetup(s, paths);
    expect(plan.map((f) => f.path)).not.toContain(files.agentConf);
    const secretFiles = plan.filter((f) => f.path === files.haPassword || f.path === files.tsigSecret);
    expect(secretFiles.map((f) => f.mode)).toEqual([0o600, 0o600]);
    // No secret inline in any Kea file: only in the 0600 files (and knot.conf, Knot's own).
    const password = secretFiles.find((f) => f.path === files.haPassword)!.content.trim();
    const tsig = secretFiles.find((f) => f.path === files.tsigSecret)!.content.trim();
    for (const f of plan.filter((f) => f.path.startsWith(paths.KEA_CONF_DIR) && !secretFiles.includes(f))) {
      expect(f.content).not.toContain(password);
      expect(f.content).not.toContain(tsig);
    }
    expect(text).not.toContain(password);
  });
});
