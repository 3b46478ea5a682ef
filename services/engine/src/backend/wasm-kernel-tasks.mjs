// The loops of the engine's wasm kernels that the kernel pool (wasm-kernel-pool.ts) splits across
// threads. A task computes the part [lo, hi) of its kernel's output partition (rows, examples,
// channels or elements): every output element is computed by exactly one part, in the same order as
// in one part over everything, so any split gives the same bits as one thread.
//
// Plain JavaScript, because the pool's helper threads run it without a TypeScript loader (a tsx
// loader costs each helper about 0.4 s to start, 20 MiB and one more OS thread); the calling thread
// runs the same file. Pointers and steps are byte offsets into the wasm heap; `simd` holds the
// routines of wasm-simd.ts bound to the heap's memory, `memory` is that WebAssembly.Memory and
// `a` the task's numeric arguments.

/** Task ids: the index into TASKS. */
export const TASK = Object.freeze({
  OUTER_SUM: 0,
  CONV_FILTER: 1,
  DW_INPUT: 2,
  DW_FILTER: 3,
  SUM_EXAMPLES: 4,
  BN_STATS: 5,
  RELU_GRAD: 6,
  OUTER_BLOCKS: 7,
  BN_GRAD_SUMS: 8,
  BN_GRAD_DX: 9,
  BN_OUT: 10,
});

/** Rows per float32 block of the outer-product sums; blocks are added in float64. */
export const OUTER_BLOCK_ROWS = 512;
/** Rows per float32 block of batch norm's column sums; blocks are added in float64. */
export const BN_BLOCK_ROWS = 256;

/** `outer` over any number of rows: four at a time with `outer4`, the rest one at a time. */
export function outerRows(simd, acc, x, xStep, y, yStep, rows, m, n) {
  const quads = rows >> 2;
  if (quads > 0) simd.outer4(acc, x, xStep, y, yStep, quads, m, n);
  const done = quads * 4;
  if (done < rows) simd.outer(acc, x + done * xStep, xStep, y + done * yStep, yStep, rows - done, m, n);
}

const f32 = (memory, ptr, length) => new Float32Array(memory.buffer, ptr, length);

/**
 * OUTER_SUM, a^T b for a [k, m], b [k, n] into out [m, n], output rows [lo, hi) of m.
 * a: [outPtr, accPtr, aPtr, bPtr, k, m, n]; acc is float32 scratch of [m, n].
 */
function outerSum(simd, memory, a, lo, hi) {
  const [outPtr, accPtr, aPtr, bPtr, k, m, n] = a;
  const rows = hi - lo;
  const size = rows * n;
  const acc = accPtr + lo * n * 4;
  const sums = new Float64Array(size);
  for (let r0 = 0; r0 < k; r0 += OUTER_BLOCK_ROWS) {
    const count = Math.min(OUTER_BLOCK_ROWS, k - r0);
    const view = f32(memory, acc, size);
    view.fill(0);
    outerRows(simd, acc, aPtr + (r0 * m + lo) * 4, m * 4, bPtr + r0 * n * 4, n * 4, count, rows, n);
    for (let i = 0; i < size; i++) sums[i] += view[i];
  }
  f32(memory, outPtr + lo * n * 4, size).set(sums);
}

/**
 * OUTER_BLOCKS, the float32 a^T b of each block [lo, hi) of OUTER_BLOCK_ROWS rows of a [k, m] and
 * b [k, n], into the block's own [m, n] of part [blocks, m, n] (SUM_EXAMPLES then adds the blocks
 * in float64 in block order). Each block is what OUTER_SUM accumulates for it, so the two give the
 * same bits; split by blocks, each thread reads only its rows of a and b, where OUTER_SUM's split by
 * output rows has every thread read all of b. a: [partPtr, aPtr, bPtr, k, m, n].
 */
function outerBlocks(simd, memory, a, lo, hi) {
  const [partPtr, aPtr, bPtr, k, m, n] = a;
  for (let blk = lo; blk < hi; blk++) {
    const r0 = blk * OUTER_BLOCK_ROWS;
    const acc = partPtr + blk * m * n * 4;
    f32(memory, acc, m * n).fill(0);
    outerRows(simd, acc, aPtr + r0 * m * 4, m * 4, bPtr + r0 * n * 4, n * 4, Math.min(OUTER_BLOCK_ROWS, k - r0), m, n);
  }
}

