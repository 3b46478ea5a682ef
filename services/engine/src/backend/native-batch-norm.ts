import * as tf from '@tensorflow/tfjs-core';
import type { RunningStats } from './op-forms.ts';

/** An attribute of a TensorFlow op as tfjs-node's binding takes it. */
interface OpAttr {
  name: string;
  type: number;
  value: number | string | boolean;
}

/** The parts of tfjs-node's NodeJSKernelBackend used here: raw eager TensorFlow ops. */
interface NativeBackend {
  binding: { TF_ATTR_TYPE: number; TF_ATTR_FLOAT: number; TF_ATTR_STRING: number; TF_ATTR_BOOL: number; TF_FLOAT: number };
  executeSingleOutput(name: string, attrs: OpAttr[], inputs: tf.Tensor[]): tf.Tensor;
  executeMultipleOutputs(name: string, attrs: OpAttr[], inputs: tf.Tensor[], numOutputs: number): tf.Tensor[];
}

/**
 * Batch norm in training mode on NHWC `x`, then ReLU6 when `relu6`, as one custom op on the native
 * `tensorflow` backend: forward FusedBatchNormV3 (batch statistics; with `exponential_avg_factor` =
 * momentum it also returns the updated running statistics, unbiased variance, as PyTorch) and Relu6;
 * backward Relu6Grad and FusedBatchNormGradV3 on the forward's reserve spaces (which on a GPU hold
 * cuDNN's own saved statistics). Differentiable in x, gamma and beta; `running` is updated in place,
 * or, when `updateInHost` is given, by it from host copies of the batch mean and unbiased variance.
 * Call only while the `tensorflow` backend is active.
 */
export function nativeBatchNormAct(
  x: tf.Tensor4D,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  epsilon: number,
  relu6: boolean,
  running: RunningStats,
  updateInHost?: (batchMean: Float32Array, batchVariance: Float32Array) => void,
): tf.Tensor4D {
  const backend = tf.backend() as unknown as NativeBackend;
  const b = backend.binding;
  const type = (name: string): OpAttr => ({ name, type: b.TF_ATTR_TYPE, value: b.TF_FLOAT });
  const common = (): OpAttr[] => [
    type('T'),
    type('U'),
    { name: 'epsilon', type: b.TF_ATTR_FLOAT, value: epsilon },
    { name: 'data_format', type: b.TF_ATTR_STRING, value: 'NHWC' },
    { name: 'is_training', type: b.TF_ATTR_BOOL, value: true },
  ];
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xIn, g, bt, save] = args as [tf.Tensor, tf.Tensor, tf.Tensor, tf.GradSaveFunc];
    // Runs inside the custom op (not on the tape), in a tidy that keeps only the returned value.
    // With an exponential_avg_factor of 1 the op returns the batch statistics and reads no running
    // ones (gamma and beta stand in for them: same shape, no op to make them).
    const factor = updateInHost ? 1 : running.momentum;
    const forwardAttrs = [...common(), { name: 'exponential_avg_factor', type: b.TF_ATTR_FLOAT, value: factor }];
    const stats = updateInHost ? [g, bt] : [running.select(running.mean), running.select(running.variance)];
    const [y, mean, variance, r1, r2, r3] = backend.executeMultipleOutputs('FusedBatchNormV3', forwardAttrs, [xIn, g, bt, ...stats], 6) as [
      tf.Tensor,
      tf.Tensor1D,
      tf.Tensor1D,
      tf.Tensor,
      tf.Tensor,
      tf.Tensor,
    ];
    if (updateInHost) {
      updateInHost(mean.dataSync() as Float32Array, variance.dataSync() as Float32Array);
    } else {
      running.mean.assign(running.merge(mean, running.mean));
      running.variance.assign(running.merge(variance, running.variance));
    }
    const out = relu6 ? backend.executeSingleOutput('Relu6', [type('T')], [y]) : y;
    save(relu6 ? [xIn, g, r1, r2, r3, out] : [xIn, g, r1, r2, r3]);
    return {
      value: out,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, gs, s1, s2, s3, outS] = saved as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor | undefined];
        // Relu6Grad takes the op's input or its output alike.
        const dz = outS !== undefined ? backend.executeSingleOutput('Relu6Grad', [type('T')], [dy, outS]) : dy;
        const [dx, dg, db, ...spare] = backend.executeMultipleOutputs('FusedBatchNormGradV3', common(), [dz, xs, gs, s1, s2, s3], 5);
        tf.dispose(spare);
        if (dz !== dy) dz.dispose();
        return [dx!, dg!, db!];
      },
    };
  });
  return op(x, gamma, beta) as tf.Tensor4D;
}
