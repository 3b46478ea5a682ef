import type * as tfc from '@tensorflow/tfjs-core';
import type { Arch } from '@supernetd/sdk';
import type { WidthSlot } from '../space/index.ts';

/**
 * Which channels of a `max`-wide axis a subnet uses: all of them, the first `n` (leftmost,
 * tf.slice), or an explicit ascending index set (CafeNet) applied as a 0/1 selection matrix.
 * The matrix form keeps the gradient a matMul: the gradient of gather (UnsortedSegmentSum) is
 * missing on the wasm backend, and matMul is its fastest kernel.
 */
export interface ChannelSel {
  readonly max: number;
  readonly n: number;
  readonly full: boolean;
  /** [max, n] with S[idx[j], j] = 1 (indexed only). */
  readonly s?: tfc.Tensor2D;
  /** Its transpose [n, max]. */
  readonly sT?: tfc.Tensor2D;
  readonly idx?: readonly number[];
}

/** Selection of `n` leftmost channels of `max`. */
export function leftmost(max: number, n: number): ChannelSel {
  return { max, n, full: n === max };
}

/** Selection of explicit channel indices; the matrices are created in the caller's tidy scope. */
export function indexed(tf: typeof tfc, max: number, idx: readonly number[]): ChannelSel {
  if (idx.length === max) return { max, n: max, full: true };
  const n = idx.length;
  const s = new Float32Array(max * n);
  const sT = new Float32Array(n * max);
  idx.forEach((c, j) => {
    s[c * n + j] = 1;
    sT[j * max + c] = 1;
  });
  return { max, n, full: false, s: tf.tensor2d(s, [max, n]), sT: tf.tensor2d(sT, [n, max]), idx };
}

/** Columns of a [rows, max] matrix. */
export function selectCols(tf: typeof tfc, w: tfc.Tensor2D, sel: ChannelSel): tfc.Tensor2D {
  if (sel.full) return w;
  if (sel.s) return tf.matMul(w, sel.s);
  return tf.slice(w, [0, 0], [-1, sel.n]);
}

/** Rows of a [max, cols] matrix. */
export function selectRows(tf: typeof tfc, w: tfc.Tensor2D, sel: ChannelSel): tfc.Tensor2D {
  if (sel.full) return w;
  if (sel.sT) return tf.matMul(sel.sT, w);
  return tf.slice(w, [0, 0], [sel.n, -1]);
}

/** Entries of a [max] vector. */
export function selectVec(tf: typeof tfc, v: tfc.Tensor1D, sel: ChannelSel): tfc.Tensor1D {
  if (sel.full) return v;
  if (sel.s) return tf.reshape(tf.matMul(tf.reshape(v, [1, sel.max]), sel.s), [sel.n]);
  return tf.slice(v, [0], [sel.n]);
}

/** A [max] vector that is `v` ([n]) at the selected channels and `rest` ([max]) elsewhere. */
export function mergeVec(tf: typeof tfc, v: tfc.Tensor1D, rest: tfc.Tensor1D, sel: ChannelSel): tfc.Tensor1D {
  if (sel.full) return v;
  if (sel.s) {
    const delta = tf.sub(v, selectVec(tf, rest, sel));
    return tf.add(rest, tf.reshape(tf.matMul(sel.s, tf.reshape(delta, [sel.n, 1])), [sel.max]));
  }
  return tf.concat([v, tf.slice(rest, [sel.n], [sel.max - sel.n])]);
}

/** Output channels (last axis) of a kxk conv kernel [k, k, cin, max]. */
export function selectConvOut(tf: typeof tfc, w: tfc.Tensor4D, sel: ChannelSel): tfc.Tensor4D {
  if (sel.full) return w;
  const [k0, k1, cin] = w.shape;
  const m = selectCols(tf, tf.reshape(w, [k0 * k1 * cin, sel.max]), sel);
  return tf.reshape(m, [k0, k1, cin, sel.n]);
}

/** Input channels (axis 2) of a kxk conv kernel [k, k, max, cout]. */
export function selectConvIn(tf: typeof tfc, w: tfc.Tensor4D, sel: ChannelSel): tfc.Tensor4D {
  if (sel.full) return w;
  const [k0, k1, , cout] = w.shape;
  if (!sel.sT) return tf.slice(w, [0, 0, 0, 0], [-1, -1, sel.n, -1]);
  // Rare (a full kxk conv after an indexed width): move the channel axis first for the matMul.
  const t = tf.reshape(tf.transpose(w, [2, 0, 1, 3]), [sel.max, k0 * k1 * cout]);
  return tf.transpose(tf.reshape(tf.matMul(sel.sT, t), [sel.n, k0, k1, cout]), [1, 2, 0, 3]);
}

/**
 * Channel selections of one arch, built once per width choice: index matrices for the choices
 * with explicit indices (created in the caller's tidy scope), leftmost slices for the rest.
 */
export function channelSelector(tf: typeof tfc, arch: Arch): { selOf: (slot: WidthSlot) => ChannelSel; all: () => ChannelSel[] } {
  const sels = new Map<string, ChannelSel>();
  const selOf = (slot: WidthSlot): ChannelSel => {
    if (slot.choice === undefined) return leftmost(slot.max, slot.max);
    let s = sels.get(slot.choice);
    if (!s) {
      const idx = arch.channelIdx?.[slot.choice];
      s = idx ? indexed(tf, slot.max, idx) : leftmost(slot.max, arch.width[slot.choice] as number);
      sels.set(slot.choice, s);
    }
    return s;
  };
  return { selOf, all: () => [...sels.values()] };
}
