import { existsSync, readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import ipaddr from 'ipaddr.js';
import { z } from 'zod';
import { KeaKnotError } from '../errors.js';
import { parseDuration } from '../services/duration.js';
import { HA_HOOK, LEASE_CMDS_HOOK, thisPeer } from './ha.js';
import { fromInt, toInt } from './ipv4.js';
import { installedKeaSeries, keaFeatures, parseKeaSeries, type KeaFeatures } from './kea-version.js';

/** Setup settings: flag name, environment variable, help. Flags win over the environment. */
export const SETUP_SETTINGS = {
  domain: { env: 'KEA_KNOT_DOMAIN', help: 'DNS domain of the LAN, e.g. home.arpa (required)' },
  subnet: { env: 'KEA_KNOT_SUBNET', help: 'IPv4 subnet served, e.g. 192.168.1.0/24 (required)' },
  address: { env: 'KEA_KNOT_ADDRESS', help: "this server's LAN address, e.g. 192.168.1.2 (required)" },
  interface: { env: 'KEA_KNOT_INTERFACE', help: 'interface Kea serves DHCP on (default eth0)' },
  pools: { env: 'KEA_KNOT_POOLS', help: 'address ranges, comma separated: 192.168.1.100-192.168.1.199 (default: the upper half of the subnet)' },
  router: { env: 'KEA_KNOT_ROUTER', help: 'default gateway handed to clients (default: the first address of the subnet)' },
  'dns-servers': { env: 'KEA_KNOT_DNS_SERVERS', help: 'DNS servers handed to clients, comma separated (default: --address)' },
  'lease-time': { env: 'KEA_KNOT_LEASE_TIME', help: 'lease time, e.g. 12h or 86400s (default 24h)' },
  reservations: { env: 'KEA_KNOT_RESERVATIONS', help: 'JSON file of reservations: [{"hw-address","ip-address","hostname"}]' },
  'dhcp6-subnet': { env: 'KEA_KNOT_DHCP6_SUBNET', help: 'IPv6 prefix for DHCPv6, e.g. 2001:db8:1::/64 (DHCPv6 config is written only when set)' },
  'dhcp6-pools': { env: 'KEA_KNOT_DHCP6_POOLS', help: 'IPv6 ranges, comma separated (default: ::1000-::1fff of the prefix)' },
  'knot-user': { env: 'KEA_KNOT_KNOT_USER', help: 'user Knot drops to, owning its zones and journal (default knot; empty: stay as started)' },
  'dns-port': { env: 'KEA_KNOT_DNS_PORT', help: 'port Knot answers on (default 53)' },
  'ha-peers': { env: 'KEA_KNOT_HA_PEERS', help: 'an HA pair: name1=address1,name2=address2, the same on both nodes; the first is the DNS primary' },
  'ha-this': { env: 'KEA_KNOT_HA_THIS', help: "which peer this node is (its name in --ha-peers); the only setting that differs between the nodes" },
  'ha-secret': { env: 'KEA_KNOT_HA_SECRET', help: 'a shared secret (at least 20 characters, the same on both nodes) from which the HA password and the TSIG key are derived' },
  'ha-secret-file': { env: 'KEA_KNOT_HA_SECRET_FILE', help: 'a file holding that secret (Docker/compose secrets: /run/secrets/NAME); surrounding whitespace is ignored' },
  'ha-profile': { env: 'KEA_KNOT_HA_PROFILE', help: 'HA timers: home (failover in ~6-7 s, default) or fast (~1 s; for tests and quiet LANs)' },
  'kea-version': { env: 'KEA_KNOT_KEA_VERSION', help: "the Kea series the configuration is written for, e.g. 2.6 or 3.0 (default: that of the kea-dhcp4 installed here)" },
  'hooks-dir': { env: 'KEA_KNOT_HOOKS_DIR', help: "Kea's hooks directory, with libdhcp_lease_cmds.so (and libdhcp_ha.so for a pair) (default: found under /usr/lib)" },
} as const;

export type SetupFlag = keyof typeof SETUP_SETTINGS;

const DNS_LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/i;

const domain = z.string().min(1, 'is required').transform((text) => text.toLowerCase().replace(/\.$/, '')).refine(
  (name) => name.length <= 253 && name.split('.').every((label) => DNS_LABEL.test(label)),
  'is not a valid domain name (letters, digits and hyphens in dot-separated labels, e.g. home.arpa)',
);

const ipv4 = z.string().refine((text) => ipaddr.IPv4.isValidFourPartDecimal(text), 'is not an IPv4 address like 192.168.1.2');
const list = (item: z.ZodType<string, string>) => z.string().transform((text) => text.split(',').map((s) => s.trim()).filter(Boolean)).pipe(z.array(item));

const reservation = z.strictObject({
  'hw-address': z.string().regex(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i, 'is not a MAC address like 52:54:00:12:34:56'),
  'ip-address': ipv4,
  hostname: z.string().regex(/^(?!-)[a-z0-9-]{1,63}(?<!-)$/i, 'is not a host name (one DNS label)').optional(),
});

export interface Pool { readonly start: string; readonly end: string }

export interface HaPeer { readonly name: string; readonly address: string }

export interface HaSettings {
  /** Both peers, in the order given: the first is the DNS primary and Kea's "primary" role. */
  readonly peers: readonly [HaPeer, HaPeer];
  readonly thisName: string;
  readonly secret: string;
  readonly profile: 'home' | 'fast';
}

export interface SetupSettings {
  readonly domain: string;
  readonly subnet: string;
  readonly prefixLength: number;
  readonly address: string;
  readonly interface: string;
  readonly pools: readonly Pool[];
  readonly router: string;
  readonly dnsServers: readonly string[];
  readonly leaseSeconds: number;
  readonly reservations: readonly z.output<typeof reservation>[];
  readonly dhcp6?: { readonly subnet: string; readonly pools: readonly Pool[] };
  readonly knotUser: string;
  readonly dnsPort: number;
  /** Kea's hooks directory: lease_cmds is always loaded, ha in a pair. */
  readonly hooksDir: string;
  /** What the Kea that will run the configuration accepts. */
  readonly kea: KeaFeatures;
  readonly ha?: HaSettings;
}


/** Validates raw settings; every problem is named by its flag and environment variable. */
export async function resolveSetup(raw: Partial<Record<SetupFlag, string>>): Promise<SetupSettings> {
  const problems: string[] = [];
  const problem = (flag: SetupFlag, message: string) => problems.push(`--${flag} (${SETUP_SETTINGS[flag].env}): ${message}`);
  const parse = <T>(flag: SetupFlag, schema: z.ZodType<T>, value: string | undefined): T | undefined => {
    const result = schema.safeParse(value ?? '');
    if (result.success) return result.data;
    problem(flag, `${JSON.stringify(value ?? '')} ${result.error.issues[0]!.message}`);
    return undefined;
  };

  const dom = parse('domain', domain, raw.domain);
  let network: { base: number; size: number; prefix: number; text: string } | undefined;
  if (!raw.subnet) problem('subnet', 'is required, e.g. 192.168.1.0/24');
  else {
    try {
      const [addr, prefix] = ipaddr.IPv4.parseCIDR(raw.subnet);
      if (prefix < 8 || prefix > 30) problem('subnet', `"${raw.subnet}" must have a prefix length from /8 to /30`);
      else {
        const size = 2 ** (32 - prefix);
        const base = Math.floor(toInt(addr.toString()) / size) * size;
        network = { base, size, prefix, text: `${fromInt(base)}/${prefix}` };
        if (base !== toInt(addr.toString())) problem('subnet', `"${raw.subnet}" has host bits set; did you mean ${network.text}?`);
      }
    } catch { problem('subnet', `"${raw.subnet}" is not an IPv4 subnet like 192.168.1.0/24`); }
  }
  const inSubnet = (address: string) => network !== undefined && toInt(address) > network.base && toInt(address) < network.base + network.size - 1;
  const usable = (flag: SetupFlag, address: string | undefined): string | undefined => {
    if (address === undefined || network === undefined) return address;
    if (!inSubnet(address)) problem(flag, `${address} is not a usable address of ${network.text}`);
    return address;
  };

  const addressSetting = usable('address', raw.address ? parse('address', ipv4, raw.address) : undefined);
  const router = usable('router', parse('router', ipv4, raw.router ?? (network ? fromInt(network.base + 1) : '')));

  let pools: Pool[] = [];
  if (network) {
    const ranges = raw.pools ? raw.pools.split(',').map((s) => s.trim()).filter(Boolean)
      : [`${fromInt(network.base + network.size / 2)}-${fromInt(network.base + network.size - 2)}`];
    for (const range of ranges) {
      const [start, end, extra] = range.split('-').map((s) => s.trim());
      if (!start || !end || extra !== undefined || !ipaddr.IPv4.isValidFourPartDecimal(start) || !ipaddr.IPv4.isValidFourPartDecimal(end)) {
        problem('pools', `"${range}" is not a range like 192.168.1.100-192.168.1.199`);
      } else if (!inSubnet(start) || !inSubnet(end)) {
        problem('pools', `${range} is not inside the subnet ${network.text}`);
      } else if (toInt(start) > toInt(end)) {
        problem('pools', `${range} ends before it starts`);
      } else pools.push({ start, end });
    }
    const sorted = [...pools].sort((a, b) => toInt(a.start) - toInt(b.start));
    for (let i = 1; i < sorted.length; i += 1) {
      if (toInt(sorted[i]!.start) <= toInt(sorted[i - 1]!.end)) problem('pools', `${sorted[i - 1]!.start}-${sorted[i - 1]!.end} and ${sorted[i]!.start}-${sorted[i]!.end} overlap`);
    }
    for (const [flag, addr] of [['address', addressSetting], ['router', router]] as const) {
      if (addr && pools.some((p) => toInt(addr) >= toInt(p.start) && toInt(addr) <= toInt(p.end))) problem(flag, `${addr} lies inside a DHCP pool; give it an address outside the pools`);
    }
    pools = sorted;
  }

  const pairAddresses = (raw['ha-peers'] ?? '').split(',').map((x) => x.split('=')[1]?.trim()).filter((x): x is string => !!x && ipaddr.IPv4.isValidFourPartDecimal(x));
  // A pair hands out both nodes as DNS servers: either answers for the zones.
  const dnsServers = parse('dns-servers', list(ipv4), raw['dns-servers'] ?? (pairAddresses.length > 0 ? pairAddresses.join(',') : addressSetting ?? '')) ?? [];
  let leaseSeconds = 86_400;
  if (raw['lease-time']) {
    const text = raw['lease-time'].trim();
    const ms = /^\d+$/.test(text) ? Number(text) * 1000 : text.endsWith('d') ? (parseDuration(`${text.slice(0, -1)}h`) ?? NaN) * 24 : parseDuration(text);
    if (ms === null || !Number.isFinite(ms) || ms < 60_000 || ms > 365 * 86_400_000) problem('lease-time', `"${text}" is not a lease time from 1m to 365d (e.g. 12h, 7d or 86400)`);
    else leaseSeconds = Math.round(ms / 1000);
  }

  let reservations: z.output<typeof reservation>[] = [];
  if (raw.reservations) {
    const text = await readFile(raw.reservations, 'utf8').catch((error: Error) => { problem('reservations', `cannot read ${raw.reservations}: ${error.message}`); return undefined; });
    if (text !== undefined) {
      let json: unknown;
      try { json = JSON.parse(text); } catch (error) { problem('reservations', `${raw.reservations} is not JSON: ${(error as Error).message}`); }
      if (json !== undefined) {
        const result = z.array(reservation).safeParse(json);
        if (!result.success) {
          for (const issue of result.error.issues) problem('reservations', `${raw.reservations}: [${issue.path.join('].')}: ${issue.message}`.replace(/\]\.$/, ']'));
        } else {
          reservations = result.data;
          for (const r of reservations) if (!inSubnet(r['ip-address'])) problem('reservations', `${r['ip-address']} (${r['hw-address']}) is not inside ${network?.text ?? 'the subnet'}`);
        }
      }
    }
  }

  let dhcp6: SetupSettings['dhcp6'];
  if (raw['dhcp6-subnet']) {
    try {
      const [prefix, length] = ipaddr.IPv6.parseCIDR(raw['dhcp6-subnet']);
      if (length > 120) problem('dhcp6-subnet', `"${raw['dhcp6-subnet']}" is too small for a pool; use a /64`);
      const base = ipaddr.IPv6.networkAddressFromCIDR(`${prefix.toString()}/${length}`).toNormalizedString();
      const stem = base.split(':').slice(0, 4).join(':');
      const ranges = raw['dhcp6-pools'] ? raw['dhcp6-pools'].split(',').map((s) => s.trim()) : [`${stem}::1000-${stem}::1fff`];
      const v6pools: Pool[] = [];
      for (const range of ranges) {
        const [start, end] = range.split('-').map((s) => s.trim());
        if (!start || !end || !ipaddr.IPv6.isValid(start) || !ipaddr.IPv6.isValid(end)) problem('dhcp6-pools', `"${range}" is not a range like 2001:db8:1::1000-2001:db8:1::1fff`);
        else if (!ipaddr.IPv6.parse(start).match(prefix, length) || !ipaddr.IPv6.parse(end).match(prefix, length)) problem('dhcp6-pools', `${range} is not inside ${raw['dhcp6-subnet']}`);
        else v6pools.push({ start, end });
      }
      dhcp6 = { subnet: `${ipaddr.IPv6.parse(base).toString()}/${length}`, pools: v6pools };
    } catch { problem('dhcp6-subnet', `"${raw['dhcp6-subnet']}" is not an IPv6 prefix like 2001:db8:1::/64`); }
  } else if (raw['dhcp6-pools']) problem('dhcp6-pools', 'needs --dhcp6-subnet');

  const iface = raw.interface ?? 'eth0';
  if (!/^[A-Za-z0-9_.:@-]{1,15}$/.test(iface)) problem('interface', `"${iface}" is not an interface name`);
  const dnsPort = Number(raw['dns-port'] ?? 53);
  if (!Number.isInteger(dnsPort) || dnsPort < 1 || dnsPort > 65535) problem('dns-port', `"${raw['dns-port']}" is not a port number`);
  const knotUser = raw['knot-user'] ?? 'knot';
  if (knotUser !== '' && !/^[a-z_][a-z0-9_-]*$/.test(knotUser)) problem('knot-user', `"${knotUser}" is not a user name`);

  let ha: HaSettings | undefined;
  if (raw['ha-peers'] || raw['ha-this']) {
    const peers: HaPeer[] = [];
    for (const item of (raw['ha-peers'] ?? '').split(',').map((x) => x.trim()).filter(Boolean)) {
      const [name, addr, extra] = item.split('=').map((x) => x.trim());
      if (!name || !addr || extra !== undefined || !/^[a-z][a-z0-9-]{0,30}$/.test(name)) problem('ha-peers', `"${item}" is not name=address with a lower-case name (letters, digits, -)`);
      else if (!ipaddr.IPv4.isValidFourPartDecimal(addr)) problem('ha-peers', `${addr} (${name}) is not an IPv4 address`);
      else if (network && !inSubnet(addr)) problem('ha-peers', `${addr} (${name}) is not inside ${network.text}`);
      else peers.push({ name, address: addr });
    }
    if (peers.length !== 2) problem('ha-peers', `an HA pair needs exactly two peers, got ${peers.length}`);
    else if (peers[0]!.name === peers[1]!.name || peers[0]!.address === peers[1]!.address) problem('ha-peers', 'the two peers need different names and addresses');
    const self = peers.find((p) => p.name === raw['ha-this']);
    if (!raw['ha-this']) problem('ha-this', 'is required with --ha-peers: the name of this node');
    else if (!self) problem('ha-this', `"${raw['ha-this']}" is not one of the peers (${peers.map((p) => p.name).join(', ')})`);
    const secret = (await pairSecret(raw, problem)) ?? '';
    const profile = raw['ha-profile'] ?? 'home';
    if (profile !== 'home' && profile !== 'fast') problem('ha-profile', `"${profile}" is not home or fast`);
    if (peers.length === 2 && self && secret.length >= 20 && (profile === 'home' || profile === 'fast')) {
      ha = { peers: [peers[0]!, peers[1]!], thisName: self.name, secret, profile };
    }
  }
  const pairWanted = Boolean(raw['ha-peers'] || raw['ha-this']);
  const libraries = pairWanted ? [LEASE_CMDS_HOOK, HA_HOOK] : [LEASE_CMDS_HOOK];
  const hooksDir = raw['hooks-dir'] ?? findHooksDir(libraries);
  if (!hooksDir) problem('hooks-dir', `Kea's hooks directory (with ${libraries.join(' and ')}) was not found under /usr/lib; install Kea's hook packages or give its directory`);
  const address = addressSetting ?? (ha ? thisPeer(ha).address : undefined);
  if (address === undefined) problem('address', "is required: this server's LAN address");
  else if (ha && address !== thisPeer(ha).address) problem('address', `${address} is not ${ha.thisName}'s address in --ha-peers`);

  const series = raw['kea-version'] ? parseKeaSeries(`${raw['kea-version']}.0`) : await installedKeaSeries();
  if (!series) problem('kea-version', raw['kea-version'] ? `${JSON.stringify(raw['kea-version'])} is not a Kea series like 2.6 or 3.0` : 'kea-dhcp4 -v could not be run to learn the Kea series; install Kea or give the series, e.g. 3.0');

  if (problems.length > 0 || !dom || !network || !address || !router || !hooksDir || !series) {
    throw new KeaKnotError('E_CONFIG', `the setup settings have ${problems.length} problem${problems.length === 1 ? '' : 's'}; nothing was written`, { details: problems });
  }
  return {
    domain: dom, subnet: network.text, prefixLength: network.prefix, address, interface: iface, pools, router, dnsServers,
    leaseSeconds, reservations, ...(dhcp6 ? { dhcp6 } : {}), knotUser, dnsPort, hooksDir, kea: keaFeatures(series), ...(ha ? { ha } : {}),
  };
}

