import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import type { ExportHeader, ExportSubnetResponse } from './proto.ts';

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

/**
 * Reassembles an ExportSubnet stream: one header first, then each file's chunks at increasing,
 * gapless offsets. Throws Error when the header is missing or repeated, a chunk comes before the
 * header, names a file the header does not list or leaves a gap, or a file's size or SHA-256
 * differs from the header's. Errors of the stream itself propagate unchanged.
 */
export async function collectExport(stream: AsyncIterable<ExportSubnetResponse>): Promise<ExportedModel> {
  let header: ExportHeader | undefined;
  const parts = new Map<string, Uint8Array[]>();
  const sizes = new Map<string, number>();
  for await (const msg of stream) {
    const p = msg.payload;
    if (p.case === 'header') {
      if (header) throw new Error('export stream sent a second header');
      header = p.value;
      for (const f of header.files) {
        parts.set(f.path, []);
        sizes.set(f.path, 0);
      }
    } else if (p.case === 'chunk') {
      if (!header) throw new Error('export chunk arrived before the header');
      const { path, offset, data } = p.value;
      const list = parts.get(path);
      const size = sizes.get(path);
      if (list === undefined || size === undefined) throw new Error(`export chunk of ${path}, a file the header does not list`);
      if (BigInt(size) !== offset) throw new Error(`export chunk of ${path} at offset ${offset}, expected ${size}`);
      list.push(data);
      sizes.set(path, size + data.byteLength);
    }
  }
  if (!header) throw new Error('export stream ended without a header');
  const files = new Map<string, Uint8Array>();
  for (const f of header.files) {
    const data = Buffer.concat(parts.get(f.path) ?? []);
    const sha = createHash('sha256').update(data).digest('hex');
    if (BigInt(data.byteLength) !== f.size || sha !== f.sha256) {
      throw new Error(`exported file ${f.path} does not match its size or SHA-256 (${data.byteLength} bytes of ${f.size}, sha256 ${sha})`);
    }
    files.set(f.path, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  }
  return new ExportedModel(header, files);
}
