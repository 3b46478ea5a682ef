import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { datasetError } from './dataset.ts';

const gunzipAsync = promisify(gunzip);

/** Checks that `path` is a directory; INVALID_DATASET naming the path and the format otherwise. */
export async function requireDirectory(path: string | undefined, format: string): Promise<string> {
  if (!path) throw datasetError(`dataset.path is required for format '${format}'`);
  const st = await stat(path).catch(() => undefined);
  if (!st) throw datasetError(`dataset directory '${path}' does not exist`);
  if (!st.isDirectory()) throw datasetError(`dataset.path '${path}' is not a directory`);
  return path;
}

/**
 * Reads the first of `names` that exists in `dir`, each also tried with `.gz` (gunzipped) when
 * `gz` is set. INVALID_DATASET naming the expected file when none exists or gunzip fails.
 */
export async function readDatasetFile(dir: string, names: readonly string[], gz: boolean): Promise<{ file: string; data: Uint8Array }> {
  for (const name of names) {
    for (const candidate of gz ? [name, `${name}.gz`] : [name]) {
      const file = join(dir, candidate);
      const st = await stat(file).catch(() => undefined);
      if (!st?.isFile()) continue;
      const raw = await readFile(file).catch((err: NodeJS.ErrnoException) => {
        throw datasetError(`dataset file '${candidate}' in '${dir}' could not be read (${err.code ?? 'read error'})`);
      });
      if (!candidate.endsWith('.gz')) return { file: candidate, data: raw };
      try {
        return { file: candidate, data: await gunzipAsync(raw) };
      } catch {
        throw datasetError(`dataset file '${candidate}' in '${dir}' is not valid gzip data`);
      }
    }
  }
  const alts = gz ? names.flatMap((n) => [n, `${n}.gz`]) : [...names];
  throw datasetError(`dataset file '${names[0]}' is missing in '${dir}' (looked for ${alts.map((a) => `'${a}'`).join(', ')})`);
}

