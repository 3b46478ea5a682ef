import type * as tfc from '@tensorflow/tfjs-core';
import { InvalidArgumentError, makeDivisible, Rng } from '@supernetd/sdk';
import type { Arch, ForwardOptions, Network } from '@supernetd/sdk';
import type { ResolvedLayer, ResolvedSpace, WidthSlot } from '../space/index.ts';
import {
  channelSelector,
  leftmost,
  selectCols,
  selectConvIn,
  selectConvOut,
  selectRows,
  selectVec,
  mergeVec,
  type ChannelSel,
} from './channel-select.ts';
import { opForms, type RunningStats } from '../backend/op-forms.ts';

/** Shared batch norm of one conv at max width; running statistics are non-trainable variables. */
export interface BNParams {
  gamma: tfc.Variable;
  beta: tfc.Variable;
  mean: tfc.Variable;
  variance: tfc.Variable;
}

/**
 * A conv's weights at max width. `w` is [cin, cout] for 1x1 convs (run as a matMul on
 * [N*H*W, C]), [k, k, cin, cout] for kxk convs and [k, k, c, 1] for depthwise ones.
 */
export interface ConvParams {
  w: tfc.Variable;
  bn: BNParams;
  kernel: number;
  stride: number;
  depthwise: boolean;
}

/** One MBConv candidate op's modules (none for a skip op). */
export interface MbOpParams {
  expand?: ConvParams;
  dw?: ConvParams;
  project?: ConvParams;
}

export interface LayerParams {
  conv?: ConvParams;
  ops?: MbOpParams[];
  fc?: { w: tfc.Variable; b: tfc.Variable };
}

/** A variable with its checkpoint name and the facts the optimiser needs. */
export interface NamedVariable {
  name: string;
  variable: tfc.Variable;
  trainable: boolean;
  /** Weight decay applies (non-depthwise conv and FC weights, as in PSS-Net's training recipe). */
  decay: boolean;
  /** Block index, -1 for the tail. */
  block: number;
}

export interface SupernetOptions {
  /** Running-statistics momentum (PyTorch convention: new = (1-m) old + m batch). Default 0.1. */
  bnMomentum?: number;
  /** Seed of the weight initialisation. */
  seed: number;
}

let instanceCounter = 0;

/**
 * The weight-sharing supernet: one set of variables at max width; any subnet runs by slicing them
 * (leftmost), selecting channels (indexed) and picking one op per op-choice layer.
 */
export class Supernet implements Network {
  readonly id: string;
  readonly space: ResolvedSpace;
  readonly tf: typeof tfc;
  /** Momentum of running-statistics updates; `recalibrateBN` overrides it per batch. */
  bnMomentum: number;
  /** When set, replaces `bnMomentum` (BN recalibration). */
  momentumOverride: number | undefined;
  private readonly vars: NamedVariable[] = [];
  private readonly byName = new Map<string, NamedVariable>();
  private readonly params = new Map<string, LayerParams>();
  private readonly uid: number;

  constructor(tf: typeof tfc, id: string, space: ResolvedSpace, opts: SupernetOptions) {
    this.tf = tf;
    this.id = id;
    this.space = space;
    this.bnMomentum = opts.bnMomentum ?? 0.1;
    this.momentumOverride = undefined;
    this.uid = ++instanceCounter;
    const rng = new Rng(`supernet-init:${opts.seed}:${id}`);
    for (const layer of space.resolvedLayers) this.params.set(layer.id, this.build(layer, rng));
  }

  /** Every variable, trainable and running statistics, in creation order. */
  allVariables(): readonly NamedVariable[] {
    return this.vars;
  }

  variable(name: string): NamedVariable | undefined {
    return this.byName.get(name);
  }

  layerParams(id: string): LayerParams {
    const p = this.params.get(id);
    if (!p) throw new InvalidArgumentError(`unknown layer '${id}'`);
    return p;
  }

  variableNames(blocks?: readonly number[]): string[] {
    return this.vars
      .filter((v) => v.trainable && (blocks === undefined || blocks.includes(v.block)))
      .map((v) => v.name);
  }

