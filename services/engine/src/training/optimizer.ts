import type * as tfc from '@tensorflow/tfjs-core';
import type { OptimizerConfig } from '@supernetd/sdk';
import { opForms } from '../backend/op-forms.ts';
import type { NamedVariable } from '../network/supernet.ts';

/** A slot variable of the optimiser, keyed for checkpoints by `${variable}:${slot}`. */
export interface SlotEntry {
  key: string;
  variable: tfc.Variable;
}

let slotCounter = 0;

/**
 * SGD (momentum, Nesterov; PyTorch semantics) and Adam over TF.js variables, with L2 weight decay
 * only on variables flagged `decay`. Its state lives in variables and plain
 * numbers, so checkpoints restore it exactly.
 */
export class Optimizer {
  readonly cfg: OptimizerConfig;
  private readonly tf: typeof tfc;
  private readonly slots = new Map<string, tfc.Variable>();
  /** Adam: updates applied per variable (bias correction). */
  private readonly counts = new Map<string, number>();

  /**
   * `inHost`: compute updates in JS over host copies (default: the active backend's op forms say,
   * `updatesInHost`: wasm and cpu, whose tensors live in host memory), else with tensor ops. `grouped` (default true): with tensor ops,
   * SGD updates variables of concatenable shapes as one concatenation (see `applySgdGrouped`);
   * false updates each variable alone, the same arithmetic in more ops.
   */
  constructor(tf: typeof tfc, cfg: OptimizerConfig, opts: { inHost?: boolean; grouped?: boolean } = {}) {
    this.tf = tf;
    this.cfg = cfg;
    this.inHost = opts.inHost;
    this.grouped = opts.grouped ?? true;
  }

  private readonly inHost: boolean | undefined;
  private readonly grouped: boolean;

  private slot(name: string, kind: string, like: tfc.Variable): tfc.Variable {
    const key = `${name}:${kind}`;
    let v = this.slots.get(key);
    if (!v) {
      const zeros = this.tf.zerosLike(like);
      v = this.tf.variable(zeros, false, `opt${++slotCounter}/${key}`);
      zeros.dispose();
      this.slots.set(key, v);
    }
    return v;
  }

  /** Applies one update with learning rate `lr` to each variable that has a gradient. */
  apply(updates: readonly { v: NamedVariable; grad: tfc.Tensor }[], lr: number): void {
    const tf = this.tf;
    const wd = this.cfg.weightDecay ?? 0;
    if (this.inHost ?? opForms().updatesInHost) {
      for (const u of updates) this.applyInHost(u.v, u.grad, lr, wd);
      return;
    }
    tf.tidy(() => {
      // Scalars made once per step: a plain number would be uploaded again by every op.
      const lrT = tf.scalar(lr);
      const wdT = tf.scalar(wd);
      if (this.cfg.kind === 'adam') {
        const b1 = 0.9;
        const b2 = 0.999;
        const [b1T, b2T, c1T, c2T, epsT] = [b1, b2, 1 - b1, 1 - b2, 1e-8].map((x) => tf.scalar(x)) as tfc.Scalar[];
        for (const { v, grad } of updates) {
          const w = v.variable;
          const g = v.decay && wd > 0 ? tf.add(grad, tf.mul(w, wdT)) : grad;
          const t = (this.counts.get(v.name) ?? 0) + 1;
          this.counts.set(v.name, t);
          const m = this.slot(v.name, 'm', w);
          const s = this.slot(v.name, 'v', w);
          m.assign(tf.add(tf.mul(m, b1T), tf.mul(g, c1T)));
          s.assign(tf.add(tf.mul(s, b2T), tf.mul(tf.square(g), c2T)));
          // lr * m_hat / (sqrt(v_hat) + eps), bias corrections folded into two scalars
          const denom = tf.add(tf.mul(tf.sqrt(s), tf.scalar(1 / Math.sqrt(1 - b2 ** t))), epsT);
          w.assign(tf.sub(w, tf.mul(tf.div(m, denom), tf.scalar(lr / (1 - b1 ** t)))));
        }
        return;
      }
      const momT = tf.scalar(this.cfg.momentum ?? 0);
      const groups = this.grouped ? sgdGroups(updates) : updates.map((u) => [u]);
      for (const group of groups) this.applySgdGroup(group, lrT, wdT, momT, wd);
    });
  }

  /**
   * SGD on `group` (variables whose shapes agree on every axis but `concatAxis`, and in `decay`):
   * a group of one is updated alone; a larger one as one concatenation of its gradients, weights and
   * momentum buffers, one arithmetic chain and one split back, so the op count per step follows the
   * number of groups, not of variables (on `tensorflow` each op is one eager dispatch). The chain is
   * the same element-wise arithmetic either way, and concatenating and splitting move values
   * unchanged, so both give the same bits.
   */
  private applySgdGroup(group: readonly { v: NamedVariable; grad: tfc.Tensor }[], lrT: tfc.Scalar, wdT: tfc.Scalar, momT: tfc.Scalar, wd: number): void {
    const tf = this.tf;
    const mom = this.cfg.momentum ?? 0;
    const decay = group[0]!.v.decay && wd > 0;
    const weights = group.map((u) => u.v.variable);
    const bufs = mom > 0 ? group.map((u) => this.slot(u.v.name, 'momentum', u.v.variable)) : [];
    const axis = concatAxis(weights[0]!.shape);
    const join = (ts: readonly tfc.Tensor[]) => (ts.length === 1 ? ts[0]! : tf.concat(ts as tfc.Tensor[], axis));
    const w = join(weights);
    let g = join(group.map((u) => u.grad));
    if (decay) g = tf.add(g, tf.mul(w, wdT));
    let buf: tfc.Tensor | undefined;
    if (mom > 0) {
      buf = tf.add(tf.mul(join(bufs), momT), g);
      g = this.cfg.nesterov ? tf.add(g, tf.mul(buf, momT)) : buf;
    }
    const nextW = tf.sub(w, tf.mul(g, lrT));
    const split = (t: tfc.Tensor) => (group.length === 1 ? [t] : tf.split(t, weights.map((x) => x.shape[axis] as number), axis));
    split(nextW).forEach((t, i) => weights[i]!.assign(t));
    if (buf !== undefined) split(buf).forEach((t, i) => bufs[i]!.assign(t));
  }

