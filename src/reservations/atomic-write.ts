import { randomBytes } from 'node:crypto';
import { open, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import { KeaKnotError } from '../errors.js';

/**
 * Replaces `file` with `content` so that a crash leaves either the old or the new file,
 * never a torn one, and a completed call survives power loss: a temp file in the same
 * directory (rename is atomic only within a file system), fsync, rename, fsync of the
 * directory (which makes the rename itself durable). `mode` is set with fchmod, so the
 * umask does not narrow it. E_IO naming the file on failure; the temp file is removed.
 */
export async function writeFileAtomic(file: string, content: string, mode = 0o644): Promise<void> {
  const dir = path.dirname(file);
  const temp = path.join(dir, `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  let step = `create ${temp}`;
  try {
    const handle = await open(temp, 'wx', mode);
    try {
      step = `write ${temp}`;
      await handle.chmod(mode);
      await handle.writeFile(content, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    step = `rename ${temp} to ${file}`;
    await rename(temp, file);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw new KeaKnotError('E_IO', `cannot write ${file}: ${step} failed: ${(error as Error).message}`, { cause: error });
  }
  try {
    const handle = await open(dir, 'r');
    try { await handle.sync(); } finally { await handle.close(); }
  } catch (error) {
    throw new KeaKnotError('E_IO', `${file} was written but its directory ${dir} could not be synced to disk: ${(error as Error).message}`, { cause: error });
  }
}