  private addVar(name: string, values: Float32Array, shape: number[], trainable: boolean, decay: boolean, block: number) {
    const full = `${this.id}/${name}`;
    if (this.byName.has(full)) throw new InvalidArgumentError(`duplicate variable '${full}'`, 'INVALID_SEARCH_SPACE');
    const init = this.tf.tensor(values, shape, 'float32');
    const variable = this.tf.variable(init, trainable, `sn${this.uid}/${full}`);
    init.dispose(); // the variable holds its own reference to the data
    const nv: NamedVariable = { name: full, variable, trainable, decay, block };
    this.vars.push(nv);
    this.byName.set(full, nv);
    return variable;
  }

  private normal(rng: Rng, n: number, std: number): Float32Array {
    const a = new Float32Array(n);
    for (let i = 0; i < n; i++) a[i] = rng.normal() * std;
    return a;
  }

  private bnParams(prefix: string, c: number, block: number): BNParams {
    const ones = new Float32Array(c).fill(1);
    return {
      gamma: this.addVar(`${prefix}/bn/gamma`, ones, [c], true, false, block),
      beta: this.addVar(`${prefix}/bn/beta`, new Float32Array(c), [c], true, false, block),
      mean: this.addVar(`${prefix}/bn/mean`, new Float32Array(c), [c], false, false, block),
      variance: this.addVar(`${prefix}/bn/variance`, ones.slice(), [c], false, false, block),
    };
  }

  /** Conv init N(0, sqrt(2 / (k^2 cout))) as in PSS-Net; depthwise cout = channels. */
  private convParams(prefix: string, rng: Rng, cin: number, cout: number, k: number, stride: number, depthwise: boolean, block: number): ConvParams {
    const std = Math.sqrt(2 / (k * k * cout));
    const shape = depthwise ? [k, k, cout, 1] : k === 1 && stride === 1 ? [cin, cout] : [k, k, cin, cout];
    const n = shape.reduce((a, b) => a * b, 1);
    const w = this.addVar(`${prefix}/w`, this.normal(rng, n, std), shape, true, !depthwise, block);
    return { w, bn: this.bnParams(prefix, cout, block), kernel: k, stride, depthwise };
  }

  private build(layer: ResolvedLayer, rng: Rng): LayerParams {
    const b = layer.blockIndex;
    const cin = layer.input.max;
    const cout = layer.output.max;
    switch (layer.kind) {
      case 'conv':
        return { conv: this.convParams(layer.id, rng, cin, cout, layer.kernel, layer.stride, false, b) };
      case 'dwconv':
        return { conv: this.convParams(layer.id, rng, cin, cin, layer.kernel, layer.stride, true, b) };
      case 'mbconv':
        return {
          ops: layer.ops.map((op) => {
            if (op.skip) return {};
            const p = layer.hasOpChoice ? `${layer.id}/${op.name}` : layer.id;
            const h = op.hiddenMax;
            const out: MbOpParams = {};
            if (op.expand !== 1) out.expand = this.convParams(`${p}/expand`, rng, cin, h, 1, 1, false, b);
            out.dw = this.convParams(`${p}/dw`, rng, h, h, op.kernel, layer.stride, true, b);
            out.project = this.convParams(`${p}/project`, rng, h, cout, 1, 1, false, b);
            return out;
          }),
        };
      case 'linear':
        return {
          fc: {
            w: this.addVar(`${layer.id}/w`, this.normal(rng, cin * cout, 0.01), [cin, cout], true, true, b),
            b: this.addVar(`${layer.id}/b`, new Float32Array(cout), [cout], true, false, b),
          },
        };
      case 'pool':
        return {};
    }
  }

