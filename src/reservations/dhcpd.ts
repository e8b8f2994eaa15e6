import { KeaKnotError } from '../errors.js';
import { finishImport, importHostname, type Candidate, type ImportResult, type Skipped } from './import.js';
import { normaliseIpv4, normaliseMac } from './reservation.js';

interface Token {
  readonly kind: 'word' | 'string' | 'punct';
  readonly value: string;
  readonly line: number;
}

/** A statement of dhcpd.conf: its words up to ";" or "{", and the block after "{" if any. */
interface Statement {
  readonly tokens: readonly Token[];
  readonly line: number;
  readonly block?: readonly Statement[];
}

const STRING_ESCAPES: Record<string, string> = { t: '\t', n: '\n', r: '\r', '"': '"', '\\': '\\' };

/** dhcpd.conf's lexical level: "#" comments, quoted strings, ; { } , = and words. */
function tokenize(text: string, file: string): Token[] {
  const tokens: Token[] = [];
  let line = 1;
  for (let p = 0; p < text.length;) {
    const c = text[p]!;
    if (c === '\n') { line += 1; p += 1; } else if (/\s/.test(c)) p += 1;
    else if (c === '#') { while (p < text.length && text[p] !== '\n') p += 1; } else if (c === '"') {
      const start = line;
      let value = '';
      for (p += 1; text[p] !== '"'; p += 1) {
        const d = text[p];
        if (d === undefined) throw new KeaKnotError('E_CONFIG', `${file}:${start}: a string is not closed; dhcpd would refuse this file too: add the closing quote`);
        if (d === '\n') line += 1;
        if (d === '\\' && STRING_ESCAPES[text[p + 1] ?? ''] !== undefined) { value += STRING_ESCAPES[text[p + 1]!]; p += 1; } else value += d;
      }
      p += 1;
      tokens.push({ kind: 'string', value, line: start });
    } else if (';{},='.includes(c)) { tokens.push({ kind: 'punct', value: c, line }); p += 1; } else {
      const word = /[^\s;{},="#]+/y;
      word.lastIndex = p;
      const value = word.exec(text)![0];
      tokens.push({ kind: 'word', value, line });
      p += value.length;
    }
  }
  return tokens;
}

/** The statement tree; E_CONFIG naming the line of an unbalanced brace. */
function parseStatements(tokens: readonly Token[], file: string): Statement[] {
  let i = 0;
  const block = (opened: Token | undefined): Statement[] => {
    const statements: Statement[] = [];
    let words: Token[] = [];
    for (;;) {
      const t = tokens[i];
      if (t === undefined) {
        if (opened) throw new KeaKnotError('E_CONFIG', `${file}:${opened.line}: the "{" here is never closed; add the missing "}"`);
        if (words.length > 0) statements.push({ tokens: words, line: words[0]!.line });
        return statements;
      }
      i += 1;
      if (t.kind === 'punct' && t.value === ';') {
        if (words.length > 0) statements.push({ tokens: words, line: words[0]!.line });
        words = [];
      } else if (t.kind === 'punct' && t.value === '{') {
        statements.push({ tokens: words, line: words[0]?.line ?? t.line, block: block(t) });
        words = [];
      } else if (t.kind === 'punct' && t.value === '}') {
        if (!opened) throw new KeaKnotError('E_CONFIG', `${file}:${t.line}: this "}" closes no "{"; remove it or add the missing "{"`);
        // A last statement missing its ";" is kept: what it says is clear.
        if (words.length > 0) statements.push({ tokens: words, line: words[0]!.line });
        return statements;
      } else words.push(t);
    }
  };
  return block(undefined);
}

const words = (s: Statement) => s.tokens.map((t) => t.value);
const isKeyword = (s: Statement, ...keywords: string[]) => keywords.every((k, i) => s.tokens[i]?.kind === 'word' && s.tokens[i]!.value.toLowerCase() === k);
const DNS_NAME = /^(?=.*[a-z])[a-z0-9-]+(\.[a-z0-9-]+)*\.?$/i;

/** `use-host-decl-names on;` in a scope: dhcpd then gives each host its declaration's name. */
function declNamesIn(statements: readonly Statement[], inherited: boolean): boolean {
  const flag = statements.filter((s) => isKeyword(s, 'use-host-decl-names')).pop();
  if (!flag) return inherited;
  return ['on', 'true'].includes((flag.tokens[1]?.value ?? '').toLowerCase());
}

function convertHost(host: Statement, lines: readonly string[], declNames: boolean): { candidate?: Candidate; skipped?: Skipped } {
  const text = (lines[host.line - 1] ?? '').trim();
  const skip = (reason: string) => ({ skipped: { line: host.line, text, reason } });
  const name = host.tokens[1]?.value;
  let mac: string | undefined;
  let otherHardware: string | undefined;
  let addresses: string[] | undefined;
  let ipv6: string | undefined;
  let optionName: string | undefined;
  let ddnsName: string | undefined;
  let clientId = false;
  let deleted = false;
  for (const s of host.block ?? []) {
    const w = words(s);
    if (isKeyword(s, 'hardware', 'ethernet')) mac = w[2];
    else if (isKeyword(s, 'hardware')) otherHardware = w.slice(1).join(' ');
    else if (isKeyword(s, 'fixed-address')) addresses = w.slice(1).filter((x) => x !== ',');
    else if (isKeyword(s, 'fixed-address6')) ipv6 = w.slice(1).join(' ');
    else if (isKeyword(s, 'option', 'host-name')) optionName = s.tokens[2]?.value;
    else if (isKeyword(s, 'ddns-hostname')) ddnsName = s.tokens.find((t) => t.kind === 'string')?.value;
    else if (isKeyword(s, 'option', 'dhcp-client-identifier') || isKeyword(s, 'uid') || isKeyword(s, 'host-identifier')) clientId = true;
    else if (isKeyword(s, 'deleted')) deleted = true;
  }
  if (deleted) return skip('marked "deleted" (a host entry removed through OMAPI)');
  if (mac === undefined) {
    if (otherHardware) return skip(`hardware ${otherHardware} is not Ethernet; Kea reservations here are by Ethernet MAC`);
    if (clientId) return skip('matched by client identifier, not by MAC; reserve it by the device\'s MAC with kea-knot reserve');
    return skip('no "hardware ethernet" MAC to reserve for');
  }
  if (addresses === undefined || addresses.length === 0) {
    return skip(ipv6 ? `IPv6 only (fixed-address6 ${ipv6}); kea-knot reserves IPv4 addresses for now` : 'no fixed address: dhcpd gives this host an address from a pool');
  }
  if (addresses.length > 1) return skip(`several fixed addresses (${addresses.join(', ')}): dhcpd gives the one of the network the host asks on; reserve the one of this subnet with kea-knot reserve`);
  const address = normaliseIpv4(addresses[0]!);
  if (address === undefined) {
    return skip(DNS_NAME.test(addresses[0]!)
      ? `fixed-address ${addresses[0]} is a DNS name, which dhcpd looks up when it starts; reserve the address it resolves to with kea-knot reserve MAC ADDRESS`
      : `fixed-address ${addresses[0]} is not an IPv4 address`);
  }
  const hwAddress = normaliseMac(mac);
  if (hwAddress === undefined) return skip(`hardware ethernet ${mac} is not a network card's MAC`);

  const notes: string[] = [];
  let hostname: string | undefined;
  const given = optionName ?? ddnsName;
  if (optionName !== undefined && ddnsName !== undefined && optionName !== ddnsName) notes.push(`ddns-hostname "${ddnsName}" not imported: the reservation takes option host-name "${optionName}" for both DHCP and DNS`);
  if (given !== undefined) {
    const converted = importHostname(given);
    if ('reason' in converted) return skip(converted.reason);
    hostname = converted.hostname;
    if (converted.note) notes.push(converted.note);
  } else if (name !== undefined) {
    // The declaration's name is how people name hosts in dhcpd.conf; without
    // use-host-decl-names dhcpd did not hand it out, so the user is told.
    const converted = importHostname(name);
    if ('reason' in converted) notes.push(`imported without a host name: the declaration's name "${name}" is not a DNS label`);
    else {
      hostname = converted.hostname;
      if (!declNames) notes.push(`host name ${hostname} taken from the host declaration (dhcpd had no option host-name for it)`);
      else if (converted.note) notes.push(converted.note);
    }
  }
  return { candidate: { line: host.line, text, reservation: { 'hw-address': hwAddress, 'ip-address': address, ...(hostname ? { hostname } : {}) }, notes } };
}

/**
 * Reservations from ISC dhcpd's dhcpd.conf: `host NAME { hardware ethernet MAC;
 * fixed-address IP; }` blocks wherever they are (groups, subnets, shared networks).
 * The host name is option host-name, else ddns-hostname, else the declaration's name.
 * E_CONFIG with the line if the file's braces or quotes do not balance.
 */
export function importDhcpd(text: string, file: string): ImportResult {
  const lines = text.split('\n');
  const candidates: Candidate[] = [];
  const skipped: Skipped[] = [];
  const walk = (statements: readonly Statement[], inherited: boolean) => {
    const declNames = declNamesIn(statements, inherited);
    for (const s of statements) {
      if (!s.block) continue;
      if (isKeyword(s, 'host')) {
        const result = convertHost(s, lines, declNames);
        if (result.candidate) candidates.push(result.candidate);
        if (result.skipped) skipped.push(result.skipped);
      } else walk(s.block, declNames);
    }
  };
  walk(parseStatements(tokenize(text, file), file), false);
  return finishImport(candidates, skipped);
}
