import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { simdRoutines, type SimdRoutines, type WasmMemory } from './wasm-simd.ts';
import type { WasmKernelPool } from './wasm-kernel-pool.ts';
import { TASKS } from './wasm-kernel-tasks.mjs';

/**
 * Kernels written for the `wasm` backend work on the tensors' memory in the wasm heap directly: they
 * allocate outputs with the backend's allocator and read and write Float32Array views of the heap.
 * A view is invalidated whenever the heap grows, which any allocation may cause, so a kernel makes
 * all its outputs and scratch tensors first and takes views afterwards.
 */
let simdEnabled = true;

/** Turns the SIMD routines off (tests use it to exercise the fallback paths) or back on. */
export function setWasmSimdKernels(enabled: boolean): void {
  simdEnabled = enabled;
}

/** Whether the engine's SIMD kernels can run on the active backend (wasm, SIMD present and enabled). */
export function wasmSimdActive(): boolean {
  if (!simdEnabled || tf.getBackend() !== 'wasm') return false;
  return new WasmHeap(tf.backend() as BackendWasm).simd() !== null;
}

export class WasmHeap {
  private readonly scratch: tf.TensorInfo[] = [];

  constructor(readonly backend: BackendWasm) {}

  /** A new float32 tensor owned by the caller (a kernel's output). Its memory is uninitialised. */
  output(shape: number[]): tf.TensorInfo {
    return this.backend.makeOutput(shape, 'float32');
  }

  /** A float32 tensor released by `release()`. Its memory is uninitialised. */
  temp(shape: number[]): tf.TensorInfo {
    const t = this.backend.makeOutput(shape, 'float32');
    this.scratch.push(t);
    return t;
  }

  /** Takes ownership of a tensor that another kernel returned, to release it with the scratch. */
  adopt(t: tf.TensorInfo): tf.TensorInfo {
    this.scratch.push(t);
    return t;
  }

  /** A Float32Array view of `t`'s memory; valid until the next allocation. */
  f32(t: tf.TensorInfo): Float32Array {
    if (t.dtype !== 'float32') throw new Error(`wasm training kernels take float32 tensors, got ${t.dtype}`);
    return this.backend.typedArrayFromHeap(t) as Float32Array;
  }

  /** A Float32Array over the whole heap; valid until the next allocation. */
  heapF32(): Float32Array {
    // The buffer the backend's own typedArrayFromHeap views (current after growth).
    return new Float32Array((this.backend.wasm as unknown as { HEAPU8: Uint8Array }).HEAPU8.buffer);
  }

  /** Byte offset of `t`'s memory in the heap (stable across heap growth). */
  ptr(t: tf.TensorInfo): number {
    return this.backend.dataIdMap.get(t.dataId)!.memoryOffset;
  }

  /** The SIMD routines over this heap, or null where SIMD is unavailable or turned off. */
  simd(): SimdRoutines | null {
    if (!simdEnabled) return null;
    return simdRoutines(this.memory());
  }

  /** The backend's WebAssembly.Memory. */
  memory(): WasmMemory | undefined {
    // The single-threaded build exports its memory; the threaded build imports a shared one.
    const module = this.backend.wasm as unknown as { asm?: { memory?: WasmMemory }; wasmMemory?: WasmMemory };
    return module.asm?.memory ?? module.wasmMemory;
  }

  /**
   * Runs a task of wasm-kernel-tasks.mjs over [0, total) of its output partition: split across the
   * backend's kernel pool where it has one (parts aligned to `align` units, at least `minPart` units
   * each), else whole on this thread. Needs the SIMD routines (`simd()` not null).
   */
  task(task: number, args: readonly number[], total: number, align: number, minPart: number): void {
    const pool = (this.backend as unknown as { kernelPool?: WasmKernelPool }).kernelPool;
    if (pool !== undefined) {
      pool.run(task, args, total, align, minPart);
      return;
    }
    const simd = this.simd();
    if (simd === null) throw new Error('wasm kernel tasks need WebAssembly SIMD');
    TASKS[task]!(simd, this.memory()!, args, 0, total);
  }

  /** The SIMD multiply-accumulate routine, or null (see `simd`). */
  mac(): SimdRoutines['mac'] | null {
    return this.simd()?.mac ?? null;
  }

  /** Runs another registered wasm kernel (XNNPACK convolutions, BatchMatMul) on heap tensors. */
  run(kernelName: string, inputs: tf.NamedTensorInfoMap, attrs: tf.NamedAttrMap): tf.TensorInfo {
    const kernel = tf.getKernel(kernelName, 'wasm');
    if (kernel == null) throw new Error(`wasm kernel ${kernelName} is not registered`);
    const out = kernel.kernelFunc({ inputs, backend: this.backend, attrs });
    if (Array.isArray(out)) throw new Error(`wasm kernel ${kernelName} returned several outputs`);
    return out;
  }

  /** Frees every scratch tensor. */
  release(): void {
    for (const t of this.scratch) this.backend.disposeData(t.dataId);
    this.scratch.length = 0;
  }
}