/** A pair's shared secret from --ha-secret or the file --ha-secret-file names; undefined after a problem. */
async function pairSecret(raw: Partial<Record<SetupFlag, string>>, problem: (flag: SetupFlag, message: string) => void): Promise<string | undefined> {
  const file = raw['ha-secret-file'];
  if (!file) {
    if ((raw['ha-secret'] ?? '').length >= 20) return raw['ha-secret'];
    problem('ha-secret', `is required for a pair, at least 20 characters, the same on both nodes (e.g. openssl rand -hex 24), or give --ha-secret-file (${SETUP_SETTINGS['ha-secret-file'].env})`);
    return undefined;
  }
  let text: string;
  try { text = (await readFile(file, 'utf8')).trim(); } catch (error) {
    problem('ha-secret-file', `cannot read ${file}: ${(error as Error).message}; mount the secret there or correct the path`);
    return undefined;
  }
  if (text.length < 20) problem('ha-secret-file', `${file} holds ${text.length} characters; the secret needs at least 20, the same on both nodes (e.g. openssl rand -hex 24 > ${file})`);
  else if (raw['ha-secret'] !== undefined && raw['ha-secret'] !== text) problem('ha-secret-file', `${file} and --ha-secret (${SETUP_SETTINGS['ha-secret'].env}) hold different secrets; set only one of them`);
  else return text;
  return undefined;
}

