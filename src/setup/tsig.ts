import { randomBytes } from 'node:crypto';

export interface TsigKey {
  /** The same name in Knot and in the DDNS daemon: TSIG keys match by name. */
  readonly name: string;
  readonly secret: string;
}

/** A fresh HMAC-SHA256 key: 256 random bits, as keymgr -t would make. */
export function generateTsigKey(name = 'kea-knot-ddns'): TsigKey {
  return { name, secret: randomBytes(32).toString('base64') };
}
