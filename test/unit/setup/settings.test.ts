import { writeFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { KeaKnotError } from '../../../src/errors.js';
import { agentConfig, ddnsConfig, dhcp4Config, dhcp6Config } from '../../../src/setup/kea-config.js';
import { knotConfig, zoneFiles } from '../../../src/setup/knot-config.js';
import { pathsFrom } from '../../../src/setup/paths.js';
import { keaFeatures } from '../../../src/setup/kea-version.js';
import { resolveSetup, reverseZone, reverseZone6, zonesOf, type SetupFlag } from '../../../src/setup/settings.js';

const base: Partial<Record<SetupFlag, string>> = { domain: 'home.arpa', subnet: '192.168.1.0/24', address: '192.168.1.2' };

async function problems(raw: Partial<Record<SetupFlag, string>>): Promise<string[]> {
  try {
    await resolveSetup(raw);
  } catch (error) {
    expect(error).toBeInstanceOf(KeaKnotError);
    return [...(error as KeaKnotError).details];
  }
  throw new Error('expected the settings to be refused');
}

describe('setup settings', () => {
  it('derives sensible defaults from domain, subnet and address', async () => {
    const s = await resolveSetup({ ...base, domain: 'Home.Arpa.' });
    expect(s).toMatchObject({
      domain: 'home.arpa', subnet: '192.168.1.0/24', router: '192.168.1.1', dnsServers: ['192.168.1.2'],
      pools: [{ start: '192.168.1.128', end: '192.168.1.254' }], leaseSeconds: 86_400, interface: 'eth0', knotUser: 'knot', dnsPort: 53,
    });
  });

  it('takes pools, router, DNS servers and lease times', async () => {
    const s = await resolveSetup({ ...base, pools: '192.168.1.150-192.168.1.199, 192.168.1.100-192.168.1.120', router: '192.168.1.254', 'dns-servers': '192.168.1.2,192.168.1.3', 'lease-time': '12h' });
    expect(s.pools).toEqual([{ start: '192.168.1.100', end: '192.168.1.120' }, { start: '192.168.1.150', end: '192.168.1.199' }]);
    expect(s.leaseSeconds).toBe(43_200);
    expect((await resolveSetup({ ...base, 'lease-time': '7d' })).leaseSeconds).toBe(604_800);
    expect((await resolveSetup({ ...base, 'lease-time': '3600' })).leaseSeconds).toBe(3600);
  });

  it.each([
    ['a pool outside the subnet', { pools: '10.0.0.10-10.0.0.20' }, '--pools (KEA_KNOT_POOLS): 10.0.0.10-10.0.0.20 is not inside the subnet 192.168.1.0/24'],
    ['a reversed pool', { pools: '192.168.1.200-192.168.1.100' }, 'ends before it starts'],
    ['overlapping pools', { pools: '192.168.1.100-192.168.1.150,192.168.1.140-192.168.1.160' }, 'overlap'],
    ['a malformed pool', { pools: '192.168.1.100' }, 'is not a range like'],
    ['an invalid domain', { domain: 'my_home..lan' }, '--domain (KEA_KNOT_DOMAIN): "my_home..lan" is not a valid domain name'],
    ['a missing domain', { domain: undefined }, '--domain (KEA_KNOT_DOMAIN): "" is required'],
    ['a subnet with host bits', { subnet: '192.168.1.7/24' }, 'did you mean 192.168.1.0/24?'],
    ['a garbage subnet', { subnet: '192.168.1/24x' }, 'is not an IPv4 subnet'],
    ['a tiny subnet', { subnet: '192.168.1.0/31' }, 'prefix length from /8 to /30'],
    ['an address outside the subnet', { address: '10.1.1.1' }, '--address (KEA_KNOT_ADDRESS): 10.1.1.1 is not a usable address of 192.168.1.0/24'],
    ['the address inside a pool', { address: '192.168.1.200' }, '192.168.1.200 lies inside a DHCP pool'],
    ['a router outside the subnet', { router: '192.168.2.1' }, '--router (KEA_KNOT_ROUTER): 192.168.2.1 is not a usable address'],
    ['the broadcast address as router', { router: '192.168.1.255' }, 'is not a usable address'],
    ['a bad lease time', { 'lease-time': 'forever' }, '--lease-time (KEA_KNOT_LEASE_TIME): "forever" is not a lease time'],
    ['a bad DNS server', { 'dns-servers': '192.168.1.2,dns.example' }, '--dns-servers'],
    ['a bad interface', { interface: 'eth0; rm -rf /' }, '--interface'],
    ['a bad IPv6 prefix', { 'dhcp6-subnet': '2001:db8::zz/64' }, '--dhcp6-subnet'],
    ['IPv6 pools without a prefix', { 'dhcp6-pools': '2001:db8::1-2001:db8::2' }, 'needs --dhcp6-subnet'],
  ] as const)('refuses %s, naming the flag and variable', async (_what, change, expected) => {
    const found = await problems({ ...base, ...change });
    expect(found.join('\n')).toContain(expected);
  });

  it('lists every problem at once', async () => {
    const found = await problems({ domain: 'bad_domain', subnet: 'nope', 'lease-time': 'x' });
    expect(found.map((p) => p.split(' ')[0])).toEqual(['--domain', '--subnet', '--router', '--lease-time', '--address']);
  });

  it('reads and checks a reservations file', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'kk-res-'));
    try {
      const file = path.join(dir, 'r.json');
      await writeFile(file, JSON.stringify([{ 'hw-address': '52:54:00:aa:bb:cc', 'ip-address': '192.168.1.10', hostname: 'printer' }]));
      expect((await resolveSetup({ ...base, reservations: file })).reservations).toEqual([{ 'hw-address': '52:54:00:aa:bb:cc', 'ip-address': '192.168.1.10', hostname: 'printer' }]);
      await writeFile(file, JSON.stringify([{ 'hw-address': 'nope', 'ip-address': '10.0.0.1' }]));
      expect((await problems({ ...base, reservations: file })).join('\n')).toContain(`${file}: [0].hw-address: is not a MAC address`);
      await writeFile(file, JSON.stringify([{ 'hw-address': '52:54:00:aa:bb:cc', 'ip-address': '10.0.0.1' }]));
      expect((await problems({ ...base, reservations: file })).join('\n')).toContain('10.0.0.1 (52:54:00:aa:bb:cc) is not inside 192.168.1.0/24');
      await writeFile(file, '[{');
      expect((await problems({ ...base, reservations: file })).join('\n')).toContain('is not JSON');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('names reverse zones on octet and nibble boundaries', () => {
    expect(reverseZone('192.168.1.0/24')).toBe('1.168.192.in-addr.arpa');
    expect(reverseZone('10.20.0.0/16')).toBe('20.10.in-addr.arpa');
    expect(reverseZone('10.20.4.0/22')).toBe('20.10.in-addr.arpa');
    expect(reverseZone('192.0.2.128/25')).toBe('2.0.192.in-addr.arpa');
    expect(reverseZone6('2001:db8:1::/64')).toBe('0.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa');
  });
});

describe('generated configuration agrees with itself', async () => {
  const s = await resolveSetup({ ...base, 'dhcp6-subnet': '2001:db8:1::/64' });
  const paths = pathsFrom({});
  const key = { name: 'kea-knot-ddns', secret: 'c2VjcmV0' };
  const dhcp4 = dhcp4Config(s, paths) as { Dhcp4: Record<string, unknown> };
  const ddns = ddnsConfig(s, paths, key) as { DhcpDdns: { 'tsig-keys': { name: string; secret: string }[]; 'forward-ddns': { 'ddns-domains': { name: string; 'key-name': string; 'dns-servers': { port: number }[] }[] }; 'reverse-ddns': { 'ddns-domains': { name: string }[] }; port: number } };
  const knot = knotConfig(s, paths, key);

  it('the DHCP suffix is the DDNS domain is a Knot zone with an update ACL', () => {
    expect(dhcp4.Dhcp4['ddns-qualifying-suffix']).toBe('home.arpa.');
    expect(ddns.DhcpDdns['forward-ddns']['ddns-domains'][0]).toMatchObject({ name: 'home.arpa.', 'key-name': 'kea-knot-ddns' });
    expect(ddns.DhcpDdns['reverse-ddns']['ddns-domains'].map((d) => d.name)).toEqual(['1.168.192.in-addr.arpa.', '0.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa.']);
    for (const zone of zonesOf(s)) expect(knot).toContain(`  - domain: ${zone}.\n    acl: ddns-update`);
  });

  it('the DDNS daemon sends where Knot listens, with the key Knot knows, and Kea sends where D2 listens', () => {
    expect(knot).toContain('listen: [ 0.0.0.0@53, ::@53 ]');
    expect(ddns.DhcpDdns['forward-ddns']['ddns-domains'][0]!['dns-servers'][0]!.port).toBe(53);
    expect(knot).toContain(`secret: ${key.secret}`);
    expect(knot).toContain('action: update');
    expect((dhcp4.Dhcp4['dhcp-ddns'] as { 'server-port': number })['server-port']).toBe(ddns.DhcpDdns.port);
  });

  it('loads lease_cmds from the hooks directory found here into kea-dhcp4 and kea-dhcp6, with or without a pair', () => {
    const dhcp6 = dhcp6Config(s, paths) as { Dhcp6: Record<string, unknown> };
    expect(s.hooksDir).toMatch(/\/kea\/hooks$/);
    expect(dhcp4.Dhcp4['hooks-libraries']).toEqual([{ library: `${s.hooksDir}/libdhcp_lease_cmds.so` }]);
    expect(dhcp6.Dhcp6['hooks-libraries']).toEqual([{ library: `${s.hooksDir}/libdhcp_lease_cmds.so` }]);
  });

  it('keeps kea-dhcp6\'s server DUID beside its leases: data-directory on 2.2, KEA_DHCP_DATA_DIR (services.d) from 2.6.3', () => {
    const dataDir = (series: string) => (dhcp6Config({ ...s, kea: keaFeatures(series) }, paths) as { Dhcp6: Record<string, unknown> }).Dhcp6['data-directory'];
    expect(dataDir('2.2')).toBe(paths.KEA_LIB_DIR);
    expect(dataDir('2.6')).toBeUndefined();
    expect(dataDir('3.0')).toBeUndefined();
  });

  it('makes client names valid DNS labels in kea-dhcp4 and kea-dhcp6 alike', () => {
    const dhcp6 = dhcp6Config(s, paths) as { Dhcp6: Record<string, unknown> };
    for (const config of [dhcp4.Dhcp4, dhcp6.Dhcp6]) {
      expect(config['hostname-char-set']).toBe('[^A-Za-z0-9.-]|^-+|-+$|-+\\.|\\.-+');
      expect(config['hostname-char-replacement']).toBe('');
    }
  });

  it('sets the defaults that differ between Kea 2.2 and 2.6 explicitly, logs to stdout', () => {
    expect(dhcp4.Dhcp4['multi-threading']).toEqual({ 'enable-multi-threading': false });
    expect(JSON.stringify(dhcp4)).toContain('"output":"stdout"');
    expect(knot).toContain('target: stdout');
    expect(knot).not.toContain('syslog');
  });

  it('zone files carry SOA, NS and the server name', () => {
    const zones = zoneFiles(s, 2026010101);
    expect([...zones.keys()]).toEqual(['home.arpa.zone', '1.168.192.in-addr.arpa.zone', '0.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa.zone']);
    expect(zones.get('home.arpa.zone')).toContain('@ SOA ns1.home.arpa. hostmaster.home.arpa. ( 2026010101 ');
    expect(zones.get('home.arpa.zone')).toContain('ns1 A 192.168.1.2');
  });
});

describe('an HA pair from the same settings on both nodes', async () => {
  const pair = { domain: 'home.arpa', subnet: '192.168.1.0/24', 'ha-peers': 'pi1=192.168.1.2,pi2=192.168.1.3', 'ha-secret': 'a-shared-secret-of-enough-length', 'hooks-dir': '/usr/lib/kea/hooks' };
  const one = await resolveSetup({ ...pair, 'ha-this': 'pi1' });
  const two = await resolveSetup({ ...pair, 'ha-this': 'pi2' });
  const paths = pathsFrom({});

  it('takes each node\'s address from the peers and hands out both as DNS servers', () => {
    expect(one.address).toBe('192.168.1.2');
    expect(two.address).toBe('192.168.1.3');
    expect(one.dnsServers).toEqual(['192.168.1.2', '192.168.1.3']);
  });

  it('writes Kea configurations that differ only in this-server-name, with pools split per peer', () => {
    const a = JSON.stringify(dhcp4Config(one, paths));
    const b = JSON.stringify(dhcp4Config(two, paths));
    expect(a.replace('"this-server-name":"pi1"', '"this-server-name":"pi2"')).toBe(b);
    const subnet = (dhcp4Config(one, paths) as { Dhcp4: { subnet4: { pools: unknown[] }[] } }).Dhcp4.subnet4[0]!;
    expect(subnet.pools).toEqual([
      { pool: '192.168.1.128 - 192.168.1.190', 'client-class': 'HA_pi1' },
      { pool: '192.168.1.191 - 192.168.1.254', 'client-class': 'HA_pi2' },
    ]);
    expect(a).toContain('"multi-threading":{"enable-multi-threading":false,"http-dedicated-listener":false}');
    expect(a).toContain('"url":"http://192.168.1.3:8000/"');
  });

  it('binds each node\'s control agent to that node\'s own address, and lone nodes to loopback', async () => {
    const host = (settings: typeof one) => (agentConfig(settings, paths) as { 'Control-agent': { 'http-host': string } })['Control-agent']['http-host'];
    expect(host(one)).toBe('192.168.1.2');
    expect(host(two)).toBe('192.168.1.3');
    expect(host(await resolveSetup(base))).toBe('127.0.0.1');
    expect(JSON.stringify(dhcp4Config(one, paths))).toContain(`{"library":"${one.hooksDir}/libdhcp_lease_cmds.so"},{"library":"${one.hooksDir}/libdhcp_ha.so"`);
  });

  it('reads the shared secret from KEA_KNOT_HA_SECRET_FILE, trimmed, with clear refusals', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'kk-secret-'));
    try {
      const file = path.join(dir, 'ha_secret');
      await writeFile(file, `  ${pair['ha-secret']}\n`);
      const { 'ha-secret': _secret, ...withoutSecret } = pair;
      const fromFile = await resolveSetup({ ...withoutSecret, 'ha-this': 'pi1', 'ha-secret-file': file });
      expect(fromFile.ha?.secret).toBe(pair['ha-secret']);
      expect(await resolveSetup({ ...pair, 'ha-this': 'pi1', 'ha-secret-file': file })).toEqual(one);
      const refused = async (change: Partial<Record<SetupFlag, string>>) => (await problems({ ...withoutSecret, 'ha-this': 'pi1', ...change })).join('\n');
      expect(await refused({ 'ha-secret-file': path.join(dir, 'absent') })).toContain(`--ha-secret-file (KEA_KNOT_HA_SECRET_FILE): cannot read ${path.join(dir, 'absent')}: ENOENT`);
      await writeFile(path.join(dir, 'short'), 'short\n');
      expect(await refused({ 'ha-secret-file': path.join(dir, 'short') })).toContain(`${path.join(dir, 'short')} holds 5 characters; the secret needs at least 20`);
      expect(await refused({ 'ha-secret-file': file, 'ha-secret': 'another-secret-of-enough-length' })).toContain(`${file} and --ha-secret (KEA_KNOT_HA_SECRET) hold different secrets; set only one of them`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('derives the same keys on both nodes from the shared secret, and different ones from another', async () => {
    const ka = knotConfig(one, paths, { name: 'k', secret: 'x' });
    expect(JSON.stringify(ddnsConfig(one, paths, { name: 'k', secret: 'x' }))).toContain('"ip-address":"192.168.1.2"');
    expect(JSON.stringify(ddnsConfig(two, paths, { name: 'k', secret: 'x' }))).toContain('"ip-address":"192.168.1.2"');
    expect(ka).toContain('secret: x');
    const { derivedTsigKey } = await import('../../../src/setup/tsig.js');
    expect(derivedTsigKey(pair['ha-secret'], 'kea-knot-ddns')).toEqual(derivedTsigKey(pair['ha-secret'], 'kea-knot-ddns'));
    expect(derivedTsigKey(pair['ha-secret'], 'kea-knot-ddns').secret).not.toBe(derivedTsigKey('another-shared-secret-xxxxx', 'kea-knot-ddns').secret);
  });

  it('makes the first peer the DNS primary notifying the second, which transfers from it', () => {
    const xfr = { name: 'kea-knot-xfr', secret: 'eHhy' };
    const primary = knotConfig(one, paths, { name: 'kea-knot-ddns', secret: 'eA==' }, xfr);
    const secondary = knotConfig(two, paths, { name: 'kea-knot-ddns', secret: 'eA==' }, xfr);
    expect(primary).toContain('  - id: secondary\n    address: 192.168.1.3@53\n    key: kea-knot-xfr');
    expect(primary).toContain('    acl: [ ddns-update, transfer ]\n    notify: secondary');
    expect(secondary).toContain('  - id: primary\n    address: 192.168.1.2@53\n    key: kea-knot-xfr');
    expect(secondary).toContain('    master: primary\n    acl: [ ddns-update, notify ]\n    refresh-max-interval: 10');
    expect(zoneFiles(one, 1).get('home.arpa.zone')).toBe(zoneFiles(two, 1).get('home.arpa.zone'));
    expect(zoneFiles(one, 1).get('home.arpa.zone')).toContain('@ NS ns2.home.arpa.\nns1 A 192.168.1.2\nns2 A 192.168.1.3');
  });

  it.each([
    ['one peer', { 'ha-peers': 'pi1=192.168.1.2' }, 'exactly two peers'],
    ['a peer outside the subnet', { 'ha-peers': 'pi1=192.168.1.2,pi2=10.0.0.3' }, '10.0.0.3 (pi2) is not inside'],
    ['a bad peer name', { 'ha-peers': 'Pi_1=192.168.1.2,pi2=192.168.1.3' }, 'is not name=address'],
    ['this node not a peer', { 'ha-this': 'pi3' }, '--ha-this (KEA_KNOT_HA_THIS): "pi3" is not one of the peers (pi1, pi2)'],
    ['a short secret', { 'ha-secret': 'short' }, '--ha-secret (KEA_KNOT_HA_SECRET): is required for a pair, at least 20 characters'],
    ['an address that is not this peer\'s', { address: '192.168.1.9' }, "192.168.1.9 is not pi1's address"],
    ['an unknown profile', { 'ha-profile': 'turbo' }, '"turbo" is not home or fast'],
  ] as const)('refuses %s', async (_what, change, expected) => {
    expect((await problems({ ...pair, 'ha-this': 'pi1', ...change })).join('\n')).toContain(expected);
  });
});