/** Kea's hooks directory holding `libraries`: /usr/lib/<multiarch>/kea/hooks on Debian, /usr/lib/kea/hooks on Alpine. */
export function findHooksDir(libraries: readonly string[], root = '/usr/lib'): string | undefined {
  const candidates = [path.join(root, 'kea/hooks')];
  try {
    for (const entry of readdirSync(root)) candidates.push(path.join(root, entry, 'kea/hooks'));
  } catch { /* no /usr/lib: nothing found */ }
  return candidates.find((dir) => libraries.every((library) => existsSync(path.join(dir, library))));
}

/** The reverse (in-addr.arpa) zone covering the subnet, on an octet boundary. */
export function reverseZone(subnet: string): string {
  const [address, prefix] = subnet.split('/') as [string, string];
  const octets = Math.min(3, Math.floor(Number(prefix) / 8));
  return `${address.split('.').slice(0, octets).reverse().join('.')}.in-addr.arpa`;
}

/** The ip6.arpa zone of an IPv6 prefix, on a nibble boundary. */
export function reverseZone6(prefix: string): string {
  const [address, length] = prefix.split('/') as [string, string];
  const nibbles = ipaddr.IPv6.parse(address).toByteArray().map((b) => b.toString(16).padStart(2, '0')).join('').slice(0, Math.floor(Number(length) / 4));
  return `${[...nibbles].reverse().join('.')}.ip6.arpa`;
}

/** Every zone Knot serves and DDNS updates: the domain and the reverse zones. */
export function zonesOf(s: SetupSettings): string[] {
  return [s.domain, reverseZone(s.subnet), ...(s.dhcp6 ? [reverseZone6(s.dhcp6.subnet)] : [])];
}
