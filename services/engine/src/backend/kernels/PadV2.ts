import { PadV2, util } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type * as tf from '@tensorflow/tfjs-core';
import { WasmHeap } from '../wasm-heap.ts';
import type { KernelWrapper } from './kernel-config.ts';
import { copyBox, copyBoxPays, runOf } from './copy-box.ts';

/**
 * PadV2 of float32 tensors by row copies (copy-box.ts): the output is filled with the constant and
 * the input copied in a contiguous run at a time. In training it is the gradient of every leftmost
 * weight slice of a narrow subnet (the slice's gradient padded with zeros to the full weight), 100
 * calls a step of the min subnet. Other dtypes, and large tensors cut into very short runs, go to
 * the backend's kernel.
 */
export function makePadKernel(fallback: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    const { paddings, constantValue } = args.attrs as unknown as { paddings: [number, number][]; constantValue: number };
    const rank = x.shape.length;
    if (x.dtype !== 'float32' || rank === 0 || paddings.length !== rank) return fallback(args);
    const outShape = x.shape.map((d, i) => paddings[i]![0] + d + paddings[i]![1]);
    const size = util.sizeFromShape(outShape);
    if (!copyBoxPays(runOf(x.shape, outShape, x.shape).run, size)) return fallback(args);
    const heap = new WasmHeap(args.backend as BackendWasm);
    const out = heap.output(outShape);
    const mem = heap.heapF32();
    const dst = heap.ptr(out) / 4;
    mem.fill(constantValue, dst, dst + size);
    copyBox(mem, heap.ptr(x) / 4, x.shape, x.shape.map(() => 0), dst, outShape, paddings.map((p) => p[0]), x.shape);
    return out;
  };
}

export const padWrapper: KernelWrapper = { kernelName: PadV2, wrap: makePadKernel };
