import { datasetError, type RawSplit } from './dataset.ts';
import { readDatasetFile, requireDirectory } from './dataset-files.ts';

const UBYTE = 0x08;

/**
 * Reads an IDX (MNIST-family) directory: `train-images-idx3-ubyte`, `train-labels-idx1-ubyte`,
 * `t10k-images-idx3-ubyte`, `t10k-labels-idx1-ubyte` (a `.` instead of the last `-` is accepted
 * too), each optionally gzipped (`.gz`). Images are unsigned-byte IDX of rank 3 [N,H,W] or 4
 * [N,H,W,C]; labels unsigned-byte rank 1 [N].
 * Throws InvalidArgumentError (INVALID_DATASET) naming the file on a missing file, bad magic,
 * unsupported element type, truncated data, or an image/label count mismatch.
 */
export async function readIdx(path: string | undefined): Promise<{ train: RawSplit; test: RawSplit }> {
  const dir = await requireDirectory(path, 'idx');
  const [train, test] = await Promise.all([readIdxSplit(dir, 'train'), readIdxSplit(dir, 't10k')]);
  return { train, test };
}

async function readIdxSplit(dir: string, prefix: string): Promise<RawSplit> {
  const [img, lab] = await Promise.all([
    readDatasetFile(dir, [`${prefix}-images-idx3-ubyte`, `${prefix}-images.idx3-ubyte`], true),
    readDatasetFile(dir, [`${prefix}-labels-idx1-ubyte`, `${prefix}-labels.idx1-ubyte`], true),
  ]);
  const images = parseIdx(img.data, img.file);
  if (images.dims.length !== 3 && images.dims.length !== 4) {
    throw datasetError(`IDX file '${img.file}' has rank ${images.dims.length}; images need rank 3 [N,H,W] or 4 [N,H,W,C]`);
  }
  const labels = parseIdx(lab.data, lab.file);
  if (labels.dims.length !== 1) throw datasetError(`IDX file '${lab.file}' has rank ${labels.dims.length}; labels need rank 1 [N]`);
  const [n, h, w, c = 1] = images.dims as [number, number, number, number?];
  if (labels.dims[0] !== n) {
    throw datasetError(`count mismatch: '${img.file}' has ${n} images but '${lab.file}' has ${labels.dims[0]} labels`);
  }
  if (h === 0 || w === 0 || c === 0) throw datasetError(`IDX file '${img.file}' has an empty image shape [${h},${w},${c}]`);
  return { pixels: images.data, labels: Int32Array.from(labels.data), count: n, shape: [h, w, c] };
}

/** Parses one IDX buffer: 0x0000, element type, rank, rank big-endian uint32 dims, data. */
export function parseIdx(buf: Uint8Array, file: string): { dims: number[]; data: Uint8Array } {
  if (buf.length < 4 || buf[0] !== 0 || buf[1] !== 0) {
    throw datasetError(`IDX file '${file}' has a bad magic number (expected 0x0000 followed by type and rank)`);
  }
  const type = buf[2] as number;
  const rank = buf[3] as number;
  if (type !== UBYTE) {
    throw datasetError(`IDX file '${file}' has element type 0x${type.toString(16).padStart(2, '0')}; only unsigned byte (0x08) is supported`);
  }
  if (rank === 0) throw datasetError(`IDX file '${file}' has rank 0`);
  const header = 4 + 4 * rank;
  if (buf.length < header) throw datasetError(`IDX file '${file}' is truncated: ${buf.length} bytes, header needs ${header}`);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const dims: number[] = [];
  let size = 1;
  for (let d = 0; d < rank; d++) {
    const v = view.getUint32(4 + 4 * d, false);
    dims.push(v);
    size *= v;
  }
  const have = buf.length - header;
  if (have < size) {
    throw datasetError(`IDX file '${file}' is truncated: shape [${dims.join(',')}] needs ${size} data bytes, found ${have}`);
  }
  if (have > size) {
    throw datasetError(`IDX file '${file}' has ${have - size} bytes after the data of shape [${dims.join(',')}]`);
  }
  return { dims, data: buf.subarray(header) };
}
