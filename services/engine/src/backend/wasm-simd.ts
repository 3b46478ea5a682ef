/**
 * A tiny hand-assembled WebAssembly module that shares the tfjs wasm backend's memory and exports
 * the SIMD inner loops of the engine's wasm kernels (pointers and steps in bytes, f32 data):
 *
 *   mac(a, aStep, b, bStep, c, cStep, count, channels):
 *     repeat count times: a[0..channels) += b[..] * c[..]; a += aStep; b += bStep; c += cStep
 *   affine(out, p, q, A, B, D, rows, cols):
 *     out[r, j] = p[r, j] * A[j] + q[r, j] * B[j] + D[j]   (row-major [rows, cols])
 *   reluGrad(x, dy, out, n, upper):
 *     out[i] = (0 < x[i] <= upper) ? dy[i] : 0
 *   outer(acc, x, xStep, y, yStep, rows, m, n):
 *     repeat rows times: acc[i, j] += x[i] * y[j] for i < m, j < n ([m, n] row-major); x += xStep; y += yStep
 *   outer4(acc, x, xStep, y, yStep, quads, m, n):
 *     the same over 4 * quads rows, four rows per pass over acc (a quarter of the accumulator traffic)
 *
 * JS drives the outer loops; the arithmetic runs four lanes at a time and without branches. V8 does
 * not vectorise JS loops, and plain JS versions of these loops are 10-40x slower.
 */

export type MacFn = (a: number, aStep: number, b: number, bStep: number, c: number, cStep: number, count: number, channels: number) => void;
export type AffineFn = (out: number, p: number, q: number, A: number, B: number, D: number, rows: number, cols: number) => void;
export type ReluGradFn = (x: number, dy: number, out: number, n: number, upper: number) => void;
export type OuterFn = (acc: number, x: number, xStep: number, y: number, yStep: number, rows: number, m: number, n: number) => void;

export interface SimdRoutines {
  mac: MacFn;
  affine: AffineFn;
  reluGrad: ReluGradFn;
  outer: OuterFn;
  outer4: OuterFn;
}

/** A WebAssembly.Memory (the project's lib settings carry no WebAssembly types). */
export type WasmMemory = object;

/** The part of the WebAssembly JS API used here. */
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
}

const I32 = 0x7f;
const F32 = 0x7d;
const V128 = 0x7b;

// Instructions.
const BLOCK = [0x02, 0x40];
const LOOP = [0x03, 0x40];
const END = 0x0b;
const BR = 0x0c;
const BR_IF = 0x0d;
const SELECT = 0x1b;
const get = (i: number) => [0x20, i];
const set = (i: number) => [0x21, i];
const i32 = (n: number) => [0x41, ...sleb(n)];
const f32c = (x: number) => [0x43, ...new Uint8Array(new Float32Array([x]).buffer)];
const I32_LE_S = 0x4c;
const I32_GE_S = 0x4e;
const I32_GT_S = 0x4a;
const I32_ADD = 0x6a;
const I32_MUL = 0x6c;
const I32_AND = 0x71;
const F32_LOAD = [0x2a, 2, 0];
const F32_STORE = [0x38, 2, 0];
const F32_GT = 0x5e;
const F32_LE = 0x5f;
const F32_ADD = 0x92;
const F32_MUL = 0x94;
const simd = (op: number) => [0xfd, ...uleb(op)];
const V128_LOAD = [...simd(0x00), 4, 0];
const V128_STORE = [...simd(0x0b), 4, 0];
const F32X4_SPLAT = simd(0x13);
const F32X4_GT = simd(0x44);
const F32X4_LE = simd(0x45);
const V128_AND = simd(0x4e);
const F32X4_ADD = simd(0xe4);
const F32X4_MUL = simd(0xe6);

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

