import { KeaKnotError } from '../errors.js';
import { convertDhcpHost, importDnsmasq } from './dnsmasq.js';
import { finishImport, type Candidate, type ImportResult, type Skipped } from './import.js';

/**
 * Pi-hole's static leases, from either of its formats, told apart by content:
 * - v6: pihole.toml, `hosts = [ "MAC,IP,NAME", ... ]` in the [dhcp] table (or a
 *   top-level `dhcp.hosts = [...]`); each string is a dnsmasq dhcp-host value.
 * - v5: /etc/dnsmasq.d/04-pihole-static-dhcp.conf, dhcp-host=MAC,IP[,NAME] lines (and
 *   dhcp-host=MAC,NAME for a name without a fixed address).
 */
export function importPihole(text: string, file: string): ImportResult {
  if (!/^[ \t]*(\[[ \t]*dhcp[ \t]*\]|dhcp[ \t]*\.[ \t]*hosts[ \t]*=)/m.test(text)) return importDnsmasq(text);
  const candidates: Candidate[] = [];
  const skipped: Skipped[] = [];
  for (const item of tomlValue(text, file, ['dhcp', 'hosts'])) {
    if (item.string === undefined) {
      skipped.push({ line: item.line, text: item.raw, reason: 'not a string; Pi-hole writes each static lease as "MAC,IP,NAME"' });
      continue;
    }
    const result = convertDhcpHost(item.string, item.line, item.string);
    if (result.candidate) candidates.push(result.candidate);
    skipped.push(...result.skipped);
  }
  return finishImport(candidates, skipped);
}

/** An array element: its line, its source text and, if it is a string, its value. */
interface TomlItem { readonly line: number; readonly raw: string; readonly string?: string }

interface TomlValue { readonly start: number; readonly raw: string; readonly string?: string; readonly items?: TomlValue[] }

/**
 * The elements of the array at `key` in a TOML document (empty if the key is absent).
 * Only as much TOML as finding that key safely needs: tables, dotted and quoted keys, all
 * four string forms, arrays, inline tables, scalars, comments. E_CONFIG with the line
 * where the document cannot be read.
 */
function tomlValue(text: string, file: string, key: readonly string[]): TomlItem[] {
  let p = 0;
  const lineAt = (at: number) => text.slice(0, at).split('\n').length;
  const fail = (what: string, at = p): never => {
    throw new KeaKnotError('E_CONFIG', `${file}:${lineAt(at)}: ${what}; this is not TOML that Pi-hole wrote: fix the line or import the v5 04-pihole-static-dhcp.conf instead`);
  };
  // The text matched by a sticky regex at p, which moves past it.
  const match = (sticky: RegExp): string | undefined => {
    sticky.lastIndex = p;
    const found = sticky.exec(text)?.[0];
    if (found !== undefined) p += found.length;
    return found;
  };
  const skipSpace = (newlines: boolean) => {
    for (;;) {
      const c = text[p];
      if (c === ' ' || c === '\t' || (newlines && (c === '\n' || c === '\r'))) p += 1;
      else if (c === '#') while (p < text.length && text[p] !== '\n') p += 1;
      else return;
    }
  };
  const quoted = (): string => {
    const start = p;
    const multi = text.startsWith(text[p]!.repeat(3), p);
    const quote = text[p]!;
    const end = multi ? quote.repeat(3) : quote;
    p += end.length;
    let value = '';
    while (!text.startsWith(end, p)) {
      const c = text[p];
      if (c === undefined || (!multi && c === '\n')) fail('a string is not closed', start);
      if (c === '\\' && quote === '"') {
        const e = text[p + 1]!;
        const simple: Record<string, string> = { b: '\b', t: '\t', n: '\n', f: '\f', r: '\r', '"': '"', '\\': '\\' };
        if (simple[e] !== undefined) { value += simple[e]; p += 2; } else if (e === 'u' || e === 'U') {
          const digits = text.slice(p + 2, p + (e === 'u' ? 6 : 10));
          if (!/^[0-9a-f]+$/i.test(digits)) fail('a \\u escape needs hex digits');
          value += String.fromCodePoint(parseInt(digits, 16));
          p += 2 + digits.length;
        } else if (multi && /[ \t\r\n]/.test(e)) { p += 1; skipSpace(true); } else fail(`unknown escape \\${e}`);
      } else { value += c; p += 1; }
    }
    p += end.length;
    return value;
  };
  const keyPath = (stop: string): string[] => {
    const parts: string[] = [];
    for (;;) {
      skipSpace(false);
      const c = text[p];
      if (c === '"' || c === "'") parts.push(quoted());
      else {
        parts.push(match(/[A-Za-z0-9_-]+/y) ?? fail(`expected a key before "${stop}"`));
      }
      skipSpace(false);
      if (text[p] !== '.') return parts;
      p += 1;
    }
  };
  const value = (): TomlValue => {
    skipSpace(false);
    const start = p;
    const c = text[p];
    if (c === '"' || c === "'") {
      const string = quoted();
      return { start, raw: text.slice(start, p), string };
    }
    if (c === '[') {
      p += 1;
      const items: TomlValue[] = [];
      for (;;) {
        skipSpace(true);
        if (text[p] === ']') break;
        items.push(value());
        skipSpace(true);
        if (text[p] === ',') p += 1;
        else if (text[p] !== ']') fail('expected "," or "]" in an array');
      }
      p += 1;
      return { start, raw: text.slice(start, p), items };
    }
    if (c === '{') {
      p += 1;
      skipSpace(false);
      while (text[p] !== '}') {
        keyPath('=');
        if (text[p] !== '=') fail('expected "=" in an inline table');
        p += 1;
        value();
        skipSpace(false);
        if (text[p] === ',') { p += 1; skipSpace(false); } else if (text[p] !== '}') fail('expected "," or "}" in an inline table');
      }
      p += 1;
      return { start, raw: text.slice(start, p) };
    }
    const scalar = match(/[^,\]}\s#]+/y) ?? fail('expected a value');
    return { start, raw: scalar };
  };

  let table: string[] = [];
  let found: TomlValue[] = [];
  const same = (path: readonly string[]) => path.length === key.length && path.every((k, i) => k === key[i]);
  for (;;) {
    skipSpace(true);
    if (p >= text.length) return found.map((v) => ({ line: lineAt(v.start), raw: v.raw, ...(v.string === undefined ? {} : { string: v.string }) }));
    if (text[p] === '[') {
      const array = text[p + 1] === '[';
      p += array ? 2 : 1;
      table = keyPath(']');
      if (!text.startsWith(array ? ']]' : ']', p)) fail('a table header is not closed with "]"');
      p += array ? 2 : 1;
    } else {
      const start = p;
      const path = [...table, ...keyPath('=')];
      if (text[p] !== '=') fail('expected "key = value"', start);
      p += 1;
      skipSpace(false);
      const v = value();
      if (same(path)) found = v.items ?? fail(`${key.join('.')} is not an array`, v.start);
    }
    skipSpace(false);
    if (p < text.length && text[p] !== '\n' && text[p] !== '\r') fail('unexpected text after a value');
  }
}
