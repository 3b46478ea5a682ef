import type { SimdRoutines, WasmMemory } from './wasm-simd.ts';

/** Task ids of wasm-kernel-tasks.mjs: the index into TASKS. */
export declare const TASK: Readonly<{
  OUTER_SUM: 0;
  CONV_FILTER: 1;
  DW_INPUT: 2;
  DW_FILTER: 3;
  SUM_EXAMPLES: 4;
  BN_STATS: 5;
  RELU_GRAD: 6;
  OUTER_BLOCKS: 7;
  BN_GRAD_SUMS: 8;
  BN_GRAD_DX: 9;
  BN_OUT: 10;
}>;

/** Rows per float32 block of the outer-product sums; blocks are added in float64. */
export declare const OUTER_BLOCK_ROWS: number;
/** Rows per float32 block of batch norm's column sums; blocks are added in float64. */
export declare const BN_BLOCK_ROWS: number;

/** One task: computes the part [lo, hi) of its kernel's output from the numeric arguments `a`. */
export type KernelTask = (simd: SimdRoutines, memory: WasmMemory, a: ArrayLike<number>, lo: number, hi: number) => void;

/** The task functions, indexed by TASK. */
export declare const TASKS: readonly KernelTask[];

/** `outer` over any number of rows: four at a time with `outer4`, the rest one at a time. */
export declare function outerRows(
  simd: SimdRoutines, acc: number, x: number, xStep: number, y: number, yStep: number, rows: number, m: number, n: number,
): void;

/** Layout of the pool's control block (see wasm-kernel-tasks.mjs). */
export declare const CONTROL: Readonly<{
  GEN: number;
  CLAIM: number;
  DONE: number;
  TASK: number;
  PARTS: number;
  ERROR: number;
  STOP: number;
  BOUNDS: number;
  MAX_PARTS: number;
  ARGS_BYTE_OFFSET: number;
  MAX_ARGS: number;
  BYTES: number;
}>;

/** Generations wrap at this mask. */
export declare const GEN_MASK: number;

/** Claims and runs parts of dispatch `gen` until none is left unclaimed; how many ran here, and the first error. */
export declare function runParts(
  ctl: Int32Array, args: Float64Array, simd: SimdRoutines, memory: WasmMemory, gen: number,
): { ran: number; error: unknown };