  /**
   * The same update computed in JS over host copies (wasm and cpu keep tensors in host memory):
   * one loop per variable instead of six to ten kernel dispatches.
   */
  private applyInHost(v: NamedVariable, grad: tfc.Tensor, lr: number, wd: number): void {
    const tf = this.tf;
    const w = v.variable;
    const x = w.dataSync() as Float32Array;
    const g = grad.dataSync() as Float32Array;
    const decay = v.decay ? wd : 0;
    const n = x.length;
    const nextW = new Float32Array(n);
    const writes: [tfc.Variable, Float32Array][] = [[w, nextW]];
    if (this.cfg.kind === 'adam') {
      const b1 = 0.9;
      const b2 = 0.999;
      const t = (this.counts.get(v.name) ?? 0) + 1;
      this.counts.set(v.name, t);
      const mVar = this.slot(v.name, 'm', w);
      const sVar = this.slot(v.name, 'v', w);
      const m = mVar.dataSync() as Float32Array;
      const s = sVar.dataSync() as Float32Array;
      const nextM = new Float32Array(n);
      const nextS = new Float32Array(n);
      const c1 = lr / (1 - b1 ** t);
      const c2 = 1 / Math.sqrt(1 - b2 ** t);
      for (let i = 0; i < n; i++) {
        const gi = (g[i] as number) + decay * (x[i] as number);
        const mi = b1 * (m[i] as number) + (1 - b1) * gi;
        const si = b2 * (s[i] as number) + (1 - b2) * gi * gi;
        nextM[i] = mi;
        nextS[i] = si;
        nextW[i] = (x[i] as number) - (c1 * mi) / (Math.sqrt(si) * c2 + 1e-8);
      }
      writes.push([mVar, nextM], [sVar, nextS]);
    } else {
      const mom = this.cfg.momentum ?? 0;
      if (mom > 0) {
        const bufVar = this.slot(v.name, 'momentum', w);
        const buf = bufVar.dataSync() as Float32Array;
        const nextB = new Float32Array(n);
        const nesterov = this.cfg.nesterov ?? false;
        for (let i = 0; i < n; i++) {
          const gi = (g[i] as number) + decay * (x[i] as number);
          const b = mom * (buf[i] as number) + gi;
          nextB[i] = b;
          nextW[i] = (x[i] as number) - lr * (nesterov ? gi + mom * b : b);
        }
        writes.push([bufVar, nextB]);
      } else {
        for (let i = 0; i < n; i++) nextW[i] = (x[i] as number) - lr * ((g[i] as number) + decay * (x[i] as number));
      }
    }
    for (const [variable, values] of writes) {
      const t = tf.tensor(values, variable.shape, 'float32');
      variable.assign(t);
      t.dispose();
    }
  }

  /** Slot variables in a stable order, for checkpoints. */
  slotEntries(): SlotEntry[] {
    return [...this.slots.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([key, variable]) => ({ key, variable }));
  }

  /** Plain part of the state (Adam step counts). */
  counters(): Record<string, number> {
    return Object.fromEntries(this.counts);
  }

  /** Restores slots (values copied) and counters from a checkpoint. */
  restore(slots: readonly { key: string; value: tfc.Tensor }[], counters: Record<string, number>): void {
    this.disposeSlots();
    for (const { key, value } of slots) {
      this.slots.set(key, this.tf.variable(value, false, `opt${++slotCounter}/${key}`));
    }
    for (const [k, n] of Object.entries(counters)) this.counts.set(k, n);
  }

  private disposeSlots(): void {
    for (const v of this.slots.values()) v.dispose();
    this.slots.clear();
    this.counts.clear();
  }

  dispose(): void {
    this.disposeSlots();
  }
}

/**
 * The axis along which variables of this shape are concatenated: the input channels of a conv
 * filter [k, k, cin, cout] (so every depthwise filter [k, k, C, 1] of one k joins one group), else
 * axis 0 (every [C] vector; 1x1-conv and FC weights [cin, cout] of one cout).
 */
function concatAxis(shape: readonly number[]): number {
  return shape.length === 4 ? 2 : 0;
}

/** Shapes concatenate along `concatAxis` when they agree on every other axis (and in decay). */
function groupKey(v: NamedVariable): string {
  const shape = v.variable.shape;
  const axis = concatAxis(shape);
  return `${v.decay ? 'd' : 'n'}:${shape.map((d, i) => (i === axis ? '*' : String(d))).join('x')}`;
}

/** Updates grouped by `groupKey`, in first-seen order; groups under three are split into singles. */
function sgdGroups<U extends { v: NamedVariable }>(updates: readonly U[]): U[][] {
  const byKey = new Map<string, U[]>();
  for (const u of updates) {
    const k = groupKey(u.v);
    const list = byKey.get(k);
    if (list) list.push(u);
    else byKey.set(k, [u]);
  }
  // Three ops join and split a group per tensor kind; fewer than three variables save nothing.
  return [...byKey.values()].flatMap((g) => (g.length < 3 ? g.map((u) => [u]) : [g]));
}