/** The convolution geometry that follows the pointers in a task's arguments. */
function geometry(a, o) {
  return {
    n: a[o], h: a[o + 1], w: a[o + 2], c: a[o + 3], ho: a[o + 4], wo: a[o + 5], kh: a[o + 6], kw: a[o + 7],
    sh: a[o + 8], sw: a[o + 9], dh: a[o + 10], dw: a[o + 11], pt: a[o + 12], pl: a[o + 13],
  };
}

/** The range [lo, hi) of output columns whose tap column `j` lands inside the input. */
function validOutputRange(j, g) {
  const off = j * g.dw - g.pl; // input column of output column 0
  const lo = off >= 0 ? 0 : Math.ceil(-off / g.sw);
  const hi = Math.min(g.wo, Math.floor((g.w - 1 - off) / g.sw) + 1);
  return [lo, Math.max(lo, hi)];
}

function validOutputRanges(g) {
  return Array.from({ length: g.kw }, (_, j) => validOutputRange(j, g));
}

/**
 * Walks example `b`: for every output row and every filter tap whose input row lies inside x and
 * whose valid output columns are not empty, calls `run` with the tap index `i * kw + j`, the element
 * offsets of the first x pixel (`xChannels` per pixel) and dy pixel (`dyChannels` per pixel) of that
 * run of columns, and the number of columns.
 */
function forEachTapRun(g, ranges, b, xChannels, dyChannels, run) {
  for (let oh = 0; oh < g.ho; oh++) {
    for (let i = 0; i < g.kh; i++) {
      const xi = oh * g.sh - g.pt + i * g.dh;
      if (xi < 0 || xi >= g.h) continue;
      for (let j = 0; j < g.kw; j++) {
        const [lo, hi] = ranges[j];
        if (hi <= lo) continue;
        const xStart = ((b * g.h + xi) * g.w + lo * g.sw - g.pl + j * g.dw) * xChannels;
        const dyStart = ((b * g.ho + oh) * g.wo + lo) * dyChannels;
        run(i * g.kw + j, xStart, dyStart, hi - lo);
      }
    }
  }
}

/**
 * CONV_FILTER, the conv2d filter gradient [kh, kw, ci, co] as sums of outer products along output
 * rows, input channels [lo, hi). a: [outPtr, accPtr, xPtr, dyPtr, co, ...geometry (c = ci)]; acc is
 * float32 scratch of the filter's size. Per-example float32 sums are added in float64.
 */
function convFilter(simd, memory, a, lo, hi) {
  const [outPtr, accPtr, xPtr, dyPtr, co] = a;
  const g = geometry(a, 5);
  const ci = g.c;
  const taps = g.kh * g.kw;
  const rows = hi - lo;
  const slice = rows * co;
  const ranges = validOutputRanges(g);
  const sums = new Float64Array(taps * slice);
  for (let b = 0; b < g.n; b++) {
    for (let t = 0; t < taps; t++) f32(memory, accPtr + (t * ci + lo) * co * 4, slice).fill(0);
    forEachTapRun(g, ranges, b, ci, co, (tap, xStart, dyStart, count) =>
      outerRows(simd, accPtr + (tap * ci + lo) * co * 4, xPtr + (xStart + lo) * 4, g.sw * ci * 4, dyPtr + dyStart * 4, co * 4, count, rows, co),
    );
    for (let t = 0; t < taps; t++) {
      const view = f32(memory, accPtr + (t * ci + lo) * co * 4, slice);
      const base = t * slice;
      for (let i = 0; i < slice; i++) sums[base + i] += view[i];
    }
  }
  for (let t = 0; t < taps; t++) f32(memory, outPtr + (t * ci + lo) * co * 4, slice).set(sums.subarray(t * slice, (t + 1) * slice));
}

/** DW_INPUT, the depthwise input gradient (multiplier 1), examples [lo, hi). a: [dxPtr, dyPtr, fPtr, ...geometry]. */
function depthwiseInput(simd, memory, a, lo, hi) {
  const [dxPtr, dyPtr, fPtr] = a;
  const g = geometry(a, 3);
  const { c, sw } = g;
  const image = g.h * g.w * c;
  f32(memory, dxPtr + lo * image * 4, (hi - lo) * image).fill(0);
  const ranges = validOutputRanges(g);
  const rowBytes = c * 4;
  for (let b = lo; b < hi; b++) {
    forEachTapRun(g, ranges, b, c, c, (tap, xStart, dyStart, count) =>
      simd.mac(dxPtr + xStart * 4, sw * rowBytes, dyPtr + dyStart * 4, rowBytes, fPtr + tap * rowBytes, 0, count, c),
    );
  }
}

