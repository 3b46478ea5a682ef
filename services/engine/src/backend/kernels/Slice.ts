import { Slice, slice_util, util } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type * as tf from '@tensorflow/tfjs-core';
import { WasmHeap } from '../wasm-heap.ts';
import type { KernelWrapper } from './kernel-config.ts';
import { copyBox, copyBoxPays, runOf } from './copy-box.ts';

/**
 * Slice of float32 tensors by row copies (copy-box.ts): every leftmost channel slice of a shared
 * weight, gamma or beta on a narrow subnet, 100 calls a step of the min subnet. Other dtypes, and
 * large tensors cut into very short runs, go to the backend's kernel.
 */
export function makeSliceKernel(fallback: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    const { begin, size } = args.attrs as unknown as { begin: number | number[]; size: number | number[] };
    const rank = x.shape.length;
    if (x.dtype !== 'float32' || rank === 0) return fallback(args);
    const [start, box] = slice_util.parseSliceParams(x as tf.Tensor, begin, size);
    if (!copyBoxPays(runOf(x.shape, box, box).run, util.sizeFromShape(box))) return fallback(args);
    const heap = new WasmHeap(args.backend as BackendWasm);
    const out = heap.output(box);
    copyBox(heap.heapF32(), heap.ptr(x) / 4, x.shape, start, heap.ptr(out) / 4, box, box.map(() => 0), box);
    return out;
  };
}

export const sliceWrapper: KernelWrapper = { kernelName: Slice, wrap: makeSliceKernel };
