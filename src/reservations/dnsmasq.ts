import { finishImport, importHostname, type Candidate, type ImportResult, type Skipped } from './import.js';
import { normaliseIpv4, normaliseMac, type Reservation } from './reservation.js';

/** One option line of a dnsmasq config file, read the way dnsmasq reads it. */
export interface DnsmasqLine {
  readonly line: number;
  /** The line as written, trimmed. */
  readonly text: string;
  /** The option name; undefined for a line without "=" (a flag, or a dhcp-hostsfile entry). */
  readonly option: string | undefined;
  readonly value: string;
}

/**
 * dnsmasq's own reading of a line (option.c, read_file): double quotes are removed, with
 * \" \\ \t \n \e \b \r escapes inside; "#" starts a comment at the line start or after
 * whitespace only (so "aa:bb#x" keeps its "#"); spaces around "=" are allowed. Returns
 * the lines that hold something, and the lines dnsmasq would refuse.
 */
export function readDnsmasqLines(text: string): { lines: DnsmasqLine[]; problems: Skipped[] } {
  const lines: DnsmasqLine[] = [];
  const problems: Skipped[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    let out = '';
    let white = true;
    for (let p = 0; p < raw.length; p += 1) {
      const c = raw[p]!;
      if (c === '"') {
        const close = readQuoted(raw, p + 1);
        if (close === undefined) {
          problems.push({ line: i + 1, text: raw.trim(), reason: 'a quote is not closed: dnsmasq refuses this line' });
          return;
        }
        out += close.value;
        p = close.end;
        white = false;
      } else if (/\s/.test(c)) {
        out += ' ';
        white = true;
      } else if (white && c === '#') break;
      else {
        out += c;
        white = false;
      }
    }
    const content = out.trim();
    if (content === '') return;
    const eq = content.indexOf('=');
    lines.push(eq < 0
      ? { line: i + 1, text: raw.trim(), option: undefined, value: content }
      : { line: i + 1, text: raw.trim(), option: content.slice(0, eq).trim(), value: content.slice(eq + 1).trim() });
  });
  return { lines, problems };
}

const ESCAPES: Record<string, string> = { '"': '"', '\\': '\\', t: '\t', n: '\n', e: '\x1b', b: '\b', r: '\r' };

function readQuoted(raw: string, from: number): { value: string; end: number } | undefined {
  let value = '';
  for (let p = from; p < raw.length; p += 1) {
    const c = raw[p]!;
    if (c === '"') return { value, end: p };
    const escaped = c === '\\' ? ESCAPES[raw[p + 1] ?? ''] : undefined;
    if (escaped !== undefined) { value += escaped; p += 1; } else value += c;
  }
  return undefined;
}

/** A hardware address as dnsmasq's parse_hex reads it. */
interface HexAddress {
  /** ARP type before a "-" ending the first field (06-...: Token Ring); undefined for any type. */
  readonly type: number | undefined;
  readonly bytes: readonly (number | '*')[];
}

/**
 * parse_hex: fields split at ":", "-" or " "; a "-" after the first field makes that field
 * the ARP type (so dnsmasq reads aa-bb-cc-dd-ee-ff as type 0xaa and five bytes); "*" is a
 * wildcard byte; a field of several digits is two digits a byte. Undefined where dnsmasq
 * says "bad hex constant".
 */
function parseHex(text: string): HexAddress | undefined {
  const parts = text.split(/([:\- ])/);
  let type: number | undefined;
  let typeAllowed = true;
  const bytes: (number | '*')[] = [];
  for (let k = 0; k < parts.length; k += 2) {
    const field = parts[k]!;
    const separator = parts[k + 1];
    if (field === '') continue;
    if (!/^[0-9a-f*]+$/i.test(field)) return undefined;
    if (separator === '-' && bytes.length === 0 && typeAllowed) {
      type = parseInt(field, 16);
      typeAllowed = false;
      continue;
    }
    if (field === '*') bytes.push('*');
    else if (field.includes('*')) return undefined;
    else for (let j = 0; j < field.length; j += 2) bytes.push(parseInt(field.slice(j, j + 2), 16));
  }
  return bytes.length > 0 && bytes.length <= 16 ? { type, bytes } : undefined;
}

