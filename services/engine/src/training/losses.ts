import type * as tfc from '@tensorflow/tfjs-core';
import { InvalidArgumentError } from '@supernetd/sdk';
import { stopGradient } from '../network/tape.ts';

function logits2d(logits: tfc.Tensor, what: string): tfc.Tensor2D {
  if (logits.rank !== 2) throw new InvalidArgumentError(`${what} must be [N, classes], got [${logits.shape.join(', ')}]`, 'SHAPE_MISMATCH');
  return logits as tfc.Tensor2D;
}

/** Mean softmax cross-entropy; targets (1 - s) one-hot + s / classes with label smoothing s. */
export function crossEntropy(tf: typeof tfc, logits: tfc.Tensor, labels: tfc.Tensor1D, labelSmoothing = 0): tfc.Scalar {
  const l = logits2d(logits, 'logits');
  const [n, k] = l.shape;
  if (labels.shape[0] !== n) throw new InvalidArgumentError(`labels must have ${n} entries, got ${labels.shape[0]}`, 'SHAPE_MISMATCH');
  if (!(labelSmoothing >= 0 && labelSmoothing < 1)) throw new InvalidArgumentError('labelSmoothing must be in [0, 1)');
  return tf.tidy(() => {
    const logp = tf.logSoftmax(l);
    let target: tfc.Tensor = tf.oneHot(tf.cast(labels, 'int32'), k);
    if (labelSmoothing > 0) target = tf.add(tf.mul(target, 1 - labelSmoothing), labelSmoothing / k);
    return tf.neg(tf.div(tf.sum(tf.mul(target, logp)), n)) as tfc.Scalar;
  });
}

/** KL(softmax(teacher) || softmax(student)), summed over classes and averaged over the batch (T = 1). */
export function klDivergence(tf: typeof tfc, student: tfc.Tensor, teacher: tfc.Tensor): tfc.Scalar {
  const s = logits2d(student, 'student logits');
  const t = logits2d(teacher, 'teacher logits');
  if (s.shape[0] !== t.shape[0] || s.shape[1] !== t.shape[1]) {
    throw new InvalidArgumentError(`student [${s.shape.join(', ')}] and teacher [${t.shape.join(', ')}] logits differ in shape`, 'SHAPE_MISMATCH');
  }
  return tf.tidy(() => {
    const logq = tf.logSoftmax(stopGradient(tf, t));
    const p = tf.exp(logq);
    return tf.div(tf.sum(tf.mul(p, tf.sub(logq, tf.logSoftmax(s)))), s.shape[0]) as tfc.Scalar;
  });
}

/** Mean squared error over all elements. */
export function meanSquaredError(tf: typeof tfc, a: tfc.Tensor, b: tfc.Tensor): tfc.Scalar {
  if (a.shape.join() !== b.shape.join()) {
    throw new InvalidArgumentError(`mse of [${a.shape.join(', ')}] and [${b.shape.join(', ')}]: shapes differ`, 'SHAPE_MISMATCH');
  }
  return tf.tidy(() => tf.mean(tf.squaredDifference(a, b)) as tfc.Scalar);
}