/**
 * DW_FILTER, each example's float32 partial filter gradient (multiplier 1) into its row of
 * partial [n, kh * kw * c], examples [lo, hi). a: [partialPtr, xPtr, dyPtr, ...geometry].
 */
function depthwiseFilter(simd, memory, a, lo, hi) {
  const [pPtr, xPtr, dyPtr] = a;
  const g = geometry(a, 3);
  const { c, sw } = g;
  const taps = g.kh * g.kw * c;
  f32(memory, pPtr + lo * taps * 4, (hi - lo) * taps).fill(0);
  const ranges = validOutputRanges(g);
  const rowBytes = c * 4;
  for (let b = lo; b < hi; b++) {
    const accBase = pPtr + b * taps * 4;
    forEachTapRun(g, ranges, b, c, c, (tap, xStart, dyStart, count) =>
      simd.mac(accBase + tap * rowBytes, 0, xPtr + xStart * 4, sw * rowBytes, dyPtr + dyStart * 4, rowBytes, count, c),
    );
  }
}

/** SUM_EXAMPLES, out[t] = sum over b of partial[b, t] in float64, columns [lo, hi). a: [outPtr, partialPtr, n, width]. */
function sumExamples(_simd, memory, a, lo, hi) {
  const [outPtr, pPtr, n, width] = a;
  const size = hi - lo;
  const sum = new Float64Array(size);
  for (let b = 0; b < n; b++) {
    const view = f32(memory, pPtr + (b * width + lo) * 4, size);
    for (let t = 0; t < size; t++) sum[t] += view[t];
  }
  f32(memory, outPtr + lo * 4, size).set(sum);
}

/**
 * BN_STATS, the forward's column sums over blocks [lo, hi) of BN_BLOCK_ROWS rows of x [rows, cols]
 * into the block's row of the float32 partial part [blocks, cols]: of x when C < 0 (`ones` a [cols]
 * vector of 1), else of (x + C)^2, the centred squares made in registers.
 * a: [rows, cols, part, x, C, ones].
 */
function bnStats(simd, memory, a, lo, hi) {
  const [rows, cols, part, x, C, ones] = a;
  const rowBytes = cols * 4;
  for (let k = lo; k < hi; k++) {
    const r0 = k * BN_BLOCK_ROWS;
    const count = Math.min(BN_BLOCK_ROWS, rows - r0);
    const at = part + k * rowBytes;
    f32(memory, at, cols).fill(0);
    if (C < 0) simd.mac(at, 0, x + r0 * rowBytes, rowBytes, ones, 0, count, cols);
    else simd.devSq(at, x + r0 * rowBytes, rowBytes, C, count, cols);
  }
}

/**
 * BN_OUT, the forward's last pass over blocks [lo, hi) of BN_BLOCK_ROWS rows:
 * y = min(max((x + C) * A + D, yLo), yHi) (centreAffineClamp in wasm-simd.ts).
 * a: [rows, cols, y, x, C, A, D, yLo, yHi].
 */
function bnOut(simd, _memory, a, lo, hi) {
  const [rows, cols, y, x, C, A, D, yLo, yHi] = a;
  const rowBytes = cols * 4;
  const r0 = lo * BN_BLOCK_ROWS;
  const count = Math.min(hi * BN_BLOCK_ROWS, rows) - r0;
  simd.centreAffineClamp(y + r0 * rowBytes, x + r0 * rowBytes, C, A, D, count, cols, yLo, yHi);
}

/**
 * BN_GRAD_SUMS, the first pass of batch norm's backward over blocks [lo, hi) of BN_BLOCK_ROWS rows
 * of [rows, cols] (see bnGradSums in wasm-simd.ts): with `masked`, dz = dy where the pre-activation
 * (x + C) * A + D lies in (0, upper], else 0, stored; then the column sums of dz (dy unmasked) and of
 * dz * (x + C) into the block's rows of the float32 partials part1 and part2 [blocks, cols].
 * a: [rows, cols, part1, part2, dz, dy, x, C, A, D, upper, masked].
 */