/** An Ethernet MAC from a dnsmasq hardware address, or why it is not one. */
function ethernetMac(text: string): { mac: string } | { reason: string } {
  const hex = parseHex(text);
  if (!hex) return { reason: `"${text}" is not a hardware address (dnsmasq: bad hex constant)` };
  if (hex.bytes.includes('*')) return { reason: `${text} has wildcards; Kea reserves for exact MACs only` };
  const bytes = hex.bytes as number[];
  const shown = bytes.map((b) => b.toString(16).padStart(2, '0')).join(':');
  if (hex.type !== undefined && hex.type !== 1) {
    return { reason: `dnsmasq reads ${text} as hardware type 0x${hex.type.toString(16)} with the address ${shown}, which is not Ethernet${bytes.length === 5 ? `; if ${text} is a MAC, write it with colons` : ''}` };
  }
  const mac = bytes.length === 6 ? normaliseMac(shown) : undefined;
  if (mac === undefined) return { reason: `${text} is not an Ethernet MAC (${bytes.length === 6 ? 'a multicast address' : `${bytes.length} bytes, not 6`})` };
  return { mac };
}

const LEASE_TIME = /^\d+[wdhms]?$/i;
const DASHED_MAC = /^[0-9a-f]{2}(-[0-9a-f]{2}){5}$/i;

/**
 * One dhcp-host value ("[<hwaddr>][,id:<client_id>|*][,set:<tag>][,tag:<tag>][,<ipaddr>]
 * [,<hostname>][,<lease_time>][,ignore]"), its parts told apart the way dnsmasq does:
 * anything with ":" is id:, set:, tag:, an [IPv6] address or a hardware address; a
 * dotted quad is the IPv4 address; digits with an optional s/m/h/d/w, or "infinite", are
 * the lease time; "ignore"; anything else is the host name. A later address or name
 * replaces an earlier one, as in dnsmasq.
 */
