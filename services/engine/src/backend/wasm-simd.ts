/**
 * A tiny hand-assembled WebAssembly module that shares the tfjs wasm backend's memory and exports one
 * SIMD routine, the inner loop of the depthwise convolution gradients:
 *
 *   mac(a, aStep, b, bStep, c, cStep, count, channels):
 *     repeat count times: a[0..channels) += b[0..channels) * c[0..channels); a += aStep; b += bStep; c += cStep
 *
 * (pointers and steps in bytes). JS drives the outer loops (a few tens of thousands of calls per
 * kernel) and the arithmetic runs four lanes at a time. V8 does not vectorise JS loops, and a plain
 * JS version of these loops is 20-40x slower.
 */

export type MacFn = (
  a: number,
  aStep: number,
  b: number,
  bStep: number,
  c: number,
  cStep: number,
  count: number,
  channels: number,
) => void;

// Opcodes used below.
const BLOCK = 0x02;
const LOOP = 0x03;
const END = 0x0b;
const BR = 0x0c;
const BR_IF = 0x0d;
const VOID = 0x40;
const GET = 0x20;
const SET = 0x21;
const I32_CONST = 0x41;
const I32_ADD = 0x6a;
const I32_SUB = 0x6b;
const I32_LE_S = 0x4c;
const I32_GT_S = 0x4a;
const I32_GE_S = 0x4e;
const F32_LOAD = 0x2a;
const F32_STORE = 0x38;
const F32_ADD = 0x92;
const F32_MUL = 0x94;
const SIMD = 0xfd;
const V128_LOAD = [SIMD, 0x00];
const V128_STORE = [SIMD, 0x0b];
const F32X4_ADD = [SIMD, 0xe4, 0x01];
const F32X4_MUL = [SIMD, 0xe6, 0x01];

// Locals: params 0..7, then k (8), ch (9), o (10: byte offset of the channel).
const A = 0;
const A_STEP = 1;
const B = 2;
const B_STEP = 3;
const C = 4;
const C_STEP = 5;
const COUNT = 6;
const CHANNELS = 7;
const K = 8;
const CH = 9;
const O = 10;

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

function section(id: number, body: number[]): number[] {
  return [id, ...uleb(body.length), ...body];
}

function str(s: string): number[] {
  return [...uleb(s.length), ...[...s].map((ch) => ch.charCodeAt(0))];
}

function macBody(): number[] {
  const get = (i: number) => [GET, i];
  const set = (i: number) => [SET, i];
  const addTo = (dst: number, src: number) => [...get(dst), ...get(src), I32_ADD, ...set(dst)];
  const f32At = (base: number) => [...get(base), ...get(O), I32_ADD];
  const code = [
    // for (k = count; k > 0; k--)
    ...get(COUNT), ...set(K),
    BLOCK, VOID,
    LOOP, VOID,
    ...get(K), I32_CONST, 0, I32_LE_S, BR_IF, 1,
    I32_CONST, 0, ...set(CH),
    I32_CONST, 0, ...set(O),
    // SIMD part: while (ch + 4 <= channels)
    BLOCK, VOID,
    LOOP, VOID,
    ...get(CH), I32_CONST, 4, I32_ADD, ...get(CHANNELS), I32_GT_S, BR_IF, 1,
    ...f32At(A),
    ...f32At(A), ...V128_LOAD, 2, 0,
    ...f32At(B), ...V128_LOAD, 2, 0,
    ...f32At(C), ...V128_LOAD, 2, 0,
    ...F32X4_MUL, ...F32X4_ADD,
    ...V128_STORE, 2, 0,
    ...get(CH), I32_CONST, 4, I32_ADD, ...set(CH),
    ...get(O), I32_CONST, 16, I32_ADD, ...set(O),
    BR, 0,
    END, END,
    // scalar tail: while (ch < channels)
    BLOCK, VOID,
    LOOP, VOID,
    ...get(CH), ...get(CHANNELS), I32_GE_S, BR_IF, 1,
    ...f32At(A),
    ...f32At(A), F32_LOAD, 2, 0,
    ...f32At(B), F32_LOAD, 2, 0,
    ...f32At(C), F32_LOAD, 2, 0,
    F32_MUL, F32_ADD,
    F32_STORE, 2, 0,
    ...get(CH), I32_CONST, 1, I32_ADD, ...set(CH),
    ...get(O), I32_CONST, 4, I32_ADD, ...set(O),
    BR, 0,
    END, END,
    ...addTo(A, A_STEP),
    ...addTo(B, B_STEP),
    ...addTo(C, C_STEP),
    ...get(K), I32_CONST, 1, I32_SUB, ...set(K),
    BR, 0,
    END, END,
    END,
  ];
  const locals = [1, 3, 0x7f]; // one group: 3 locals of type i32
  const body = [...locals, ...code];
  return [...uleb(body.length), ...body];
}

function moduleBytes(): Uint8Array {
  const I32 = 0x7f;
  const type = [1, 0x60, 8, ...Array<number>(8).fill(I32), 0];
  const imports = [1, ...str('env'), ...str('memory'), 0x02, 0x00, 0x00];
  const funcs = [1, 0];
  const exports = [1, ...str('mac'), 0x00, 0];
  const code = [1, ...macBody()];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, type),
    ...section(2, imports),
    ...section(3, funcs),
    ...section(7, exports),
    ...section(10, code),
  ]);
}

/** A WebAssembly.Memory (the project's lib settings carry no WebAssembly types). */
export type WasmMemory = object;

/** The part of the WebAssembly JS API used here. */
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
}

const instances = new WeakMap<WasmMemory, MacFn | null>();

/**
 * The SIMD `mac` routine bound to `memory`, or null where WebAssembly SIMD is unavailable (the caller
 * then uses JS loops).
 */
export function simdMac(memory: WasmMemory | undefined): MacFn | null {
  if (memory === undefined) return null;
  const cached = instances.get(memory);
  if (cached !== undefined) return cached;
  let fn: MacFn | null = null;
  try {
    const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
    const bytes = moduleBytes();
    if (wasm.validate(bytes)) {
      const instance = new wasm.Instance(new wasm.Module(bytes), { env: { memory } });
      fn = instance.exports['mac'] as MacFn;
    }
  } catch {
    fn = null;
  }
  instances.set(memory, fn);
  return fn;
}
