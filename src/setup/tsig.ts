import { hkdfSync, randomBytes } from 'node:crypto';

export interface TsigKey {
  /** The same name in Knot and in the DDNS daemon: TSIG keys match by name. */
  readonly name: string;
  readonly secret: string;
}

/** A fresh HMAC-SHA256 key: 256 random bits, as keymgr -t would make. */
export function generateTsigKey(name = 'kea-knot-ddns'): TsigKey {
  return { name, secret: randomBytes(32).toString('base64') };
}

/**
 * A secret both nodes of a pair compute alike from their shared secret, so the same
 * settings on both give the same keys without copying files between them.
 */
export function deriveSecret(shared: string, purpose: string, bytes = 32): Buffer {
  return Buffer.from(hkdfSync('sha256', shared, 'kea-knot', purpose, bytes));
}

export function derivedTsigKey(shared: string, name: string): TsigKey {
  return { name, secret: deriveSecret(shared, `tsig:${name}`).toString('base64') };
}