export function convertDhcpHost(value: string, line: number, text: string): { candidate?: Candidate; skipped: Skipped[] } {
  const skip = (reason: string) => ({ skipped: [{ line, text, reason }] });
  const macs: string[] = [];
  const clientIds: string[] = [];
  const notes: string[] = [];
  const ipv6: string[] = [];
  let ipv4: string | undefined;
  let name: string | undefined;
  let ignore = false;
  for (const part of value.split(',').map((p) => p.trim())) {
    if (part === '') continue;
    if (part.includes(':')) {
      const lower = part.toLowerCase();
      if (lower.startsWith('id:')) {
        clientIds.push(part);
        notes.push(lower === 'id:*' ? 'id:* not imported: Kea matches the reservation by MAC whatever client identifier is sent' : `${part} not imported: the reservation matches the MAC only`);
      }
      else if (lower.startsWith('set:') || lower.startsWith('net:')) notes.push(`${part} not imported: kea-knot has no dnsmasq tags`);
      else if (lower.startsWith('tag:')) notes.push(`${part} not imported: dnsmasq used this entry only for requests tagged ${part.slice(4)}, Kea uses it for every request`);
      else if (part.startsWith('[') && part.endsWith(']')) {
        ipv6.push(part);
        notes.push(`${part} not imported: kea-knot reserves IPv4 addresses for now`);
      }
      else macs.push(part);
    } else if (part.includes('.') && normaliseIpv4(part) !== undefined) {
      if (ipv4 !== undefined) notes.push(`${ipv4} replaced by ${part}, the later address, as dnsmasq does`);
      ipv4 = normaliseIpv4(part);
    } else if (LEASE_TIME.test(part) || part === 'infinite') {
      notes.push(`lease time ${part} not imported: Kea gives reserved hosts the subnet's lease time`);
    } else if (part === 'ignore') ignore = true;
    else {
      if (name !== undefined) notes.push(`host name ${name} replaced by ${part}, the later name, as dnsmasq does`);
      name = part;
    }
  }
  if (ignore) return skip('"ignore": dnsmasq refuses DHCP to this host, which a Kea reservation cannot say');
  if (ipv4 === undefined) {
    if (ipv6.length > 0) return skip(`IPv6 only (${ipv6.join(', ')}); kea-knot reserves IPv4 addresses for now`);
    return skip(`no fixed address${name === undefined ? '' : `: dnsmasq gives ${name} its address from /etc/hosts if it has one there; reserve that with kea-knot reserve MAC ADDRESS ${name}`}`);
  }
  if (macs.length === 0) {
    if (clientIds.length > 0) return skip(`matched by client identifier (${clientIds.join(', ')}), not by MAC; reserve it by the device's MAC with kea-knot reserve`);
    if (name !== undefined && DASHED_MAC.test(name)) return skip(`no MAC: dnsmasq reads ${name} as a host name (a MAC needs colons); write ${name.replace(/-/g, ':')} and import again`);
    return skip(`no MAC: dnsmasq gives ${ipv4} to the client that calls itself ${name ?? '(no name given)'}; Kea reservations need a MAC`);
  }
  let hostname: string | undefined;
  if (name !== undefined) {
    const converted = importHostname(name);
    if ('reason' in converted) return skip(converted.reason);
    hostname = converted.hostname;
    if (converted.note) notes.push(converted.note);
  }

  const skipped: Skipped[] = [];
  let reserved: string | undefined;
  for (const macText of macs) {
    const converted = ethernetMac(macText);
    if ('reason' in converted) skipped.push({ line, text, reason: converted.reason });
    else if (reserved === undefined) reserved = converted.mac;
    else {
      // dnsmasq gives the address to whichever MAC asks (one laptop, two interfaces);
      // Kea allows one MAC per reserved address.
      skipped.push({ line, text, reason: `${converted.mac} shares ${ipv4} with ${reserved} on this line; a Kea reservation holds one MAC, so ${ipv4} went to ${reserved}; reserve another address for ${converted.mac} if it needs one` });
    }
  }
  if (reserved === undefined) return { skipped };
  const reservation: Reservation = { 'hw-address': reserved, 'ip-address': ipv4, ...(hostname ? { hostname } : {}) };
  return { candidate: { line, text, reservation, notes }, skipped };
}

const OTHER_SOURCES: Record<string, string> = {
  'dhcp-hostsfile': 'more dhcp-host entries are in that file: import it too',
  'conf-file': 'more options are in that file: import it too if it has dhcp-host lines',
  'conf-dir': 'more options are in that directory: import its files too if they have dhcp-host lines',
  'read-ethers': 'dnsmasq also reads /etc/ethers, which is not imported; reserve its hosts with kea-knot reserve',
};

/**
 * Reservations from a dnsmasq config file (dhcp-host= lines; other options are ignored,
 * those pointing to more hosts are listed) or a dhcp-hostsfile (one dhcp-host value a line).
 */
export function importDnsmasq(text: string): ImportResult {
  const { lines, problems } = readDnsmasqLines(text);
  const candidates: Candidate[] = [];
  const skipped: Skipped[] = [...problems];
  for (const l of lines) {
    const isHost = l.option === 'dhcp-host' || (l.option === undefined && l.value.includes(','));
    if (isHost) {
      const result = convertDhcpHost(l.value, l.line, l.text);
      if (result.candidate) candidates.push(result.candidate);
      skipped.push(...result.skipped);
    } else {
      const other = OTHER_SOURCES[l.option ?? l.value];
      if (other) skipped.push({ line: l.line, text: l.text, reason: other });
    }
  }
  return finishImport(candidates, skipped);
}
