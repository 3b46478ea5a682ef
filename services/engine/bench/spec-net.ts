import * as tf from '@tensorflow/tfjs-core';
import { opForms, type RunningStats } from '../src/backend/op-forms.ts';
import { Optimizer } from '../src/training/optimizer.ts';
import type { CaseSpec, LayerSpec, PassSpec } from './net-spec.ts';

/**
 * A CaseSpec built directly with tfjs-core ops, in the op forms the engine uses on the active backend
 * (backend/op-forms.ts: the 1x1 conv, and training-mode BN + ReLU6 with its running statistics),
 * widths by leftmost slices of max-width variables. One step runs every pass (forward, backward), adds
 * up the gradients and applies SGD with momentum 0.9 with the engine's optimiser, as torch_bench.py
 * does with torch.optim.SGD.
 */
/** Where a forward is in the variable list, the width list and the BN list. */
interface Cursor {
  v: number;
  w: number;
  bn: number;
}

export class SpecNet {
  private readonly vars: tf.Variable[] = [];
  private readonly running: { mean: tf.Variable; variance: tf.Variable }[] = [];
  private readonly optimizer = new Optimizer(tf, { kind: 'sgd', learningRate: 0.01, momentum: 0.9, weightDecay: 0 });
  private readonly x: tf.Tensor4D;
  private readonly labels: tf.Tensor2D;
  private seed = 1;

  constructor(private readonly spec: CaseSpec) {
    const [h, w, c] = spec.input;
    this.x = tf.randomUniform([spec.batch, h, w, c], 0, 1, 'float32', 7) as tf.Tensor4D;
    const ids = Array.from({ length: spec.batch }, (_, i) => (i * 7) % spec.classes);
    this.labels = tf.cast(tf.oneHot(tf.tensor1d(ids, 'int32'), spec.classes), 'float32') as tf.Tensor2D;
    this.init(spec.layers, c);
  }

  private init(layers: LayerSpec[], cin: number): number {
    for (const l of layers) {
      switch (l.op) {
        case 'conv':
          this.param([l.k, l.k, cin, l.maxOut], l.k * l.k * cin);
          this.bn(l.maxOut);
          cin = l.maxOut;
          break;
        case 'dw':
          this.param([l.k, l.k, cin, 1], l.k * l.k);
          this.bn(cin);
          break;
        case 'pw':
          this.param([cin, l.maxOut], cin);
          this.bn(l.maxOut);
          cin = l.maxOut;
          break;
        case 'block':
          cin = this.init(l.layers, cin);
          break;
        case 'pool':
          break;
        case 'fc':
          this.param([cin, l.out], cin);
          this.vars.push(tf.variable(tf.zeros([l.out])));
          cin = l.out;
          break;
      }
    }
    return cin;
  }

  private param(shape: number[], fanIn: number): void {
    this.vars.push(tf.variable(tf.mul(tf.randomNormal(shape, 0, 1, 'float32', this.seed++), Math.sqrt(2 / fanIn))));
  }

  private bn(c: number): void {
    this.vars.push(tf.variable(tf.ones([c])), tf.variable(tf.zeros([c])));
    this.running.push({ mean: tf.variable(tf.zeros([c]), false), variance: tf.variable(tf.ones([c]), false) });
  }

  /** One training step; returns the summed loss. */
  step(): number {
    let grads: tf.Tensor[] | null = null;
    let total = 0;
    let teacher: tf.Tensor2D | null = null;
    for (const pass of this.spec.passes) {
      const { value, grads: g } = tf.variableGrads(() => this.loss(pass, teacher, (t) => {
        if (teacher === null) teacher = tf.keep(tf.softmax(t)) as tf.Tensor2D;
      }), this.vars);
      total += value.dataSync()[0]!;
      value.dispose();
      const list = this.vars.map((v) => g[v.name]!);
      if (grads === null) grads = list;
      else {
        const sum: tf.Tensor[] = grads.map((a, i) => tf.add(a, list[i]!));
        tf.dispose([...grads, ...list]);
        grads = sum;
      }
    }
    const updates = this.vars.map((v, i) => ({ v: { name: v.name, variable: v, trainable: true, decay: false, block: 0 }, grad: grads![i]! }));
    this.optimizer.apply(updates, 0.01);
    tf.dispose(grads!);
    if (teacher !== null) tf.dispose(teacher);
    return total;
  }

