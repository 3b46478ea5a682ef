import type { OpChoice } from '@supernetd/sdk';
import type { BlockDef, LayerDef, SpaceDefinition, WidthDef } from './definition.ts';

/** Knobs every preset accepts through `SpaceSpec.overrides`. */
export interface PresetOptions {
  inputShape: [number, number, number];
  numClasses: number;
  resolutions?: number[];
}

interface Preset {
  description: string;
  defaults: PresetOptions;
  build(o: PresetOptions): SpaceDefinition;
}

const SMALL: PresetOptions = { inputShape: [28, 28, 1], numClasses: 10 };
const IMAGENET: PresetOptions = { inputShape: [224, 224, 3], numClasses: 1000 };

/** Small-image default: three resolutions ending at the image size, 4 apart (20, 24, 28 for 28x28). */
function smallResolutions(o: PresetOptions): number[] {
  const s = o.inputShape[0];
  return o.resolutions ?? [s - 8, s - 4, s].filter((r) => r >= 8);
}

/** PSS-Net's resolution range: make_divisible(U(128, 224), 8, 128), i.e. 128, 136, ..., 224. */
function imagenetResolutions(o: PresetOptions): number[] {
  if (o.resolutions) return o.resolutions;
  const out: number[] = [];
  for (let r = 128; r <= o.inputShape[0]; r += 8) out.push(r);
  return out;
}

/** MobileNetV2 stages: [expand, out, repeats, stride]. */
type Stage = [number, number, number, number];

function mobilenetV2(
  name: string,
  o: PresetOptions,
  stem: { out: number; stride: number },
  stages: Stage[],
  head: number,
  mult: { min: number; max: number },
  resolutions: number[],
): SpaceDefinition {
  const widths: WidthDef[] = [{ id: 'stem', base: stem.out, minMult: mult.min, maxMult: mult.max }];
  const blocks: BlockDef[] = stages.map(([expand, out, repeats, stride], si) => {
    const wid = `s${si + 1}`;
    widths.push({ id: wid, base: out, minMult: mult.min, maxMult: mult.max });
    const layers: LayerDef[] = [];
    if (si === 0) layers.push({ type: 'conv', id: 'stem', out: 'stem', kernel: 3, stride: stem.stride });
    for (let i = 0; i < repeats; i++) {
      layers.push({ type: 'mbconv', id: `${wid}.${i}`, out: wid, expand, kernel: 3, stride: i === 0 ? stride : 1 });
    }
    return { id: wid, layers };
  });
  return {
    name,
    inputShape: o.inputShape,
    numClasses: o.numClasses,
    resolutions,
    widths,
    blocks,
    // PSS-Net does not slice the last 1x1 conv: its width is fixed.
    tail: [
      { type: 'conv', id: 'head', out: head, kernel: 1 },
      { type: 'pool', id: 'pool' },
      { type: 'linear', id: 'classifier' },
    ],
  };
}

/** MobileNetV1: stem conv then depthwise-separable layers [out, stride]; one width per conv output. */
function mobilenetV1(
  name: string,
  o: PresetOptions,
  stem: { out: number; stride: number },
  layers: [number, number][],
  blockEnds: number[],
  mult: { min: number; max: number },
  resolutions: number[],
): SpaceDefinition {
  const widths: WidthDef[] = [{ id: 'w0', base: stem.out, minMult: mult.min, maxMult: mult.max }];
  const all: LayerDef[] = [{ type: 'conv', id: 'stem', out: 'w0', kernel: 3, stride: stem.stride }];
  layers.forEach(([out, stride], i) => {
    const wid = `w${i + 1}`;
    widths.push({ id: wid, base: out, minMult: mult.min, maxMult: mult.max });
    all.push({ type: 'dwconv', id: `l${i + 1}.dw`, kernel: 3, stride });
    all.push({ type: 'conv', id: `l${i + 1}.pw`, out: wid, kernel: 1 });
  });
  // blockEnds: index (into `layers`, 1-based) of the last separable layer of each block.
  const blocks: BlockDef[] = [];
  let start = 0;
  blockEnds.forEach((end, bi) => {
    const upto = 1 + 2 * end; // stem + two convs per separable layer
    blocks.push({ id: `b${bi}`, layers: all.slice(start, upto) });
    start = upto;
  });
  return {
    name,
    inputShape: o.inputShape,
    numClasses: o.numClasses,
    resolutions,
    widths,
    blocks,
    tail: [
      { type: 'pool', id: 'pool' },
      { type: 'linear', id: 'classifier' },
    ],
  };
}

/** DNA's candidate ops, scaled down for small images: MBConv {e6, e3} x {k3, k5}, op 0 the largest expansion. */
export const DNA_SMALL_OPS: OpChoice[] = [
  { name: 'MB6_3', expand: 6, kernel: 3 },
  { name: 'MB6_5', expand: 6, kernel: 5 },
  { name: 'MB3_3', expand: 3, kernel: 3 },
  { name: 'MB3_5', expand: 3, kernel: 5 },
];

/** dna-small blocks [hidden, out, stride, layers]; `out` is the teacher's stage output width. */
const DNA_SMALL_BLOCKS: [number, number, number, number][] = [
  [16, 24, 2, 2],
  [32, 40, 2, 3],
  [48, 80, 2, 3],
  [96, 128, 1, 2],
];

