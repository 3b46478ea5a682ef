import { SIMD_KERNELS_SHARED_WASM, SIMD_KERNELS_WASM } from './wasm/simd-kernels.ts';

/**
 * The engine's small WebAssembly SIMD module, which shares the tfjs wasm backend's memory and
 * exports the SIMD inner loops of the engine's wasm kernels (pointers and steps in bytes, f32 data):
 *
 *   mac(a, aStep, b, bStep, c, cStep, count, channels):
 *     repeat count times: a[0..channels) += b[..] * c[..]; a += aStep; b += bStep; c += cStep
 *   devSq(acc, x, xStep, C, count, cols):
 *     repeat count times: acc[0..cols) += (x[..] + C[..])^2; x += xStep
 *   centreAffineClamp(out, x, C, A, D, rows, cols, lo, hi):
 *     out[r, j] = min(max((x[r, j] + C[j]) * A[j] + D[j], lo), hi)
 *   bnGradSums(s1, s2, dz, dy, x, C, A, D, rows, cols, upper, masked):
 *     c = x[r, j] + C[j]; g = dy[r, j], or with masked != 0 g = (0 < c * A[j] + D[j] <= upper) ? dy[r, j] : 0,
 *     stored as dz[r, j]; s1[j] += g; s2[j] += g * c (row by row)
 *   centreAffine(out, p, x, C, A, B, D, rows, cols):
 *     out[r, j] = p[r, j] * A[j] + (x[r, j] + C[j]) * B[j] + D[j]
 *   reluGrad(x, dy, out, n, upper):
 *     out[i] = (0 < x[i] <= upper) ? dy[i] : 0
 *   outer(acc, x, xStep, y, yStep, rows, m, n):
 *     repeat rows times: acc[i, j] += x[i] * y[j] for i < m, j < n ([m, n] row-major); x += xStep; y += yStep
 *   outer4(acc, x, xStep, y, yStep, quads, m, n):
 *     the same over 4 * quads rows, four rows per pass over acc (a quarter of the accumulator traffic)
 *
 * JS drives the outer loops; the arithmetic runs four lanes at a time and without data-dependent branches. V8 does
 * not vectorise JS loops, and plain JS versions of these loops are 10-40x slower. The source is
 * WebAssembly text, wasm/simd-kernels.wat; `npm run generate:wasm` compiles it with wabt into
 * wasm/simd-kernels.ts (base64), which this file loads, so no compiler runs here.
 */

export type MacFn = (a: number, aStep: number, b: number, bStep: number, c: number, cStep: number, count: number, channels: number) => void;
export type DevSqFn = (acc: number, x: number, xStep: number, C: number, count: number, cols: number) => void;
export type CentreAffineClampFn = (out: number, x: number, C: number, A: number, D: number, rows: number, cols: number, lo: number, hi: number) => void;
export type BnGradSumsFn = (
  s1: number,
  s2: number,
  dz: number,
  dy: number,
  x: number,
  C: number,
  A: number,
  D: number,
  rows: number,
  cols: number,
  upper: number,
  masked: number,
) => void;
export type CentreAffineFn = (out: number, p: number, x: number, C: number, A: number, B: number, D: number, rows: number, cols: number) => void;
export type ReluGradFn = (x: number, dy: number, out: number, n: number, upper: number) => void;
export type OuterFn = (acc: number, x: number, xStep: number, y: number, yStep: number, rows: number, m: number, n: number) => void;

export interface SimdRoutines {
  mac: MacFn;
  devSq: DevSqFn;
  centreAffineClamp: CentreAffineClampFn;
  bnGradSums: BnGradSumsFn;
  centreAffine: CentreAffineFn;
  reluGrad: ReluGradFn;
  outer: OuterFn;
  outer4: OuterFn;
}

/** The exports of the module, in its order: the keys of `SimdRoutines`. */
export const SIMD_ROUTINE_NAMES = ['mac', 'devSq', 'centreAffineClamp', 'bnGradSums', 'centreAffine', 'reluGrad', 'outer', 'outer4'] as const satisfies readonly (keyof SimdRoutines)[];
// ...and every key: a routine missing from the list fails to compile here.
const _everyRoutineNamed: Record<Exclude<keyof SimdRoutines, (typeof SIMD_ROUTINE_NAMES)[number]>, never> = {};

/** A WebAssembly.Memory (the project's lib settings carry no WebAssembly types). */
export type WasmMemory = object;

/** The part of the WebAssembly JS API used here. */
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
}

/**
 * The module's bytes. The threaded build's memory is shared, and a shared memory only fits an
 * import declared shared (with a maximum, 65536 pages), so that build gets the second variant.
 */
function moduleBytes(shared: boolean): Uint8Array {
  return new Uint8Array(Buffer.from(shared ? SIMD_KERNELS_SHARED_WASM : SIMD_KERNELS_WASM, 'base64'));
}

const instances = new WeakMap<WasmMemory, SimdRoutines | null>();
const modules = new Map<boolean, object | null>();

function isShared(memory: WasmMemory): boolean {
  return (memory as { buffer?: unknown }).buffer instanceof SharedArrayBuffer;
}

/**
 * The compiled SIMD module (a WebAssembly.Module) that imports a memory like `memory`, or null
 * where WebAssembly SIMD is unavailable. The wasm kernel pool hands it to its helper threads.
 */
export function simdModule(memory: WasmMemory): object | null {
  // The threaded build's memory is shared, and a shared memory only fits a shared import.
  const shared = isShared(memory);
  const cached = modules.get(shared);
  if (cached !== undefined) return cached;
  let module: object | null = null;
  try {
    const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
    const bytes = moduleBytes(shared);
    if (wasm.validate(bytes)) module = new wasm.Module(bytes);
  } catch {
    module = null;
  }
  modules.set(shared, module);
  return module;
}

/**
 * The SIMD routines bound to `memory`, or null where WebAssembly SIMD is unavailable (callers then
 * use other paths).
 */
export function simdRoutines(memory: WasmMemory | undefined): SimdRoutines | null {
  if (memory === undefined) return null;
  const cached = instances.get(memory);
  if (cached !== undefined) return cached;
  let routines: SimdRoutines | null = null;
  try {
    const module = simdModule(memory);
    if (module !== null) {
      const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
      const { exports } = new wasm.Instance(module, { env: { memory } });
      routines = Object.fromEntries(SIMD_ROUTINE_NAMES.map((name) => [name, exports[name]])) as unknown as SimdRoutines;
    }
  } catch {
    routines = null;
  }
  instances.set(memory, routines);
  return routines;
}
