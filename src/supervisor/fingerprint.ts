import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';

/** Contents of files by absolute path, as sha256 (null: missing or unreadable). */
export type Fingerprints = ReadonlyMap<string, string | null>;

async function hashOf(file: string): Promise<string | null> {
  try {
    return createHash('sha256').update(await readFile(file)).digest('hex');
  } catch {
    return null;
  }
}

/** What `files` hold now. */
export async function fingerprint(files: readonly string[]): Promise<Fingerprints> {
  const entries = await Promise.all(files.map(async (file) => [path.resolve(file), await hashOf(file)] as const));
  return new Map(entries);
}

/** Whether `file` holds what it held when `taken` was taken; false for a file `taken` does not cover. */
export async function unchangedSince(taken: Fingerprints | undefined, file: string): Promise<boolean> {
  const absolute = path.resolve(file);
  if (taken === undefined || !taken.has(absolute)) return false;
  return (await hashOf(absolute)) === taken.get(absolute);
}
