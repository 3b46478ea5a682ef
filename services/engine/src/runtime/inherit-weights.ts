import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type * as tfc from '@tensorflow/tfjs-core';
import { InvalidArgumentError, makeDivisible } from '@supernetd/sdk';
import type { Arch } from '@supernetd/sdk';
import type { SpaceSpec } from '../runtime-types.ts';
import { resolveSpace } from '../space/index.ts';
import { channelSelector, leftmost, selectRows, selectVec, type ChannelSel } from '../network/channel-select.ts';
import { Supernet } from '../network/supernet.ts';
import type { ConvParams, LayerParams, MbOpParams } from '../network/supernet.ts';
import { SUPERNET_ID } from '../training/engine.ts';

/**
 * Subdirectory of an experiment's checkpoint directory that holds what a retrained subnet inherits
 * from: a copy of the source experiment's checkpoint files (`checkpoint.json`, its weights and state
 * files) plus `subnet.json` ({@link InheritSource}). Written by the server at creation; read once,
 * when the new experiment has no checkpoint of its own yet.
 */
export const INHERIT_DIR = 'inherit';
/** The file in {@link INHERIT_DIR} naming the source space and the subnet. */
export const INHERIT_SUBNET_FILE = 'subnet.json';

/** The source of inherited weights: the source experiment's space and the subnet in it. */
export interface InheritSource {
  space: SpaceSpec;
  arch: Arch;
}

interface Manifest {
  step: number;
  weights: string;
  state: string;
  sha256: string;
}

/**
 * Sets every weight of `target` (a supernet over the one-architecture space derived from
 * `source.space` and `source.arch` by singleArchDefinition) to the subnet's weights in the source
 * supernet whose checkpoint lies in `dir`, sliced as ExportSubnet slices them: leftmost or indexed
 * channels per width choice, the chosen op of each op-choice layer. BN affine parameters and running
 * statistics are sliced too (callers recalibrate the statistics). Returns the source checkpoint's
 * step, or undefined when `dir` holds no `subnet.json`. Throws InvalidArgumentError when the files
 * are corrupt or do not fit. Leaves the number of live tensors unchanged.
 */
export async function inheritSubnetWeights(tf: typeof tfc, dir: string, target: Supernet): Promise<{ step: number } | undefined> {
  let source: InheritSource;
  try {
    source = JSON.parse(await fs.readFile(path.join(dir, INHERIT_SUBNET_FILE), 'utf8')) as InheritSource;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new InvalidArgumentError(`inherited subnet file in '${dir}' is unreadable: ${(e as Error).message}`);
  }
  const manifest = JSON.parse(await fs.readFile(path.join(dir, 'checkpoint.json'), 'utf8')) as Manifest;
  const buf = await fs.readFile(path.join(dir, manifest.weights));
  if (createHash('sha256').update(buf).digest('hex') !== manifest.sha256) {
    throw new InvalidArgumentError(`inherited checkpoint weights '${manifest.weights}' fail their checksum`);
  }
  const state = JSON.parse(await fs.readFile(path.join(dir, manifest.state), 'utf8')) as {
    variables: { name: string; shape: number[]; offset: number }[];
  };
  const weights = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
  const space = resolveSpace(source.space);
  space.validateArch(source.arch);
  const src = new Supernet(tf, SUPERNET_ID, space, { seed: 0 });
  try {
    for (const e of state.variables) {
      const v = src.variable(e.name);
      if (!v) continue; // auxiliary networks (a DNA teacher) are not inherited
      if (v.variable.shape.join() !== e.shape.join()) {
        throw new InvalidArgumentError(`inherited variable '${e.name}' [${e.shape.join(', ')}] does not fit the source space`);
      }
      const n = e.shape.reduce((a, b) => a * b, 1);
      tf.tidy(() => v.variable.assign(tf.tensor(weights.subarray(e.offset, e.offset + n), e.shape, 'float32')));
    }
    copySubnet(tf, src, source.arch, target);
  } finally {
    src.dispose();
  }
  return { step: manifest.step };
}

/** Assigns `arch`'s slice of `src` to every variable of `target`, layer by layer (same layer ids). */
function copySubnet(tf: typeof tfc, src: Supernet, arch: Arch, target: Supernet): void {
  const { selOf, all } = channelSelector(tf, arch);
  const put = (to: tfc.Variable, value: tfc.Tensor, what: string) => {
    const v = value.shape.length !== to.shape.length ? tf.reshape(value, to.shape) : value;
    if (v.shape.join() !== to.shape.join()) {
      throw new InvalidArgumentError(`inherited ${what} [${v.shape.join(', ')}] does not fit the retrained subnet's [${to.shape.join(', ')}]`);
    }
    to.assign(v);
  };
  const conv = (from: ConvParams, to: ConvParams, what: string, inSel: ChannelSel, outSel: ChannelSel) => {
    put(to.w, src.convWeight(from, inSel, outSel), `${what}/w`);
    for (const k of ['gamma', 'beta', 'mean', 'variance'] as const) {
      put(to.bn[k], selectVec(tf, from.bn[k] as tfc.Tensor1D, outSel), `${what}/bn/${k}`);
    }
  };
  try {
    tf.tidy(() => {
      for (const layer of src.space.resolvedLayers) {
        const from = src.layerParams(layer.id) as LayerParams;
        const to = target.layerParams(layer.id) as LayerParams;
        const inSel = selOf(layer.input);
        switch (layer.kind) {
          case 'conv':
            conv(from.conv as ConvParams, to.conv as ConvParams, layer.id, inSel, selOf(layer.output));
            break;
          case 'dwconv':
            conv(from.conv as ConvParams, to.conv as ConvParams, layer.id, inSel, inSel);
            break;
          case 'mbconv': {
            const op = src.space.opOf(layer, arch);
            if (op.skip) break;
            const m = (from.ops as MbOpParams[])[layer.ops.indexOf(op)] as MbOpParams;
            const t = (to.ops as MbOpParams[])[0] as MbOpParams;
            let hid = inSel;
            if (m.expand) {
              hid = leftmost(op.hiddenMax, makeDivisible(inSel.n * op.expand));
              conv(m.expand, t.expand as ConvParams, `${layer.id}/expand`, inSel, hid);
            }
            conv(m.dw as ConvParams, t.dw as ConvParams, `${layer.id}/dw`, hid, hid);
            conv(m.project as ConvParams, t.project as ConvParams, `${layer.id}/project`, hid, selOf(layer.output));
            break;
          }
          case 'linear': {
            const f = from.fc as { w: tfc.Variable; b: tfc.Variable };
            const g = to.fc as { w: tfc.Variable; b: tfc.Variable };
            put(g.w, selectRows(tf, f.w as tfc.Tensor2D, inSel), `${layer.id}/w`);
            put(g.b, f.b, `${layer.id}/b`);
            break;
          }
          case 'pool':
            break;
        }
      }
    });
  } finally {
    for (const s of all()) tf.dispose([s.s, s.sT].filter((t): t is tfc.Tensor2D => t !== undefined));
  }
}