const str = (s: string) => [...uleb(s.length), ...[...s].map((ch) => ch.charCodeAt(0))];
const section = (id: number, body: number[]) => [id, ...uleb(body.length), ...body];
const vec = (items: number[][]) => [...uleb(items.length), ...items.flat()];
const addTo = (dst: number, src: number) => [...get(dst), ...get(src), I32_ADD, ...set(dst)];
const addConst = (dst: number, k: number) => [...get(dst), ...i32(k), I32_ADD, ...set(dst)];
/** `while (!cond) { body }` where `exit` leaves the condition on the stack. */
const whileNot = (exit: number[], body: number[]) => [...BLOCK, ...LOOP, ...exit, BR_IF, 1, ...body, BR, 0, END, END];
const at = (base: number, off: number) => [...get(base), ...get(off), I32_ADD];

function body(locals: [number, number][], code: number[]): number[] {
  const b = [...vec(locals.map(([n, t]) => [...uleb(n), t])), ...code, END];
  return [...uleb(b.length), ...b];
}

function macFn(): number[] {
  const [A, AS, B, BS, C, CS, COUNT, CH] = [0, 1, 2, 3, 4, 5, 6, 7];
  const [K, J, O] = [8, 9, 10];
  const code = [
    ...get(COUNT), ...set(K),
    ...whileNot([...get(K), ...i32(0), I32_LE_S], [
      ...i32(0), ...set(J),
      ...i32(0), ...set(O),
      ...whileNot([...get(J), ...i32(4), I32_ADD, ...get(CH), I32_GT_S], [
        ...at(A, O),
        ...at(A, O), ...V128_LOAD,
        ...at(B, O), ...V128_LOAD,
        ...at(C, O), ...V128_LOAD,
        ...F32X4_MUL, ...F32X4_ADD,
        ...V128_STORE,
        ...addConst(J, 4), ...addConst(O, 16),
      ]),
      ...whileNot([...get(J), ...get(CH), I32_GE_S], [
        ...at(A, O),
        ...at(A, O), ...F32_LOAD,
        ...at(B, O), ...F32_LOAD,
        ...at(C, O), ...F32_LOAD,
        F32_MUL, F32_ADD,
        ...F32_STORE,
        ...addConst(J, 1), ...addConst(O, 4),
      ]),
      ...addTo(A, AS), ...addTo(B, BS), ...addTo(C, CS),
      ...addConst(K, -1),
    ]),
  ];
  return body([[3, I32]], code);
}

function affineFn(): number[] {
  const [OUT, P, Q, A, B, D, ROWS, COLS] = [0, 1, 2, 3, 4, 5, 6, 7];
  const [R, O, ROW_BYTES, VEC_END] = [8, 9, 10, 11];
  const lane = (load: number[], add: number[], mul: number[]) => [
    ...at(OUT, O),
    ...at(P, O), ...load, ...at(A, O), ...load, ...mul,
    ...at(Q, O), ...load, ...at(B, O), ...load, ...mul, ...add,
    ...at(D, O), ...load, ...add,
  ];
  const code = [
    ...get(COLS), ...i32(4), I32_MUL, ...set(ROW_BYTES),
    ...get(COLS), ...i32(-4), I32_AND, ...i32(4), I32_MUL, ...set(VEC_END),
    ...get(ROWS), ...set(R),
    ...whileNot([...get(R), ...i32(0), I32_LE_S], [
      ...i32(0), ...set(O),
      ...whileNot([...get(O), ...get(VEC_END), I32_GE_S], [
        ...lane(V128_LOAD, F32X4_ADD, F32X4_MUL), ...V128_STORE, ...addConst(O, 16),
      ]),
      ...whileNot([...get(O), ...get(ROW_BYTES), I32_GE_S], [
        ...lane(F32_LOAD, [F32_ADD], [F32_MUL]), ...F32_STORE, ...addConst(O, 4),
      ]),
      ...addTo(OUT, ROW_BYTES), ...addTo(P, ROW_BYTES), ...addTo(Q, ROW_BYTES),
      ...addConst(R, -1),
    ]),
  ];
  return body([[4, I32]], code);
}

