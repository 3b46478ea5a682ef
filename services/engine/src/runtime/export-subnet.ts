import type * as tfc from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { Arch, Cost } from '@supernetd/sdk';
import { makeDivisible } from '@supernetd/sdk';
import type { ExportedFileData } from '../runtime-types.ts';
import { channelSelector, leftmost, selectRows, selectVec, type ChannelSel } from '../network/channel-select.ts';
import type { ConvParams, LayerParams, MbOpParams, Supernet } from '../network/supernet.ts';

type SymbolicTensor = tfl.SymbolicTensor;

/**
 * Exports subnet `arch` of `net` as a standalone TF.js LayersModel (Conv2D, DepthwiseConv2D,
 * BatchNormalization, ReLU(6), Add, GlobalAveragePooling2D, Dense) holding the sliced weights and
 * the supernet's current BN statistics: `model.json`, `weights.bin` and `arch.json`. The model's
 * input is [resolution, resolution, channels]: callers resize images as the supernet does
 * (bilinear, align corners). Leaves the number of live tensors unchanged.
 */
export async function exportSubnet(tf: typeof tfc, net: Supernet, arch: Arch): Promise<{ files: ExportedFileData[]; cost: Cost }> {
  const space = net.space;
  space.validateArch(arch);
  const r = arch.resolution;
  const pending: { layer: tfl.layers.Layer; weights: () => tfc.Tensor[] }[] = [];
  const { selOf, all } = channelSelector(tf, arch);
  const disposeSels = () => {
    for (const s of all()) tf.dispose([s.s, s.sT].filter((t): t is tfc.Tensor2D => t !== undefined));
  };
  let model: tfl.LayersModel;
  try {
    const safe = (id: string) => id.replace(/[^A-Za-z0-9_]/g, '_');
    const input = tfl.input({ shape: [r, r, space.inputShape[2]], name: 'input' });
    let h: SymbolicTensor = input;
    const conv = (x: SymbolicTensor, p: ConvParams, name: string, inSel: ChannelSel, outSel: ChannelSel, act: boolean): SymbolicTensor => {
      const k = p.kernel;
      const layer: tfl.layers.Layer = p.depthwise
        ? tfl.layers.depthwiseConv2d({ kernelSize: k, strides: p.stride, padding: 'same', depthMultiplier: 1, useBias: false, name })
        : tfl.layers.conv2d({ filters: outSel.n, kernelSize: k, strides: p.stride, padding: 'same', useBias: false, name });
      pending.push({
        layer,
        weights: () => {
          const w = net.convWeight(p, inSel, outSel);
          return [w.rank === 2 ? tf.reshape(w, [1, 1, inSel.n, outSel.n]) : w];
        },
      });
      let y = layer.apply(x) as SymbolicTensor;
      const bn = tfl.layers.batchNormalization({ axis: -1, epsilon: space.bnEpsilon, name: `${name}_bn` });
      pending.push({
        layer: bn,
        weights: () => [p.bn.gamma, p.bn.beta, p.bn.mean, p.bn.variance].map((v) => selectVec(tf, v as tfc.Tensor1D, outSel)),
      });
      y = bn.apply(y) as SymbolicTensor;
      if (act) y = tfl.layers.reLU({ maxValue: 6, name: `${name}_relu6` }).apply(y) as SymbolicTensor;
      return y;
    };
    for (const layer of space.resolvedLayers) {
      const p = net.layerParams(layer.id) as LayerParams;
      const inSel = selOf(layer.input);
      const name = safe(layer.id);
      switch (layer.kind) {
        case 'conv':
          h = conv(h, p.conv as ConvParams, name, inSel, selOf(layer.output), layer.act !== 'none');
          break;
        case 'dwconv':
          h = conv(h, p.conv as ConvParams, name, inSel, inSel, layer.act !== 'none');
          break;
        case 'mbconv': {
          const op = space.opOf(layer, arch);
          if (op.skip) break;
          const m = (p.ops as MbOpParams[])[layer.ops.indexOf(op)] as MbOpParams;
          const outSel = selOf(layer.output);
          let t = h;
          let hid = inSel;
          if (m.expand) {
            hid = leftmost(op.hiddenMax, makeDivisible(inSel.n * op.expand));
            t = conv(t, m.expand, `${name}_expand`, inSel, hid, true);
          }
          t = conv(t, m.dw as ConvParams, `${name}_dw`, hid, hid, true);
          t = conv(t, m.project as ConvParams, `${name}_project`, hid, outSel, false);
          h = layer.residual ? (tfl.layers.add({ name: `${name}_add` }).apply([t, h]) as SymbolicTensor) : t;
          break;
        }
        case 'pool':
          h = tfl.layers.globalAveragePooling2d({ name }).apply(h) as SymbolicTensor;
          break;
        case 'linear': {
          const fc = p.fc as { w: tfc.Variable; b: tfc.Variable };
          const dense = tfl.layers.dense({ units: layer.output.max, useBias: true, name });
          pending.push({ layer: dense, weights: () => [selectRows(tf, fc.w as tfc.Tensor2D, inSel), fc.b] });
          h = dense.apply(h) as SymbolicTensor;
          break;
        }
      }
    }
    model = tfl.model({ inputs: input, outputs: h, name: safe(`${space.name}_subnet`) });
    tf.tidy(() => {
      for (const { layer, weights } of pending) layer.setWeights(weights());
    });
  } finally {
    disposeSels();
  }
  try {
    let modelJson = '';
    let weightData = new Uint8Array(0);
    await model.save(
      tf.io.withSaveHandler(async (artifacts) => {
        const wd = artifacts.weightData;
        const parts = wd === undefined ? [] : Array.isArray(wd) ? wd : [wd];
        const total = parts.reduce((a, b) => a + b.byteLength, 0);
        weightData = new Uint8Array(total);
        let off = 0;
        for (const p of parts) {
          weightData.set(new Uint8Array(p), off);
          off += p.byteLength;
        }
        modelJson = JSON.stringify({
          format: 'layers-model',
          generatedBy: artifacts.generatedBy,
          convertedBy: null,
          modelTopology: artifacts.modelTopology,
          weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }],
        });
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
    );
    const cost = space.cost(arch);
    const archJson = JSON.stringify({
      space: space.name,
      arch,
      cost,
      inputShape: [r, r, space.inputShape[2]],
      preprocessing: `resize images bilinearly (align corners) to ${r}x${r}, values in [0, 1]`,
    });
    const enc = new TextEncoder();
    return {
      files: [
        { path: 'model.json', data: enc.encode(modelJson) },
        { path: 'weights.bin', data: weightData },
        { path: 'arch.json', data: enc.encode(archJson) },
      ],
      cost,
    };
  } finally {
    model.dispose();
  }
}
