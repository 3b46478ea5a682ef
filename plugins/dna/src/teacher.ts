import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { InvalidArgumentError } from '@supernetd/sdk';
import type { Arch, Network, SupernetEngine } from '@supernetd/sdk';
import type * as tfc from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';

/** The teacher's feature maps around student block i: its input (`last`, the image for i = 0) and target (`guide`). */
export interface TeacherFeatures {
  last: tfc.Tensor4D;
  guide: tfc.Tensor4D;
}

/** A source of block-boundary feature maps. Creates tensors in the caller's scope. */
export interface Teacher {
  features(x: tfc.Tensor4D, block: number): TeacherFeatures;
}

/**
 * A teacher held by the engine as auxiliary network `teacher` (a preset or a full space definition
 * with the student's block boundaries and output widths); trained with CE in the `teacher` phase.
 */
export class AuxTeacher implements Teacher {
  readonly net: Network;
  readonly arch: Arch;

  constructor(
    engine: SupernetEngine,
    preset: string | Record<string, unknown>,
    private readonly trainMode: boolean,
  ) {
    this.net = engine.auxNetwork('teacher', preset);
    this.arch = this.net.space.maxArch();
  }

  features(x: tfc.Tensor4D, block: number): TeacherFeatures {
    const training = this.trainMode;
    const last = block === 0 ? x : (this.net.forward(this.arch, x, { training, toBlock: block - 1 }) as tfc.Tensor4D);
    const guide = this.net.forward(this.arch, last, { training, fromBlock: block, toBlock: block }) as tfc.Tensor4D;
    return { last, guide };
  }
}

interface ModelJson {
  modelTopology: unknown;
  weightsManifest: { paths: string[]; weights: tfc.io.WeightsManifestEntry[] }[];
}

/**
 * A pre-trained TF.js LayersModel on disk (`model.json` plus its weight files) whose named layers
 * `taps[i]` give the feature map at the end of student block i. Runs in inference mode.
 */
export class LayersModelTeacher implements Teacher {
  private constructor(private readonly model: tfl.LayersModel) {}

  /** Loads the model; InvalidArgumentError names the path or the tap when it cannot be used. */
  static async load(tf: typeof tfc, modelPath: string, taps: readonly string[]): Promise<LayersModelTeacher> {
    const layers = await import('@tensorflow/tfjs-layers');
    let json: ModelJson;
    let weightData: ArrayBuffer;
    try {
      json = JSON.parse(await readFile(modelPath, 'utf8')) as ModelJson;
      const parts: Uint8Array[] = [];
      for (const group of json.weightsManifest ?? []) {
        for (const p of group.paths) parts.push(new Uint8Array(await readFile(join(dirname(modelPath), p))));
      }
      const total = parts.reduce((n, p) => n + p.byteLength, 0);
      const all = new Uint8Array(total);
      let off = 0;
      for (const p of parts) {
        all.set(p, off);
        off += p.byteLength;
      }
      weightData = all.buffer;
    } catch (e) {
      throw new InvalidArgumentError(`teacherModel '${modelPath}' cannot be read: ${(e as Error).message}`, 'INVALID_STRATEGY_CONFIG');
    }
    const weightSpecs = (json.weightsManifest ?? []).flatMap((g) => g.weights);
    const full = await layers.loadLayersModel(
      tf.io.fromMemory({ modelTopology: json.modelTopology as tfc.io.ModelJSON['modelTopology'], weightSpecs, weightData }),
    );
    const outputs = taps.map((name, i) => {
      try {
        return full.getLayer(name).output as tfl.SymbolicTensor;
      } catch {
        throw new InvalidArgumentError(`teacherTaps[${i}]: the teacher has no layer '${name}'`, 'INVALID_STRATEGY_CONFIG');
      }
    });
    return new LayersModelTeacher(layers.model({ inputs: full.inputs, outputs }));
  }

  features(x: tfc.Tensor4D, block: number): TeacherFeatures {
    const outs = this.model.predict(x) as tfc.Tensor[];
    const list = Array.isArray(outs) ? outs : [outs];
    const guide = list[block] as tfc.Tensor4D;
    const last = block === 0 ? x : (list[block - 1] as tfc.Tensor4D);
    return { last, guide };
  }

  dispose(): void {
    this.model.dispose();
  }
}