  private loss(pass: PassSpec, teacher: tf.Tensor2D | null, onLogits: (t: tf.Tensor2D) => void): tf.Scalar {
    let x: tf.Tensor4D = this.x;
    if (pass.resolution !== this.spec.input[0]) x = tf.image.resizeBilinear(x, [pass.resolution, pass.resolution]);
    const cursor = { v: 0, w: 0, bn: 0 };
    const logits = this.forward(this.spec.layers, x, pass.widths, cursor) as tf.Tensor2D;
    // A tensor kept from this pass is a constant on the next pass's tape.
    onLogits(logits as tf.Tensor2D);
    const logp = tf.logSoftmax(logits);
    const n = this.spec.batch;
    if (pass.loss === 'ce' || teacher === null) return tf.div(tf.neg(tf.sum(tf.mul(this.labels, logp))), n) as tf.Scalar;
    const t: tf.Tensor2D = teacher;
    return tf.div(tf.sum(tf.mul(t, tf.sub(tf.log(tf.add(t, 1e-12)), logp))), n) as tf.Scalar;
  }

  private forward(layers: LayerSpec[], x: tf.Tensor, widths: number[], cur: Cursor): tf.Tensor {
    for (const l of layers) {
      const cin = x.shape[x.shape.length - 1]!;
      switch (l.op) {
        case 'conv': {
          const out = widths[cur.w++]!;
          const w = this.vars[cur.v++]!;
          const ws = w.shape[2] === cin && w.shape[3] === out ? w : tf.slice(w, [0, 0, 0, 0], [-1, -1, cin, out]);
          x = this.bnAct(tf.conv2d(x as tf.Tensor4D, ws as tf.Tensor4D, l.stride, 'same'), out, cur, l.act ?? true);
          break;
        }
        case 'dw': {
          const w = this.vars[cur.v++]!;
          const ws = w.shape[2] === cin ? w : tf.slice(w, [0, 0, 0, 0], [-1, -1, cin, -1]);
          x = this.bnAct(tf.depthwiseConv2d(x as tf.Tensor4D, ws as tf.Tensor4D, l.stride, 'same'), cin, cur, l.act ?? true);
          break;
        }
        case 'pw': {
          const out = widths[cur.w++]!;
          const w = this.vars[cur.v++]!;
          const ws = w.shape[0] === cin && w.shape[1] === out ? w : tf.slice(w, [0, 0], [cin, out]);
          x = this.bnAct(opForms().pointwiseConv(x as tf.Tensor4D, ws as tf.Tensor2D), out, cur, l.act ?? true);
          break;
        }
        case 'block': {
          const y = this.forward(l.layers, x, widths, cur);
          x = l.residual && y.shape.join() === x.shape.join() ? tf.add(x, y) : y;
          break;
        }
        case 'pool':
          x = opForms().globalAvgPool(x as tf.Tensor4D);
          break;
        case 'fc': {
          const w = this.vars[cur.v++]!;
          const b = this.vars[cur.v++]!;
          const ws = w.shape[0] === cin ? w : tf.slice(w, [0, 0], [cin, -1]);
          x = tf.add(tf.matMul(x as tf.Tensor2D, ws as tf.Tensor2D), b);
          break;
        }
      }
    }
    return x;
  }

  private bnAct(y: tf.Tensor, c: number, cur: Cursor, act: boolean): tf.Tensor {
    const gamma = this.vars[cur.v++]!;
    const beta = this.vars[cur.v++]!;
    const r = this.running[cur.bn++]!;
    const g = gamma.shape[0] === c ? gamma : tf.slice(gamma, [0], [c]);
    const b = beta.shape[0] === c ? beta : tf.slice(beta, [0], [c]);
    const max = r.mean.shape[0]!;
    // Running statistics of the channels in use, as PyTorch's BN updates its slices in every pass.
    const running: RunningStats = {
      mean: r.mean,
      variance: r.variance,
      momentum: 0.1,
      n: c,
      select: (v) => (c === max ? v : tf.slice(v, [0], [c])) as tf.Tensor1D,
      merge: (v, rest) => (c === max ? v : tf.concat([v, tf.slice(rest, [c], [max - c])])) as tf.Tensor1D,
    };
    return opForms().batchNormTrain(y, g as tf.Tensor1D, b as tf.Tensor1D, 1e-5, act, running);
  }

  dispose(): void {
    tf.dispose([this.x, this.labels, ...this.vars, ...this.running.flatMap((r) => [r.mean, r.variance])]);
    this.optimizer.dispose();
  }
}
