import * as tf from '@tensorflow/tfjs-core';
import { batchNormTrain } from './batch-norm-train.ts';
import { nativeBatchNormAct } from './native-batch-norm.ts';

/**
 * A batch norm's running statistics at max width and the slice of them a training forward updates:
 * `new = old + momentum * (batch - old)` on the selected channels, with the batch's unbiased
 * variance (PyTorch's convention).
 */
export interface RunningStats {
  mean: tf.Variable;
  variance: tf.Variable;
  momentum: number;
  /** Channels in use: the first `n` of `mean.size`, or the ascending indices `idx` (then n = idx.length). */
  n: number;
  idx?: readonly number[];
  /** Selects the used channels of a [max] vector (leftmost slice or index matrix). */
  select(v: tf.Tensor): tf.Tensor1D;
  /** A [max] vector holding `v` ([n]) at the used channels and `rest` elsewhere. */
  merge(v: tf.Tensor1D, rest: tf.Tensor): tf.Tensor1D;
}

/**
 * The forms the supernet's layers take on one TensorFlow.js backend: the same arithmetic, in the ops
 * that backend runs fastest. Network code calls these and never asks which backend is active.
 */
export interface OpForms {
  /** The backend these forms are for. */
  readonly backend: string;
  /** A 1x1 stride-1 convolution: x [N, H, W, cin] times w [cin, cout] (the weight's stored layout). */
  pointwiseConv(x: tf.Tensor4D, w: tf.Tensor2D): tf.Tensor4D;
  /**
   * Batch norm in training mode over every axis but the last (batch statistics), then ReLU6 when
   * `relu6`, differentiable in x, gamma and beta; updates `running` (no gradient). Returns y.
   */
  batchNormTrain(x: tf.Tensor, gamma: tf.Tensor1D, beta: tf.Tensor1D, epsilon: number, relu6: boolean, running: RunningStats): tf.Tensor;
  /** Batch norm with given statistics (inference), then ReLU6 when `relu6`. */
  batchNormInfer(x: tf.Tensor, gamma: tf.Tensor1D, beta: tf.Tensor1D, mean: tf.Tensor1D, variance: tf.Tensor1D, epsilon: number, relu6: boolean): tf.Tensor;
  /** Global average pooling: x [N, H, W, C] to its mean over H and W, [N, C]. */
  globalAvgPool(x: tf.Tensor4D): tf.Tensor2D;
  /**
   * True where tensor data lives in host memory (wasm, cpu): the optimiser then updates each
   * variable in a JS loop over its values, which beats a chain of small kernels there. False where
   * each op is cheap next to a host round trip (tensorflow): updates are grouped tensor ops.
   */
  readonly updatesInHost: boolean;
}

/**
 * `mean(x, [1, 2])` with a one-pass gradient: dy / (H*W) broadcast over H and W (one `Tile`).
 * tfjs's own gradient of `mean` builds `ones(x.shape)` as a JS array, uploads it and makes two
 * full-size passes (multiply, divide), for the same values: dy * 1 / (H*W) equals dy / (H*W) bit for
 * bit. For `tensorflow`, where the upload and each op cost most (case a: 27.8 -> 24.5 ms a step);
 * wasm's `Tile` kernel is a scalar loop, slower there than the XNNPACK multiply it would replace
 * (case a: 120 -> 189 ms), so wasm and cpu keep `mean` and its stock gradient.
 */
function globalAvgPoolOneTile(x: tf.Tensor4D): tf.Tensor2D {
  const [n, h, w, c] = x.shape;
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const xIn = args[0] as tf.Tensor4D;
    return {
      value: tf.mean(xIn, [1, 2]) as tf.Tensor2D,
      gradFunc: (dy: tf.Tensor) => tf.tile(tf.reshape(tf.div(dy, h * w), [n, 1, 1, c]), [1, h, w, 1]),
    };
  });
  return op(x) as tf.Tensor2D;
}

/**
 * wasm and cpu keep tensors in host memory and compute synchronously: 1x1 convs are matMuls on
 * [N*H*W, C] (matMul is the wasm backend's fastest kernel and reshapes there are free), batch norm is
 * `batchNormTrain` with its ReLU6 (one fused SIMD kernel each way on wasm), and running statistics
 * are updated in JS over host copies (two uploads per BN instead of seven kernel dispatches).
 */