  /**
   * Forward pass of `arch`. Validates the arch (InvalidArgumentError). Creates tensors in the
   * caller's scope: call inside tf.tidy or a loss closure. Training mode updates the running
   * statistics of the channels it used.
   */
  forward(arch: Arch, x: tfc.Tensor4D, opts: ForwardOptions): tfc.Tensor {
    const tf = this.tf;
    const space = this.space;
    space.validateArch(arch);
    const nBlocks = space.blocks.length;
    const from = opts.fromBlock ?? 0;
    const to = opts.toBlock;
    if (!Number.isInteger(from) || from < 0 || from >= nBlocks) {
      throw new InvalidArgumentError(`fromBlock ${from} is outside [0, ${nBlocks - 1}]`);
    }
    if (to !== undefined && (!Number.isInteger(to) || to < from || to >= nBlocks)) {
      throw new InvalidArgumentError(`toBlock ${to} is outside [${from}, ${nBlocks - 1}]`);
    }
    const { selOf } = channelSelector(tf, arch);
    let h: tfc.Tensor = x;
    if (from === 0) {
      const [, hh, ww, cc] = x.shape;
      if (hh !== ww || cc !== space.inputShape[2]) {
        throw new InvalidArgumentError(`input must be [N, H, H, ${space.inputShape[2]}], got [${x.shape.join(', ')}]`, 'SHAPE_MISMATCH');
      }
      if (hh !== arch.resolution) h = tf.image.resizeBilinear(x, [arch.resolution, arch.resolution], true);
    } else {
      const first = space.resolvedLayers.find((l) => l.blockIndex === from) as ResolvedLayer;
      const channels = space.activeWidth(first.input, arch);
      if (x.rank !== 4 || x.shape[3] !== channels) {
        throw new InvalidArgumentError(
          `block ${from} takes [N, H, W, ${channels}] for this arch, got [${x.shape.join(', ')}]`,
          'SHAPE_MISMATCH',
        );
      }
    }
    for (const layer of space.resolvedLayers) {
      if (layer.blockIndex === -1 ? to !== undefined : layer.blockIndex < from || (to !== undefined && layer.blockIndex > to)) {
        continue;
      }
      h = this.runLayer(layer, arch, h, selOf, opts.training);
    }
    return h;
  }

  /**
   * One layer of `arch` on its input `h`. `selOf` gives each width slot's channel selection
   * (shared within one forward so that index matrices are built once).
   */
  runLayer(layer: ResolvedLayer, arch: Arch, h: tfc.Tensor, selOf: (slot: WidthSlot) => ChannelSel, training: boolean): tfc.Tensor {
    const tf = this.tf;
    const p = this.params.get(layer.id) as LayerParams;
    const inSel = selOf(layer.input);
    switch (layer.kind) {
      case 'conv':
        return this.conv(h as tfc.Tensor4D, p.conv as ConvParams, inSel, selOf(layer.output), layer.act !== 'none', training);
      case 'dwconv':
        return this.conv(h as tfc.Tensor4D, p.conv as ConvParams, inSel, inSel, layer.act !== 'none', training);
      case 'mbconv': {
        const op = this.space.opOf(layer, arch);
        if (op.skip) return h;
        const m = (p.ops as MbOpParams[])[layer.ops.indexOf(op)] as MbOpParams;
        const outSel = selOf(layer.output);
        let t = h as tfc.Tensor4D;
        let hidSel = inSel;
        if (m.expand) {
          hidSel = leftmost(op.hiddenMax, makeDivisible(inSel.n * op.expand));
          t = this.conv(t, m.expand, inSel, hidSel, true, training);
        }
        t = this.conv(t, m.dw as ConvParams, hidSel, hidSel, true, training);
        t = this.conv(t, m.project as ConvParams, hidSel, outSel, false, training);
        return layer.residual ? tf.add(t, h) : t;
      }
      case 'pool':
        return opForms().globalAvgPool(h as tfc.Tensor4D);
      case 'linear': {
        const fc = p.fc as { w: tfc.Variable; b: tfc.Variable };
        return tf.add(tf.matMul(h as tfc.Tensor2D, selectRows(tf, fc.w as tfc.Tensor2D, inSel)), fc.b);
      }
    }
  }

