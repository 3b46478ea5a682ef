import * as tfc from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { Arch, Cost } from '@supernetd/sdk';
import { InvalidArgumentError, makeDivisible } from '@supernetd/sdk';
import type { ExportedFileData } from '../runtime-types.ts';
import { channelSelector, leftmost, selectRows, selectVec, type ChannelSel } from '../network/channel-select.ts';
import type { ConvParams, LayerParams, MbOpParams, Supernet } from '../network/supernet.ts';
import type { ResolvedLayer, ResolvedSpace, WidthSlot } from '../space/index.ts';

type SymbolicTensor = tfl.SymbolicTensor;

/**
 * Exports subnet `arch` of `net` as a standalone TF.js LayersModel (Conv2D, DepthwiseConv2D,
 * BatchNormalization, ReLU(6), Add, GlobalAveragePooling2D, Dense) holding the sliced weights and
 * the supernet's current BN statistics: `model.json`, `weights.bin` and `arch.json`. The model's
 * input is [resolution, resolution, channels]: callers resize images as the supernet does
 * (bilinear, align corners). Leaves the number of live tensors unchanged. `loadExportedModel`
 * loads the files back.
 */
export async function exportSubnet(tf: typeof tfc, net: Supernet, arch: Arch): Promise<{ files: ExportedFileData[]; cost: Cost }> {
  net.space.validateArch(arch);
  const model = buildSubnetModel(tf, net, arch);
  try {
    const { modelJson, weightData } = await serializeModel(tf, model);
    const cost = net.space.cost(arch);
    const enc = new TextEncoder();
    return {
      files: [
        { path: 'model.json', data: enc.encode(modelJson) },
        { path: 'weights.bin', data: weightData },
        { path: 'arch.json', data: enc.encode(archJson(net.space, arch, cost)) },
      ],
      cost,
    };
  } finally {
    model.dispose();
  }
}

/**
 * Loads an export (`model.json` and the weight files its manifest names, by path, as `exportSubnet`
 * writes them) with stock `tf.loadLayersModel` from memory, on TensorFlow.js's current backend. The
 * caller disposes the model. Throws InvalidArgumentError when `model.json` is missing or is not a
 * TF.js layers model, or names a weight file the export lacks.
 */
export async function loadExportedModel(files: ReadonlyMap<string, Uint8Array> | readonly ExportedFileData[]): Promise<tfl.LayersModel> {
  const byPath: ReadonlyMap<string, Uint8Array> = Array.isArray(files) ? new Map(files.map((f) => [f.path, f.data])) : (files as ReadonlyMap<string, Uint8Array>);
  const jsonBytes = byPath.get('model.json');
  if (!jsonBytes) throw new InvalidArgumentError('the export has no model.json');
  let modelJson: { modelTopology?: unknown; weightsManifest?: unknown };
  try {
    modelJson = JSON.parse(new TextDecoder().decode(jsonBytes)) as typeof modelJson;
  } catch (e) {
    throw new InvalidArgumentError(`the export's model.json is not JSON: ${(e as Error).message}`);
  }
  const { modelTopology, weightsManifest } = modelJson;
  if (typeof modelTopology !== 'object' || modelTopology === null || !Array.isArray(weightsManifest)) {
    throw new InvalidArgumentError("the export's model.json is not a TF.js layers model (needs modelTopology and weightsManifest)");
  }
  const groups = weightsManifest as tfc.io.WeightsManifestConfig;
  const parts = groups.flatMap((g) =>
    g.paths.map((p) => {
      const bytes = byPath.get(p);
      if (!bytes) throw new InvalidArgumentError(`model.json names weight file '${p}', which is not in the export`);
      return bytes;
    }),
  );
  const weightData = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let off = 0;
  for (const p of parts) {
    weightData.set(p, off);
    off += p.byteLength;
  }
  return tfl.loadLayersModel(
    tfc.io.fromMemory({ modelTopology: modelTopology as tfc.io.ModelJSON['modelTopology'], weightSpecs: groups.flatMap((g) => g.weights), weightData: weightData.buffer }),
  );
}

/** A layer of the subnet's model and how to slice its weights from the supernet's. */
interface PendingWeights {
  layer: tfl.layers.Layer;
  weights: () => tfc.Tensor[];
}

/** What the layer builders share while one subnet's graph is built. */
interface GraphBuild {
  tf: typeof tfc;
  net: Supernet;
  arch: Arch;
  selOf: (slot: WidthSlot) => ChannelSel;
  /** Layers whose weights are set once the graph is complete. */
  pending: PendingWeights[];
}

/** A Keras layer name for a layer id. */
const safeName = (id: string) => id.replace(/[^A-Za-z0-9_]/g, '_');

/** The subnet's graph as a LayersModel with its sliced weights set; the channel selectors made for it are disposed. */
function buildSubnetModel(tf: typeof tfc, net: Supernet, arch: Arch): tfl.LayersModel {
  const space = net.space;
  const { selOf, all } = channelSelector(tf, arch);
  const g: GraphBuild = { tf, net, arch, selOf, pending: [] };
  try {
    const input = tfl.input({ shape: [arch.resolution, arch.resolution, space.inputShape[2]], name: 'input' });
    let h: SymbolicTensor = input;
    for (const layer of space.resolvedLayers) h = layerOutput(g, layer, h);
    const model = tfl.model({ inputs: input, outputs: h, name: safeName(`${space.name}_subnet`) });
    tf.tidy(() => {
      for (const { layer, weights } of g.pending) layer.setWeights(weights());
    });
    return model;
  } finally {
    for (const s of all()) tf.dispose([s.s, s.sT].filter((t): t is tfc.Tensor2D => t !== undefined));
  }
}

