import type * as tfc from '@tensorflow/tfjs-core';

/**
 * Collects named loss terms computed inside an `engine.step` closure so that they can be reported
 * after the step: `add` keeps the scalar past the closure's tidy, `read` downloads and disposes all.
 */
export class LossParts {
  private readonly parts = new Map<string, tfc.Scalar>();

  constructor(private readonly tf: typeof tfc) {}

  /** Keeps `value` under `name` (summed when the name repeats) and returns it for the total. */
  add(name: string, value: tfc.Scalar): tfc.Scalar {
    const prev = this.parts.get(name);
    const kept = this.tf.keep(prev ? this.tf.tidy(() => this.tf.add(prev, value) as tfc.Scalar) : this.tf.clone(value));
    prev?.dispose();
    this.parts.set(name, kept);
    return value;
  }

  /** The terms as numbers; disposes them. */
  read(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [k, t] of this.parts) {
      out[k] = (t.dataSync() as Float32Array)[0] as number;
      t.dispose();
    }
    this.parts.clear();
    return out;
  }

  /** Disposes the kept terms without reading them (error paths). */
  dispose(): void {
    for (const t of this.parts.values()) t.dispose();
    this.parts.clear();
  }
}