function reluGradFn(): number[] {
  const [X, DY, OUT, N, UPPER] = [0, 1, 2, 3, 4];
  const [O, END_BYTES, VEC_END, LIM, ZERO, V] = [5, 6, 7, 8, 9, 10];
  const code = [
    ...get(N), ...i32(4), I32_MUL, ...set(END_BYTES),
    ...get(N), ...i32(-4), I32_AND, ...i32(4), I32_MUL, ...set(VEC_END),
    ...get(UPPER), ...F32X4_SPLAT, ...set(LIM),
    ...f32c(0), ...F32X4_SPLAT, ...set(ZERO),
    ...i32(0), ...set(O),
    ...whileNot([...get(O), ...get(VEC_END), I32_GE_S], [
      ...at(OUT, O),
      ...at(DY, O), ...V128_LOAD,
      ...at(X, O), ...V128_LOAD, ...get(ZERO), ...F32X4_GT,
      ...at(X, O), ...V128_LOAD, ...get(LIM), ...F32X4_LE,
      ...V128_AND, ...V128_AND,
      ...V128_STORE,
      ...addConst(O, 16),
    ]),
    ...whileNot([...get(O), ...get(END_BYTES), I32_GE_S], [
      ...at(X, O), ...F32_LOAD, ...set(V),
      ...at(OUT, O),
      ...at(DY, O), ...F32_LOAD,
      ...f32c(0),
      ...get(V), ...f32c(0), F32_GT, ...get(V), ...get(UPPER), F32_LE, I32_AND,
      SELECT,
      ...F32_STORE,
      ...addConst(O, 4),
    ]),
  ];
  return body([[3, I32], [2, V128], [1, F32]], code);
}

function outerFn(): number[] {
  const [ACC, X, X_STEP, Y, Y_STEP, ROWS, M, N] = [0, 1, 2, 3, 4, 5, 6, 7];
  const [R, I, O, XO, AO, ROW_BYTES, VEC_END, S, SC] = [8, 9, 10, 11, 12, 13, 14, 15, 16];
  const code = [
    ...get(N), ...i32(4), I32_MUL, ...set(ROW_BYTES),
    ...get(N), ...i32(-4), I32_AND, ...i32(4), I32_MUL, ...set(VEC_END),
    ...get(ROWS), ...set(R),
    ...whileNot([...get(R), ...i32(0), I32_LE_S], [
      ...i32(0), ...set(I),
      ...get(X), ...set(XO),
      ...get(ACC), ...set(AO),
      ...whileNot([...get(I), ...get(M), I32_GE_S], [
        ...get(XO), ...F32_LOAD, ...set(SC),
        ...get(SC), ...F32X4_SPLAT, ...set(S),
        ...i32(0), ...set(O),
        ...whileNot([...get(O), ...get(VEC_END), I32_GE_S], [
          ...at(AO, O),
          ...at(AO, O), ...V128_LOAD,
          ...get(S), ...at(Y, O), ...V128_LOAD, ...F32X4_MUL,
          ...F32X4_ADD,
          ...V128_STORE,
          ...addConst(O, 16),
        ]),
        ...whileNot([...get(O), ...get(ROW_BYTES), I32_GE_S], [
          ...at(AO, O),
          ...at(AO, O), ...F32_LOAD,
          ...get(SC), ...at(Y, O), ...F32_LOAD, F32_MUL,
          F32_ADD,
          ...F32_STORE,
          ...addConst(O, 4),
        ]),
        ...addTo(AO, ROW_BYTES), ...addConst(XO, 4), ...addConst(I, 1),
      ]),
      ...addTo(X, X_STEP), ...addTo(Y, Y_STEP),
      ...addConst(R, -1),
    ]),
  ];
  return body([[7, I32], [1, V128], [1, F32]], code);
}

