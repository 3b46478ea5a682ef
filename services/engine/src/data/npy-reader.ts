import { endianness } from 'node:os';
import { datasetError, type RawSplit } from './dataset.ts';
import { readDatasetFile, requireDirectory } from './dataset-files.ts';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
const DTYPES = { u1: 1, f4: 4, i4: 4, i8: 8, f8: 8 } as const;
type Dtype = keyof typeof DTYPES;

/** A parsed .npy array. `data` is the raw little-endian element bytes, aligned to 8 bytes (copied only when the file's data is not). */
export interface NpyArray {
  dtype: Dtype;
  shape: number[];
  data: Uint8Array;
}

/**
 * Reads `x_train.npy`, `y_train.npy`, `x_test.npy`, `y_test.npy` from `path`. x: [N,H,W] or
 * [N,H,W,C]; uint8 (and integer) pixels are scaled by 1/255, float pixels are used as they are.
 * y: [N] or [N,1] integer class labels (float dtypes must hold whole numbers).
 * Throws InvalidArgumentError (INVALID_DATASET) naming the file on a missing file, bad magic or
 * header, unsupported dtype or fortran order, truncated data, bad rank, non-finite pixels,
 * negative labels, or an x/y count mismatch.
 */
export async function readNpy(path: string | undefined): Promise<{ train: RawSplit; test: RawSplit }> {
  const dir = await requireDirectory(path, 'npy');
  const [train, test] = await Promise.all([readNpySplit(dir, 'train'), readNpySplit(dir, 'test')]);
  return { train, test };
}

async function readNpySplit(dir: string, split: string): Promise<RawSplit> {
  const [xf, yf] = await Promise.all([
    readDatasetFile(dir, [`x_${split}.npy`], false),
    readDatasetFile(dir, [`y_${split}.npy`], false),
  ]);
  const x = parseNpy(xf.data, xf.file);
  const y = parseNpy(yf.data, yf.file);
  if (x.shape.length !== 3 && x.shape.length !== 4) {
    throw datasetError(`'${xf.file}' has shape (${x.shape.join(', ')}); images need [N,H,W] or [N,H,W,C]`);
  }
  if (y.shape.length !== 1 && !(y.shape.length === 2 && y.shape[1] === 1)) {
    throw datasetError(`'${yf.file}' has shape (${y.shape.join(', ')}); labels need [N] or [N,1]`);
  }
  const [n, h, w, c = 1] = x.shape as [number, number, number, number?];
  if (y.shape[0] !== n) throw datasetError(`count mismatch: '${xf.file}' has ${n} images but '${yf.file}' has ${y.shape[0]} labels`);
  if (h === 0 || w === 0 || c === 0) throw datasetError(`'${xf.file}' has an empty image shape [${h},${w},${c}]`);
  return { pixels: toPixels(x, xf.file), labels: toLabels(y, yf.file), count: n, shape: [h, w, c] };
}

