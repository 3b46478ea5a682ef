import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import type { ExportHeader } from './proto.ts';

/** An exported subnet: the export header and every file's bytes, checked against their SHA-256. */
export class ExportedModel {
  constructor(
    readonly header: ExportHeader,
    /** File contents by relative path (`model.json`, `weights.bin`, `arch.json`). */
    readonly files: ReadonlyMap<string, Uint8Array>,
  ) {}

  /** Writes the files under `dir` (created if needed) and returns their paths. Throws if a path escapes `dir`. */
  async writeTo(dir: string): Promise<string[]> {
    const written: string[] = [];
    for (const f of this.header.files) {
      const path = resolve(dir, f.path);
      if (relative(resolve(dir), path).startsWith('..')) throw new Error(`export path escapes the directory: ${f.path}`);
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, this.files.get(f.path) ?? new Uint8Array());
      written.push(join(dir, f.path));
    }
    return written;
  }
}
