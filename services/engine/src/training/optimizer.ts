import type * as tfc from '@tensorflow/tfjs-core';
import type { OptimizerConfig } from '@supernetd/sdk';
import type { NamedVariable } from '../network/supernet.ts';

/** A slot variable of the optimiser, keyed for checkpoints by `${variable}:${slot}`. */
export interface SlotEntry {
  key: string;
  variable: tfc.Variable;
}

let slotCounter = 0;

/**
 * SGD (momentum, Nesterov; PyTorch semantics) and Adam over TF.js variables, with L2 weight decay
 * only on variables flagged `decay` (algorithms.md 4.9). Its state lives in variables and plain
 * numbers, so checkpoints restore it exactly.
 */
export class Optimizer {
  readonly cfg: OptimizerConfig;
  private readonly tf: typeof tfc;
  private readonly slots = new Map<string, tfc.Variable>();
  /** Adam: updates applied per variable (bias correction). */
  private readonly counts = new Map<string, number>();

  constructor(tf: typeof tfc, cfg: OptimizerConfig) {
    this.tf = tf;
    this.cfg = cfg;
  }

  private slot(name: string, kind: string, like: tfc.Variable): tfc.Variable {
    const key = `${name}:${kind}`;
    let v = this.slots.get(key);
    if (!v) {
      v = this.tf.variable(this.tf.zerosLike(like), false, `opt${++slotCounter}/${key}`);
      this.slots.set(key, v);
    }
    return v;
  }

  /** Applies one update with learning rate `lr` to each variable that has a gradient. */
  apply(updates: readonly { v: NamedVariable; grad: tfc.Tensor }[], lr: number): void {
    const tf = this.tf;
    const wd = this.cfg.weightDecay ?? 0;
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
      const mom = this.cfg.momentum ?? 0;
      const momT = tf.scalar(mom);
      for (const { v, grad } of updates) {
        const w = v.variable;
        let g = v.decay && wd > 0 ? tf.add(grad, tf.mul(w, wdT)) : grad;
        if (mom > 0) {
          const buf = this.slot(v.name, 'momentum', w);
          buf.assign(tf.add(tf.mul(buf, momT), g));
          g = this.cfg.nesterov ? tf.add(g, tf.mul(buf, momT)) : buf;
        }
        w.assign(tf.sub(w, tf.mul(g, lrT)));
      }
    });
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
