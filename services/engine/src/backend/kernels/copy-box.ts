import { util } from '@tensorflow/tfjs-core';

/**
 * Copies a box of one row-major array into a box of another, a contiguous run at a time: the
 * innermost axes that the box spans whole in both arrays are merged into the run, and each run is
 * one `copyWithin` inside the heap (`src` and `dst` are the two arrays' float offsets in `heap`, a
 * view of the whole wasm memory, so no view is made per run). This is what a leftmost channel slice
 * of a weight (forward) and its gradient, the zero padding back to the full weight (backward),
 * amount to. The wasm backend's
 * PadV2 computes an index per element (about 0.85 ms for a [80, 240] -> [160, 480] pad) and its
 * Slice is a scalar loop too; row copies take a few tens of microseconds.
 */
export function copyBox(
  heap: Float32Array,
  src: number,
  srcShape: readonly number[],
  srcStart: readonly number[],
  dst: number,
  dstShape: readonly number[],
  dstStart: readonly number[],
  box: readonly number[],
): void {
  const rank = box.length;
  if (util.sizeFromShape(box as number[]) === 0) return;
  const { axis: k, run } = runOf(srcShape, dstShape, box);
  // Strides of axes 0..k; axis k's stride is that of the run's first axis.
  const srcStrides = new Array<number>(rank).fill(1);
  const dstStrides = new Array<number>(rank).fill(1);
  for (let i = rank - 2; i >= 0; i--) {
    srcStrides[i] = srcStrides[i + 1]! * srcShape[i + 1]!;
    dstStrides[i] = dstStrides[i + 1]! * dstShape[i + 1]!;
  }
  let srcBase = src;
  let dstBase = dst;
  for (let i = 0; i < rank; i++) {
    srcBase += srcStart[i]! * srcStrides[i]!;
    dstBase += dstStart[i]! * dstStrides[i]!;
  }
  // Odometer over axes 0..k-1 (axis k is inside the run).
  const idx = new Array<number>(k).fill(0);
  const outer = util.sizeFromShape(box.slice(0, k) as number[]);
  for (let n = 0; n < outer; n++) {
    let s = srcBase;
    let d = dstBase;
    for (let i = 0; i < k; i++) {
      s += idx[i]! * srcStrides[i]!;
      d += idx[i]! * dstStrides[i]!;
    }
    heap.copyWithin(d, s, s + run);
    for (let i = k - 1; i >= 0; i--) {
      if (++idx[i]! < box[i]!) break;
      idx[i] = 0;
    }
  }
}

/**
 * Whether row copies are the better way: always, unless the runs are very short and many (a pad or
 * slice of a large tensor's last axis of a few elements), where one `copyWithin` per element would
 * cost more than the backend's loop.
 */
export function copyBoxPays(run: number, size: number): boolean {
  return run >= 4 || size <= 65536;
}

/**
 * The contiguous runs `copyBox` makes for this box: the trailing axes the box covers whole in both
 * arrays are merged into one run, which starts at `axis` and is `run` elements long.
 */
export function runOf(srcShape: readonly number[], dstShape: readonly number[], box: readonly number[]): { axis: number; run: number } {
  let axis = box.length - 1;
  let run = box[axis] ?? 1;
  while (axis > 0 && box[axis] === srcShape[axis] && box[axis] === dstShape[axis]) {
    axis--;
    run *= box[axis]!;
  }
  return { axis, run };
}