/** The output of one supernet layer, as the subnet runs it, applied to `h` (`h` itself for a skipped op). */
function layerOutput(g: GraphBuild, layer: ResolvedLayer, h: SymbolicTensor): SymbolicTensor {
  const p = g.net.layerParams(layer.id) as LayerParams;
  const inSel = g.selOf(layer.input);
  const name = safeName(layer.id);
  switch (layer.kind) {
    case 'conv':
      return convBn(g, h, p.conv as ConvParams, name, inSel, g.selOf(layer.output), layer.act !== 'none');
    case 'dwconv':
      return convBn(g, h, p.conv as ConvParams, name, inSel, inSel, layer.act !== 'none');
    case 'mbconv':
      return mbconv(g, layer, p, h, inSel, name);
    case 'pool':
      return tfl.layers.globalAveragePooling2d({ name }).apply(h) as SymbolicTensor;
    case 'linear': {
      const fc = p.fc as { w: tfc.Variable; b: tfc.Variable };
      const dense = tfl.layers.dense({ units: layer.output.max, useBias: true, name });
      g.pending.push({ layer: dense, weights: () => [selectRows(g.tf, fc.w as tfc.Tensor2D, inSel), fc.b] });
      return dense.apply(h) as SymbolicTensor;
    }
  }
  return h;
}

/** The chosen op of an inverted-residual layer: expand (if any), depthwise, project, residual add. */
function mbconv(g: GraphBuild, layer: ResolvedLayer, p: LayerParams, h: SymbolicTensor, inSel: ChannelSel, name: string): SymbolicTensor {
  const space = g.net.space;
  const op = space.opOf(layer, g.arch);
  if (op.skip) return h;
  const m = (p.ops as MbOpParams[])[layer.ops.indexOf(op)] as MbOpParams;
  const outSel = g.selOf(layer.output);
  let t = h;
  let hid = inSel;
  if (m.expand) {
    hid = leftmost(op.hiddenMax, makeDivisible(inSel.n * op.expand));
    t = convBn(g, t, m.expand, `${name}_expand`, inSel, hid, true);
  }
  t = convBn(g, t, m.dw as ConvParams, `${name}_dw`, hid, hid, true);
  t = convBn(g, t, m.project as ConvParams, `${name}_project`, hid, outSel, false);
  return layer.residual ? (tfl.layers.add({ name: `${name}_add` }).apply([t, h]) as SymbolicTensor) : t;
}

/** Conv2D (or DepthwiseConv2D), BatchNormalization and, with `act`, ReLU6, with their weights pending. */
function convBn(g: GraphBuild, x: SymbolicTensor, p: ConvParams, name: string, inSel: ChannelSel, outSel: ChannelSel, act: boolean): SymbolicTensor {
  const { tf, net } = g;
  const k = p.kernel;
  const layer: tfl.layers.Layer = p.depthwise
    ? tfl.layers.depthwiseConv2d({ kernelSize: k, strides: p.stride, padding: 'same', depthMultiplier: 1, useBias: false, name })
    : tfl.layers.conv2d({ filters: outSel.n, kernelSize: k, strides: p.stride, padding: 'same', useBias: false, name });
  g.pending.push({
    layer,
    weights: () => {
      const w = net.convWeight(p, inSel, outSel);
      return [w.rank === 2 ? tf.reshape(w, [1, 1, inSel.n, outSel.n]) : w];
    },
  });
  let y = layer.apply(x) as SymbolicTensor;
  const bn = tfl.layers.batchNormalization({ axis: -1, epsilon: net.space.bnEpsilon, name: `${name}_bn` });
  g.pending.push({
    layer: bn,
    weights: () => [p.bn.gamma, p.bn.beta, p.bn.mean, p.bn.variance].map((v) => selectVec(tf, v as tfc.Tensor1D, outSel)),
  });
  y = bn.apply(y) as SymbolicTensor;
  if (act) y = tfl.layers.reLU({ maxValue: 6, name: `${name}_relu6` }).apply(y) as SymbolicTensor;
  return y;
}

/** `model.json` (weights manifest naming `weights.bin`) and the weights as one buffer. */
async function serializeModel(tf: typeof tfc, model: tfl.LayersModel): Promise<{ modelJson: string; weightData: Uint8Array }> {
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
  return { modelJson, weightData };
}

/** `arch.json`: the space, the architecture, its cost, the model's input shape and preprocessing. */
function archJson(space: ResolvedSpace, arch: Arch, cost: Cost): string {
  const r = arch.resolution;
  return JSON.stringify({
    space: space.name,
    arch,
    cost,
    inputShape: [r, r, space.inputShape[2]],
    preprocessing: `resize images bilinearly (align corners) to ${r}x${r}, values in [0, 1]`,
  });
}