function bnGradSums(simd, memory, a, lo, hi) {
  const [rows, cols, part1, part2, dz, dy, x, C, A, D, upper, masked] = a;
  const rowBytes = cols * 4;
  for (let k = lo; k < hi; k++) {
    const r0 = k * BN_BLOCK_ROWS;
    const count = Math.min(BN_BLOCK_ROWS, rows - r0);
    const off = r0 * rowBytes;
    f32(memory, part1 + k * rowBytes, cols).fill(0);
    f32(memory, part2 + k * rowBytes, cols).fill(0);
    simd.bnGradSums(part1 + k * rowBytes, part2 + k * rowBytes, dz + off, dy + off, x + off, C, A, D, count, cols, upper, masked);
  }
}

/**
 * BN_GRAD_DX, the last pass of batch norm's backward over blocks [lo, hi) of BN_BLOCK_ROWS rows:
 * out = p * A + (x + C) * B + D (centreAffine in wasm-simd.ts). a: [rows, cols, out, p, x, C, A, B, D].
 */
function bnGradDx(simd, _memory, a, lo, hi) {
  const [rows, cols, out, p, x, C, A, B, D] = a;
  const rowBytes = cols * 4;
  const r0 = lo * BN_BLOCK_ROWS;
  const count = Math.min(hi * BN_BLOCK_ROWS, rows) - r0;
  const off = r0 * rowBytes;
  simd.centreAffine(out + off, p + off, x + off, C, A, B, D, count, cols);
}

/** RELU_GRAD, out = dy where 0 < x <= upper, else 0, elements [lo, hi). a: [xPtr, dyPtr, outPtr, upper]. */
function reluGrad(simd, _memory, a, lo, hi) {
  const [x, dy, out, upper] = a;
  simd.reluGrad(x + lo * 4, dy + lo * 4, out + lo * 4, hi - lo, upper);
}

/** The task functions, indexed by TASK. */
export const TASKS = [outerSum, convFilter, depthwiseInput, depthwiseFilter, sumExamples, bnStats, reluGrad, outerBlocks, bnGradSums, bnGradDx, bnOut];

/**
 * The pool's control block, a SharedArrayBuffer of BYTES bytes: Int32 slots GEN (the dispatch
 * generation), CLAIM (generation << 8 | the next unclaimed part), DONE (parts finished), TASK,
 * PARTS, ERROR (a part threw), STOP (helpers end), the part boundaries from BOUNDS (PARTS + 1 of
 * them), and up to MAX_ARGS float64 task arguments from byte ARGS_BYTE_OFFSET.
 */
export const CONTROL = Object.freeze({
  GEN: 0,
  CLAIM: 1,
  DONE: 2,
  TASK: 3,
  PARTS: 4,
  ERROR: 5,
  STOP: 6,
  BOUNDS: 16,
  MAX_PARTS: 64,
  ARGS_BYTE_OFFSET: 512,
  MAX_ARGS: 32,
  BYTES: 768,
});

/** Generations wrap at this mask (23 bits, so generation << 8 stays a positive int32). */
export const GEN_MASK = 0x7fffff;

/**
 * Claims and runs parts of dispatch `gen` until none is left unclaimed; any thread may run any
 * part (the calling thread takes over the parts of a helper that has not woken yet). A claim is a
 * compare-and-swap on CLAIM that fails once the dispatch is over, so a late helper never runs a
 * part of a later dispatch with the arguments of an earlier one. Returns how many parts this thread
 * ran and the first error a part threw here (ERROR is set for it).
 */
export function runParts(ctl, args, simd, memory, gen) {
  const tag = (gen & GEN_MASK) << 8;
  let ran = 0;
  let error;
  for (;;) {
    const v = Atomics.load(ctl, CONTROL.CLAIM);
    if ((v & ~255) !== tag) break;
    const part = v & 255;
    const parts = Atomics.load(ctl, CONTROL.PARTS);
    if (part >= parts) break;
    if (Atomics.compareExchange(ctl, CONTROL.CLAIM, v, v + 1) !== v) continue;
    // Claimed: the dispatch cannot end before this part does, so its task and arguments stand.
    const lo = ctl[CONTROL.BOUNDS + part];
    const hi = ctl[CONTROL.BOUNDS + part + 1];
    try {
      if (hi > lo) TASKS[ctl[CONTROL.TASK]](simd, memory, args, lo, hi);
    } catch (e) {
      Atomics.store(ctl, CONTROL.ERROR, 1);
      error ??= e;
    }
    ran++;
    if (Atomics.add(ctl, CONTROL.DONE, 1) + 1 === parts) Atomics.notify(ctl, CONTROL.DONE);
  }
  return { ran, error };
}
