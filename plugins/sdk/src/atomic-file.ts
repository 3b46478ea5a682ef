import { randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import path from 'node:path';

/** Errors of a directory fsync that mean the file system does not do it, not that it failed. */
const DIR_SYNC_UNSUPPORTED = new Set(['EINVAL', 'ENOTSUP', 'EOPNOTSUPP', 'EPERM', 'EISDIR', 'EBADF']);

/**
 * Writes `data` (text, or the bytes of one or more views in order) to `file` so that a reader, or the file after a crash, holds either the old
 * contents or all of the new: a temporary file beside it is written and fsynced, renamed over
 * `file`, and the directory is fsynced so the rename itself survives a crash. Rejects with the file
 * system's error (the temporary file is removed then); `file`'s directory must exist.
 */
export async function writeFileAtomic(file: string, data: string | ArrayBufferView | readonly ArrayBufferView[]): Promise<void> {
  const tmp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    const fh = await open(tmp, 'w');
    try {
      // each writeFile continues at the handle's position: the parts are written one after the other
      for (const part of Array.isArray(data) ? data : [data]) {
        await fh.writeFile(typeof part === 'string' ? part : new Uint8Array(part.buffer, part.byteOffset, part.byteLength));
      }
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  await syncDir(path.dirname(file));
}

/**
 * fsyncs a directory, so that a file created, renamed or removed in it stays so after a crash. A
 * file system that refuses fsync on directories is let be (its renames are atomic all the same);
 * any other error rejects.
 */
export async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } catch (err) {
    if (!DIR_SYNC_UNSUPPORTED.has((err as NodeJS.ErrnoException).code ?? '')) throw err;
  } finally {
    await fh.close();
  }
}
