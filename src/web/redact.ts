import { readFileSync, statSync } from 'node:fs';
import { haPassword } from '../setup/ha.js';
import { filesOf, pathsFrom } from '../setup/paths.js';
import { derivedTsigKey } from '../setup/tsig.js';
import { escapeHtml } from './html.js';

export const REDACTED = '[secret hidden]';

/**
 * The secrets the supervisor knows of, taken out of everything the dashboard sends (pages
 * and log lines): the dashboard password, the API token, the HA secret and what is derived
 * from it (HA password, TSIG keys), and every `secret:` of knot.conf (the DDNS key of a
 * single node is random and lives only there and in the DDNS daemon's file).
 */
export class Redactor {
  readonly #fixed: string[];
  readonly #knotConf: string;
  #knotStamp = '';
  #knotSecrets: string[] = [];

  constructor(secrets: readonly (string | undefined)[], env: NodeJS.ProcessEnv = process.env) {
    const fixed = secrets.filter((s): s is string => s !== undefined && s.length >= 4);
    const haSecret = env.KEA_KNOT_HA_SECRET ?? readQuietly(env.KEA_KNOT_HA_SECRET_FILE);
    if (haSecret !== undefined && haSecret.length > 0) {
      fixed.push(haSecret, haPassword({ secret: haSecret } as Parameters<typeof haPassword>[0]));
      for (const name of ['kea-knot-ddns', 'kea-knot-xfr']) fixed.push(derivedTsigKey(haSecret, name).secret);
    }
    this.#fixed = fixed;
    this.#knotConf = filesOf(pathsFrom(env)).knotConf;
  }

  /** The secrets now: knot.conf is read again when it changed (setup --force writes a new key). */
  secrets(): string[] {
    let stamp = '';
    try {
      const s = statSync(this.#knotConf);
      stamp = `${s.ino}:${s.mtimeMs}:${s.size}`;
    } catch { /* no knot.conf yet */ }
    if (stamp !== this.#knotStamp) {
      this.#knotStamp = stamp;
      const text = stamp === '' ? '' : readQuietly(this.#knotConf) ?? '';
      this.#knotSecrets = [...text.matchAll(/^\s*secret:\s*"?([A-Za-z0-9+/=]{8,})"?\s*$/gm)].map((m) => m[1]!);
    }
    return [...this.#fixed, ...this.#knotSecrets];
  }

  /** `text` with every secret, raw or HTML-escaped, replaced. */
  redact(text: string): string {
    let out = text;
    for (const secret of this.secrets()) {
      if (out.includes(secret)) out = out.split(secret).join(REDACTED);
      const escaped = escapeHtml(secret);
      if (escaped !== secret && out.includes(escaped)) out = out.split(escaped).join(REDACTED);
    }
    return out;
  }
}

function readQuietly(file: string | undefined): string | undefined {
  if (file === undefined || file === '') return undefined;
  try { return readFileSync(file, 'utf8').trim(); } catch { return undefined; }
}
