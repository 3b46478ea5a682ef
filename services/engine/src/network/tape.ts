import type * as tfc from '@tensorflow/tfjs-core';

interface TapeState {
  gradientDepth: number;
}

/**
 * Runs `f` with gradient recording paused. TF.js has no stopGradient: a zero-gradient custom op
 * would still backpropagate (zeros) through everything upstream, e.g. a whole teacher network.
 * Tensors made here are not on the tape, so the backward pass never visits what produced them.
 */
export function untaped<T>(tf: typeof tfc, f: () => T): T {
  const state = (tf.engine() as unknown as { state: TapeState }).state;
  const depth = state.gradientDepth;
  state.gradientDepth = 0;
  try {
    return f();
  } finally {
    state.gradientDepth = depth;
  }
}

/** A copy of `x` that no gradient flows through. */
export function stopGradient<T extends tfc.Tensor>(tf: typeof tfc, x: T): T {
  return untaped(tf, () => tf.clone(x));
}