/**
 * DNA student (ops searched) or its teacher (one fixed op per layer, same block boundaries and
 * outputs, so teacher feature i can supervise student block i). The teacher's hidden layers are
 * twice as wide as the student's and use its largest op, so it is larger than any candidate.
 */
function dnaSmall(name: string, o: PresetOptions, ops: OpChoice[] | undefined): SpaceDefinition {
  const blocks: BlockDef[] = DNA_SMALL_BLOCKS.map(([hidden, out, stride, n], bi) => {
    const layers: LayerDef[] = [];
    if (bi === 0) layers.push({ type: 'conv', id: 'stem', out: 16, kernel: 3, stride: 1 });
    for (let i = 0; i < n; i++) {
      const layer: LayerDef = {
        type: 'mbconv',
        id: `b${bi}.${i}`,
        out: i === n - 1 ? out : ops ? hidden : 2 * hidden,
        stride: i === 0 ? stride : 1,
        ...(ops ? { ops } : { expand: 6, kernel: 5 }),
      };
      layers.push(layer);
    }
    return { id: `b${bi}`, layers };
  });
  return {
    name,
    inputShape: o.inputShape,
    numClasses: o.numClasses,
    // Teacher features must have the same spatial size as the student's: one resolution.
    resolutions: o.resolutions ?? [o.inputShape[0]],
    widths: [],
    blocks,
    tail: [
      { type: 'conv', id: 'head', out: 256, kernel: 1 },
      { type: 'pool', id: 'pool' },
      { type: 'linear', id: 'classifier' },
    ],
  };
}

const PRESETS: Record<string, Preset> = {
  'mbv2-small': {
    description: 'MobileNetV2-style inverted residuals for small images; one width per stage output',
    defaults: SMALL,
    build: (o) =>
      mobilenetV2(
        'mbv2-small',
        o,
        { out: 16, stride: 1 },
        [
          [1, 16, 1, 1],
          [6, 24, 2, 2],
          [6, 32, 3, 2],
          [6, 64, 3, 2],
          [6, 96, 2, 1],
        ],
        320,
        { min: 0.25, max: 1 },
        smallResolutions(o),
      ),
  },
  'mbv1-small': {
    description: 'MobileNetV1-style depthwise-separable stack (widths quartered) for small images',
    defaults: SMALL,
    build: (o) =>
      mobilenetV1(
        'mbv1-small',
        o,
        { out: 8, stride: 1 },
        [
          [16, 1],
          [32, 2],
          [32, 1],
          [64, 2],
          [64, 1],
          [128, 2],
          [128, 1],
          [128, 1],
          [128, 1],
          [128, 1],
          [128, 1],
          [256, 2],
          [256, 1],
        ],
        [1, 3, 5, 11, 13],
        { min: 0.25, max: 1 },
        smallResolutions(o),
      ),
  },
  'dna-small': {
    description: 'DNA student: 4 blocks of 2-3 MBConv layers, 4 candidate ops each; outputs match dna-small-teacher',
    defaults: SMALL,
    build: (o) => dnaSmall('dna-small', o, DNA_SMALL_OPS),
  },
  'dna-small-teacher': {
    description: 'Fixed-op (MB6_5) teacher with the block boundaries and outputs of dna-small, hidden layers twice as wide',
    defaults: SMALL,
    build: (o) => dnaSmall('dna-small-teacher', o, undefined),
  },
  mobilenet_v1: {
    description: 'PSS-Net MobileNetV1 space (ImageNet scale): 14 width multipliers in [0.75, 1]',
    defaults: IMAGENET,
    build: (o) =>
      mobilenetV1(
        'mobilenet_v1',
        o,
        { out: 32, stride: 2 },
        [
          [64, 1],
          [128, 2],
          [128, 1],
          [256, 2],
          [256, 1],
          [512, 2],
          [512, 1],
          [512, 1],
          [512, 1],
          [512, 1],
          [512, 1],
          [1024, 2],
          [1024, 1],
        ],
        [1, 3, 5, 11, 13],
        { min: 0.75, max: 1 },
        imagenetResolutions(o),
      ),
  },
  mobilenet_v2: {
    description: 'PSS-Net MobileNetV2 space (ImageNet scale): 8 width multipliers in [0.75, 1], head 1280 fixed',
    defaults: IMAGENET,
    build: (o) =>
      mobilenetV2(
        'mobilenet_v2',
        o,
        { out: 32, stride: 2 },
        [
          [1, 16, 1, 1],
          [6, 24, 2, 2],
          [6, 32, 3, 2],
          [6, 64, 4, 2],
          [6, 96, 3, 1],
          [6, 160, 3, 2],
          [6, 320, 1, 1],
        ],
        1280,
        { min: 0.75, max: 1 },
        imagenetResolutions(o),
      ),
  },
};

/** Preset names and one-line descriptions. */
export function listPresets(): { name: string; description: string }[] {
  return Object.entries(PRESETS).map(([name, p]) => ({ name, description: p.description }));
}

/** The preset's definition with `options` applied, or undefined for an unknown name. */
export function presetDefinition(name: string, options: Partial<PresetOptions>): SpaceDefinition | undefined {
  const p = Object.hasOwn(PRESETS, name) ? PRESETS[name] : undefined;
  if (!p) return undefined;
  const o: PresetOptions = { ...p.defaults };
  if (options.inputShape) o.inputShape = options.inputShape;
  if (options.numClasses !== undefined) o.numClasses = options.numClasses;
  if (options.resolutions) o.resolutions = options.resolutions;
  return p.build(o);
}