function hostForms(backend: string): OpForms {
  return {
    backend,
    // a GPU backend (webgl, webgpu) keeps tensors on the device: tensor ops there
    updatesInHost: backend === 'wasm' || backend === 'cpu',
    pointwiseConv(x, w) {
      const [n, h, ww, c] = x.shape;
      const y = tf.matMul(tf.reshape(x, [n * h * ww, c]), w);
      return tf.reshape(y, [n, h, ww, w.shape[1]]);
    },
    batchNormTrain(x, gamma, beta, epsilon, relu6, running) {
      const r = batchNormTrain(x, gamma, beta, epsilon, relu6);
      const count = x.size / running.n;
      updateInHost(running, r.mean.dataSync() as Float32Array, r.variance.dataSync() as Float32Array, count > 1 ? count / (count - 1) : 1);
      tf.dispose([r.mean, r.variance]);
      return r.y;
    },
    batchNormInfer(x, gamma, beta, mean, variance, epsilon, relu6) {
      // [C]-sized scale and shift, then two passes over x
      const scale = tf.mul(gamma, tf.rsqrt(tf.add(variance, epsilon)));
      const shift = tf.sub(beta, tf.mul(mean, scale));
      const y = tf.add(tf.mul(x, scale), shift);
      return relu6 ? tf.relu6(y) : y;
    },
    globalAvgPool: (x) => tf.mean(x, [1, 2]) as tf.Tensor2D,
  };
}

function updateInHost(running: RunningStats, batchMean: Float32Array, batchVar: Float32Array, unbias: number): void {
  const m = running.momentum;
  for (const [v, batch, scale] of [
    [running.mean, batchMean, 1],
    [running.variance, batchVar, unbias],
  ] as const) {
    const next = Float32Array.from(v.dataSync() as Float32Array);
    for (let j = 0; j < running.n; j++) {
      const c = running.idx ? (running.idx[j] as number) : j;
      next[c] = (next[c] as number) + m * ((batch[j] as number) * scale - (next[c] as number));
    }
    const t = tf.tensor1d(next, 'float32');
    v.assign(t);
    t.dispose();
  }
}

/**
 * The native TensorFlow backend runs each op as one eager TensorFlow op, so what costs is the number
 * of ops and their kind, not passes over memory: 1x1 convs are Conv2D (no reshapes around a
 * BatchMatMul), and batch norm + ReLU6 is one FusedBatchNormV3 (which also updates the running
 * statistics of a full-width BN) and one Relu6 forward, Relu6Grad + FusedBatchNormGradV3 backward, where tfjs's own
 * gradients of the moments form and of relu6 take about forty ops; inference BN is one FusedBatchNorm.
 */
function tensorflowForms(): OpForms {
  // On the CPU device a [C] read is a copy and an upload a JS array: a narrow subnet's running
  // statistics are updated in JS instead of by six Slice/Concat ops around each BN. On a GPU a
  // read would wait for the device, so there they stay on it.
  const onCpu = !(tf.backend() as unknown as { isUsingGpuDevice?: boolean }).isUsingGpuDevice;
  const statsUpdate = (running: RunningStats) =>
    onCpu && (running.idx !== undefined || running.n < (running.mean.shape[0] as number))
      ? (mean: Float32Array, variance: Float32Array) => updateInHost(running, mean, variance, 1)
      : undefined;
  return {
    backend: 'tensorflow',
    updatesInHost: false,
    pointwiseConv(x, w) {
      const [cin, cout] = w.shape;
      return tf.conv2d(x, tf.reshape(w, [1, 1, cin, cout]) as tf.Tensor4D, 1, 'valid');
    },
    batchNormTrain(x, gamma, beta, epsilon, relu6, running) {
      if (x.rank === 4) return nativeBatchNormAct(x as tf.Tensor4D, gamma, beta, epsilon, relu6, running, statsUpdate(running));
      // FusedBatchNormV3 takes NHWC only: any other rank normalises the same way as [1, 1, rows, C].
      const c = x.shape[x.rank - 1] as number;
      const y = nativeBatchNormAct(tf.reshape(x, [1, 1, x.size / c, c]), gamma, beta, epsilon, relu6, running, statsUpdate(running));
      return tf.reshape(y, x.shape);
    },
    batchNormInfer(x, gamma, beta, mean, variance, epsilon, relu6) {
      // tfjs-node runs tf.batchNorm on NHWC as one FusedBatchNorm op (inference).
      const c = x.shape[x.rank - 1] as number;
      const x4 = x.rank === 4 ? (x as tf.Tensor4D) : tf.reshape(x, [1, 1, x.size / c, c]);
      let y: tf.Tensor = tf.batchNorm(x4, mean, variance, beta, gamma, epsilon);
      if (relu6) y = tf.relu6(y);
      return x.rank === 4 ? y : tf.reshape(y, x.shape);
    },
    globalAvgPool: globalAvgPoolOneTile,
  };
}

let cached: OpForms | undefined;

/**
 * The op forms of the active backend. Chosen per backend in this one place, so the supernet (and
 * the benchmark's reference net) run the same code on every backend.
 */
export function opForms(): OpForms {
  const name = tf.engine().backendName ?? tf.getBackend();
  if (cached?.backend === name) return cached;
  cached = name === 'tensorflow' ? tensorflowForms() : hostForms(name);
  return cached;
}