  /**
   * A conv's weight restricted to the selected channels, in its stored layout: [cin, cout] for 1x1
   * convs, [k, k, cin, cout] for kxk ones, [k, k, c, 1] for depthwise ones.
   */
  convWeight(p: ConvParams, inSel: ChannelSel, outSel: ChannelSel): tfc.Tensor {
    const tf = this.tf;
    if (p.depthwise) {
      if (outSel.full) return p.w;
      if (!outSel.s) return tf.slice(p.w, [0, 0, 0, 0], [-1, -1, outSel.n, -1]);
      const k = p.kernel;
      return tf.reshape(selectCols(tf, tf.reshape(p.w, [k * k, outSel.max]) as tfc.Tensor2D, outSel), [k, k, outSel.n, 1]);
    }
    // Leftmost (or full) on both axes: one slice, whose gradient is one pad.
    const sliced = !inSel.s && !outSel.s;
    if (sliced && inSel.full && outSel.full) return p.w;
    if (p.w.rank === 2) {
      if (sliced) return tf.slice(p.w, [0, 0], [inSel.n, outSel.n]);
      return selectCols(tf, selectRows(tf, p.w as tfc.Tensor2D, inSel), outSel);
    }
    if (sliced) return tf.slice(p.w, [0, 0, 0, 0], [-1, -1, inSel.n, outSel.n]);
    return selectConvOut(tf, selectConvIn(tf, p.w as tfc.Tensor4D, inSel), outSel);
  }

  /**
   * Conv (1x1, kxk, depthwise) + shared BN + optional ReLU6 on selected channels. The 1x1 conv and
   * the BN take the active backend's op forms (backend/op-forms.ts).
   */
  private conv(x: tfc.Tensor4D, p: ConvParams, inSel: ChannelSel, outSel: ChannelSel, act: boolean, training: boolean): tfc.Tensor4D {
    const tf = this.tf;
    const forms = opForms();
    const w = this.convWeight(p, inSel, outSel);
    let y: tfc.Tensor4D;
    if (p.depthwise) y = tf.depthwiseConv2d(x, w as tfc.Tensor4D, p.stride, 'same');
    else if (w.rank === 2) y = forms.pointwiseConv(x, w as tfc.Tensor2D);
    else y = tf.conv2d(x, w as tfc.Tensor4D, p.stride, 'same');
    const gamma = selectVec(tf, p.bn.gamma as tfc.Tensor1D, outSel);
    const beta = selectVec(tf, p.bn.beta as tfc.Tensor1D, outSel);
    if (training) return forms.batchNormTrain(y, gamma, beta, this.space.bnEpsilon, act, this.runningStats(p.bn, outSel)) as tfc.Tensor4D;
    const mean = selectVec(tf, p.bn.mean as tfc.Tensor1D, outSel);
    const variance = selectVec(tf, p.bn.variance as tfc.Tensor1D, outSel);
    return forms.batchNormInfer(y, gamma, beta, mean, variance, this.space.bnEpsilon, act) as tfc.Tensor4D;
  }

  /** The running statistics a training-mode BN on `sel` updates (running variance unbiased, as PyTorch). */
  private runningStats(bn: BNParams, sel: ChannelSel): RunningStats {
    const tf = this.tf;
    const stats: RunningStats = {
      mean: bn.mean,
      variance: bn.variance,
      momentum: this.momentumOverride ?? this.bnMomentum,
      n: sel.n,
      select: (v) => selectVec(tf, v as tfc.Tensor1D, sel),
      merge: (v, rest) => mergeVec(tf, v, rest as tfc.Tensor1D, sel),
    };
    if (sel.idx) stats.idx = sel.idx;
    return stats;
  }

  /** Every BN's running statistics back to mean 0, variance 1. */
  resetBatchNorm(): void {
    const tf = this.tf;
    tf.tidy(() => {
      for (const v of this.vars) {
        if (v.name.endsWith('/bn/mean')) v.variable.assign(tf.zerosLike(v.variable));
        else if (v.name.endsWith('/bn/variance')) v.variable.assign(tf.onesLike(v.variable));
      }
    });
  }

  /** Copies of the running statistics (caller passes them to `restoreBatchNorm`). */
  snapshotBatchNorm(): Map<string, tfc.Tensor> {
    const out = new Map<string, tfc.Tensor>();
    for (const v of this.vars) if (!v.trainable) out.set(v.name, this.tf.clone(v.variable));
    return out;
  }

  /** Restores and disposes a snapshot. */
  restoreBatchNorm(snap: Map<string, tfc.Tensor>): void {
    for (const [name, t] of snap) {
      this.byName.get(name)?.variable.assign(t);
      t.dispose();
    }
  }

  dispose(): void {
    for (const v of this.vars) v.variable.dispose();
    this.vars.length = 0;
    this.byName.clear();
  }
}