function outer4Fn(): number[] {
  const [ACC, X, XS, Y, YS, QUADS, M, N] = [0, 1, 2, 3, 4, 5, 6, 7];
  const [R, I, O, XO, AO, ROW_BYTES, VEC_END, X1, X2, X3, Y1, Y2, Y3] = [8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20];
  const S = [21, 22, 23, 24];
  const C = [25, 26, 27, 28];
  const xs = [X, X1, X2, X3];
  const ys = [Y, Y1, Y2, Y3];
  const next = (dst: number, src: number, step: number) => [...get(src), ...get(step), I32_ADD, ...set(dst)];
  const lanes = (load: number[], add: number[], mul: number[], regs: number[]) =>
    ys.flatMap((yk, k) => [...get(regs[k]!), ...at(yk, O), ...load, ...mul, ...add]);
  const code = [
    ...get(N), ...i32(4), I32_MUL, ...set(ROW_BYTES),
    ...get(N), ...i32(-4), I32_AND, ...i32(4), I32_MUL, ...set(VEC_END),
    ...get(QUADS), ...set(R),
    ...whileNot([...get(R), ...i32(0), I32_LE_S], [
      ...next(X1, X, XS), ...next(X2, X1, XS), ...next(X3, X2, XS),
      ...next(Y1, Y, YS), ...next(Y2, Y1, YS), ...next(Y3, Y2, YS),
      ...i32(0), ...set(I),
      ...i32(0), ...set(XO),
      ...get(ACC), ...set(AO),
      ...whileNot([...get(I), ...get(M), I32_GE_S], [
        ...xs.flatMap((xk, k) => [...at(xk, XO), ...F32_LOAD, ...set(C[k]!), ...get(C[k]!), ...F32X4_SPLAT, ...set(S[k]!)]),
        ...i32(0), ...set(O),
        ...whileNot([...get(O), ...get(VEC_END), I32_GE_S], [
          ...at(AO, O),
          ...at(AO, O), ...V128_LOAD,
          ...lanes(V128_LOAD, F32X4_ADD, F32X4_MUL, S),
          ...V128_STORE,
          ...addConst(O, 16),
        ]),
        ...whileNot([...get(O), ...get(ROW_BYTES), I32_GE_S], [
          ...at(AO, O),
          ...at(AO, O), ...F32_LOAD,
          ...lanes(F32_LOAD, [F32_ADD], [F32_MUL], C),
          ...F32_STORE,
          ...addConst(O, 4),
        ]),
        ...addTo(AO, ROW_BYTES), ...addConst(XO, 4), ...addConst(I, 1),
      ]),
      ...next(X, X3, XS), ...next(Y, Y3, YS),
      ...addConst(R, -1),
    ]),
  ];
  return body([[13, I32], [4, V128], [4, F32]], code);
}

/** Pages of a wasm32 memory's largest size (4 GiB), the maximum a shared memory import declares. */
const MAX_PAGES = 65536;

function moduleBytes(shared: boolean): Uint8Array {
  const types = vec([
    [0x60, ...vec(Array.from({ length: 8 }, () => [I32])), 0],
    [0x60, ...vec([[I32], [I32], [I32], [I32], [F32]]), 0],
  ]);
  // memory limits: flags 0 (min only) or 3 (shared, min and max), min 0 pages
  const limits = shared ? [0x03, 0x00, ...uleb(MAX_PAGES)] : [0x00, 0x00];
  const imports = vec([[...str('env'), ...str('memory'), 0x02, ...limits]]);
  const funcs = vec([[0], [0], [1], [0], [0]]);
  const exports = vec([
    [...str('mac'), 0x00, 0],
    [...str('affine'), 0x00, 1],
    [...str('reluGrad'), 0x00, 2],
    [...str('outer'), 0x00, 3],
    [...str('outer4'), 0x00, 4],
  ]);
  const code = [...uleb(5), ...macFn(), ...affineFn(), ...reluGradFn(), ...outerFn(), ...outer4Fn()];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, types),
    ...section(2, imports),
    ...section(3, funcs),
    ...section(7, exports),
    ...section(10, code),
  ]);
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
      routines = { mac: exports['mac'] as MacFn, affine: exports['affine'] as AffineFn, reluGrad: exports['reluGrad'] as ReluGradFn, outer: exports['outer'] as OuterFn, outer4: exports['outer4'] as OuterFn };
    }
  } catch {
    routines = null;
  }
  instances.set(memory, routines);
  return routines;
}
