// Writers for small dataset files in the on-disk formats the readers accept, and the check of
// how the readers refuse bad ones.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { InvalidArgumentError } from '@supernetd/sdk';

export async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'supernetd-data-test-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Deterministic pixel byte of image n at flat index i. */
export function pixel(n: number, i: number): number {
  return (n * 37 + i * 11 + ((n * i) % 7)) % 256;
}

/** IDX file bytes: magic 0x0000, type, rank, big-endian dims, data. */
export function idxBytes(dims: number[], data: Uint8Array, type = 0x08): Buffer {
  const head = Buffer.alloc(4 + 4 * dims.length);
  head[2] = type;
  head[3] = dims.length;
  dims.forEach((d, i) => head.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([head, data]);
}

/** `n` images of h x w (x c) with pixel() values, labels n % classes. */
export function makeImages(n: number, h: number, w: number, c = 1, classes = 3): { pixels: Uint8Array; labels: Uint8Array } {
  const size = h * w * c;
  const pixels = new Uint8Array(n * size);
  for (let k = 0; k < n; k++) for (let i = 0; i < size; i++) pixels[k * size + i] = pixel(k, i);
  const labels = new Uint8Array(n);
  for (let k = 0; k < n; k++) labels[k] = k % classes;
  return { pixels, labels };
}

export function gz(b: Uint8Array): Buffer {
  return gzipSync(b);
}

/** One CIFAR-10 record: label byte, then 3 planes of 32x32 (R, G, B). */
export function cifarRecord(label: number, r: (p: number) => number, g: (p: number) => number, b: (p: number) => number): Buffer {
  const rec = Buffer.alloc(3073);
  rec[0] = label;
  for (let p = 0; p < 1024; p++) {
    rec[1 + p] = r(p);
    rec[1 + 1024 + p] = g(p);
    rec[1 + 2048 + p] = b(p);
  }
  return rec;
}

export type NpyDescr = '|u1' | '<f4' | '<i4' | '<i8' | '<f8' | string;

/** .npy bytes of `values` (row-major) with the given descr, shape and format version. */
export function npyBytes(descr: NpyDescr, shape: number[], values: ArrayLike<number>, opts: { version?: 1 | 2 | 3; fortran?: boolean; unaligned?: boolean } = {}): Buffer {
  const version = opts.version ?? 1;
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': ${opts.fortran ? 'True' : 'False'}, 'shape': ${shapeText}, }`;
  const lenBytes = version === 1 ? 2 : 4;
  const pre = 8 + lenBytes;
  // numpy pads to 64 bytes; `unaligned` puts the data at an odd offset like some other writers
  const total = Math.ceil((pre + header.length + 1) / 64) * 64 + (opts.unaligned ? 3 : 0);
  header = header.padEnd(total - pre - 1, ' ') + '\n';
  const head = Buffer.alloc(pre);
  Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]).copy(head);
  if (version === 1) head.writeUInt16LE(header.length, 8);
  else head.writeUInt32LE(header.length, 8);
  const code = descr.slice(1);
  let data: Buffer;
  if (code === 'u1') data = Buffer.from(Uint8Array.from(values));
  else if (code === 'f4') data = Buffer.from(Float32Array.from(values).buffer);
  else if (code === 'f8') data = Buffer.from(Float64Array.from(values).buffer);
  else if (code === 'i4') data = Buffer.from(Int32Array.from(values).buffer);
  else if (code === 'i8') data = Buffer.from(BigInt64Array.from(Array.from(values, (v) => BigInt(v))).buffer);
  else data = Buffer.alloc(values.length * Number(code.slice(1)));
  return Buffer.concat([head, Buffer.from(header, version === 3 ? 'utf8' : 'latin1'), data]);
}

/** Asserts that `p` rejects with InvalidArgumentError(INVALID_DATASET) whose message matches `pattern`. */
export function rejectsDataset(p: Promise<unknown>, pattern: RegExp): Promise<void> {
  return assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof InvalidArgumentError, `expected InvalidArgumentError, got ${String(err)}`);
    assert.equal(err.reason, 'INVALID_DATASET');
    assert.match(err.message, pattern);
    return true;
  });
}