/** Parses a .npy file (format versions 1, 2 and 3). */
export function parseNpy(buf: Uint8Array, file: string): NpyArray {
  if (buf.length < 10 || MAGIC.some((b, i) => buf[i] !== b)) throw datasetError(`'${file}' is not an NPY file (bad magic)`);
  const major = buf[6] as number;
  if (major < 1 || major > 3) throw datasetError(`'${file}' has NPY format version ${major}; versions 1 to 3 are supported`);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const lenBytes = major === 1 ? 2 : 4;
  if (buf.length < 8 + lenBytes) throw datasetError(`'${file}' is truncated in its NPY header`);
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = 8 + lenBytes + headerLen;
  if (buf.length < start) throw datasetError(`'${file}' is truncated in its NPY header`);
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(buf.subarray(8 + lenBytes, start));

  const descr = /['"]descr['"]\s*:\s*['"]([^'"]*)['"]/.exec(header)?.[1];
  const fortran = /['"]fortran_order['"]\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    throw datasetError(`'${file}' has a malformed NPY header (needs descr, fortran_order and shape)`);
  }
  if (fortran === 'True') throw datasetError(`'${file}' is in Fortran order; only C order (fortran_order False) is supported`);
  const dtype = parseDescr(descr);
  if (!dtype) {
    throw datasetError(`'${file}' has unsupported dtype '${descr}'; supported: |u1, <f4, <i4, <i8, <f8 (little-endian)`);
  }
  const parts = shapeText.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  if (parts.some((p) => !/^\d+L?$/.test(p))) throw datasetError(`'${file}' has a malformed shape (${shapeText}) in its NPY header`);
  const shape = parts.map((p) => Number.parseInt(p, 10));
  const size = shape.reduce((a, b) => a * b, 1) * DTYPES[dtype];
  const have = buf.length - start;
  if (have < size) {
    throw datasetError(`'${file}' is truncated: shape (${shape.join(', ')}) of ${descr} needs ${size} data bytes, found ${have}`);
  }
  if (have > size) throw datasetError(`'${file}' has ${have - size} bytes after the data of shape (${shape.join(', ')})`);
  let data = buf.subarray(start, start + size);
  // typed-array views need aligned offsets; writers that do not pad the header to 64 bytes exist
  if (data.byteOffset % 8 !== 0) data = new Uint8Array(data);
  return { dtype, shape, data };
}

function parseDescr(descr: string): Dtype | undefined {
  const m = /^([<>|=]?)([a-z]\d+)$/.exec(descr);
  if (!m) return undefined;
  const [, order, code] = m as unknown as [string, string, string];
  if (!(code in DTYPES)) return undefined;
  if (code === 'u1') return 'u1';
  // the element readers below are little-endian; '=' and no prefix mean the writer's native order
  const little = order === '<' || ((order === '=' || order === '') && endianness() === 'LE');
  if (!little) return undefined;
  return code as Dtype;
}

/** The elements of `a` as numbers (read little-endian), in C order; a view of `a.data` where the host allows. */
export function npyValues(a: NpyArray): ArrayLike<number> {
  const b = a.data.buffer;
  const o = a.data.byteOffset;
  const n = a.data.byteLength / DTYPES[a.dtype];
  if (endianness() !== 'LE' && a.dtype !== 'u1') {
    const view = new DataView(b, o, a.data.byteLength);
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      if (a.dtype === 'f4') out[i] = view.getFloat32(4 * i, true);
      else if (a.dtype === 'f8') out[i] = view.getFloat64(8 * i, true);
      else if (a.dtype === 'i4') out[i] = view.getInt32(4 * i, true);
      else out[i] = Number(view.getBigInt64(8 * i, true));
    }
    return out;
  }
  switch (a.dtype) {
    case 'u1':
      return a.data;
    case 'f4':
      return new Float32Array(b, o, n);
    case 'f8':
      return new Float64Array(b, o, n);
    case 'i4':
      return new Int32Array(b, o, n);
    case 'i8': {
      const big = new BigInt64Array(b, o, n);
      const out = new Float64Array(n);
      for (let i = 0; i < n; i++) out[i] = Number(big[i]);
      return out;
    }
  }
}

function toPixels(x: NpyArray, file: string): Uint8Array | Float32Array {
  if (x.dtype === 'u1') return x.data;
  const src = npyValues(x);
  if (x.dtype === 'f4' || x.dtype === 'f8') {
    const out = x.dtype === 'f4' && src instanceof Float32Array ? src : Float32Array.from(src);
    for (let i = 0; i < out.length; i++) {
      if (!Number.isFinite(out[i])) throw datasetError(`'${file}' has a non-finite pixel value at element ${i}`);
    }
    return out;
  }
  const out = new Uint8Array(src.length);
  for (let i = 0; i < src.length; i++) {
    const v = src[i] as number;
    if (v < 0 || v > 255) throw datasetError(`'${file}' has integer pixel value ${v} at element ${i}; integer pixels must be 0..255`);
    out[i] = v;
  }
  return out;
}

function toLabels(y: NpyArray, file: string): Int32Array {
  const src = npyValues(y);
  const out = new Int32Array(src.length);
  for (let i = 0; i < src.length; i++) {
    const v = src[i] as number;
    if (!Number.isInteger(v) || v < 0 || v > 0x7fffffff) {
      throw datasetError(`'${file}' has label ${v} at element ${i}; labels must be non-negative integers`);
    }
    out[i] = v;
  }
  return out;
}
