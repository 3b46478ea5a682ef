import { InvalidArgumentError, ResourceExhaustedError } from '@supernetd/sdk';
import { layerCost } from './resolved-space.ts';
import type { LayerShape, ResolvedSpace } from './resolved-space.ts';

/**
 * Configurable bounds on what one experiment's supernet may cost, checked against an estimate
 * before a worker allocates anything (`checkSpaceLimits`). The server takes them from its
 * configuration (docs/configuration.md).
 */
export interface SpaceLimits {
  /** Largest image side (inputShape) and resolution. */
  maxResolution: number;
  /** Largest channel count of any layer (width candidates, fixed outs, MBConv hidden, numClasses). */
  maxChannels: number;
  /** Largest supernet parameter count (every candidate op's weights). */
  maxParams: number;
  /** Largest multiply-accumulates of one image through the largest subnet. */
  maxFlops: number;
  /** Largest estimated memory of one training step (weights, gradients, optimizer slots, activations). */
  maxTrainingMemoryBytes: number;
}

export const DEFAULT_SPACE_LIMITS: Readonly<SpaceLimits> = Object.freeze({
  maxResolution: 1024,
  maxChannels: 32_768,
  maxParams: 100_000_000,
  maxFlops: 20_000_000_000,
  maxTrainingMemoryBytes: 8 * 1024 ** 3,
});

/** Estimated size of a space's supernet and of one training step at `batchSize`. */
export interface SpaceFootprint {
  params: number;
  flops: number;
  /** Widest channel count of any layer at the supernet's widths. */
  maxChannels: number;
  /** float32 activations of one image at the largest subnet (outputs of every op, summed). */
  activationsPerImage: number;
  trainingMemoryBytes: number;
}

/**
 * The footprint of the supernet (largest widths, largest resolution, every candidate op's weights).
 * Training memory counts weights, gradients and two optimizer slots (4 floats per parameter), the
 * input batch, and the activations kept for the backward pass plus their gradients (x3). Pure
 * arithmetic over the resolved layers: nothing is allocated.
 */
export function spaceFootprint(space: ResolvedSpace, batchSize: number): SpaceFootprint {
  const arch = space.maxArch();
  const shapes = space.layerShapes(arch);
  let params = 0;
  let flops = 0;
  let activations = arch.resolution * arch.resolution * space.inputShape[2];
  let maxChannels = Math.max(space.inputShape[2], space.numClasses);
  for (const s of shapes) {
    const ops = s.layer.kind === 'mbconv' ? s.layer.ops : [undefined];
    let opFlops = 0;
    let opActs = 0;
    for (const op of ops) {
      const hidden = op === undefined || op.skip ? 0 : op.hiddenMax;
      const kernel = op ? op.kernel : s.kernel;
      const shape: LayerShape = { ...s, op, hidden, kernel };
      const c = layerCost(shape);
      params += c.params;
      opFlops = Math.max(opFlops, c.flops);
      const out = s.outSize * s.outSize;
      const acts = s.layer.kind === 'mbconv' ? (hidden > 0 ? s.inSize * s.inSize * hidden + 2 * out * hidden : 0) + out * s.cout : out * s.cout;
      opActs = Math.max(opActs, acts);
      maxChannels = Math.max(maxChannels, s.cin, s.cout, hidden);
    }
    flops += opFlops;
    activations += opActs;
  }
  const input = space.inputShape[0] * space.inputShape[1] * space.inputShape[2];
  const trainingMemoryBytes = 4 * (4 * params + batchSize * (input + 3 * activations));
  return { params, flops, maxChannels, activationsPerImage: activations, trainingMemoryBytes };
}

const fmt = (n: number) => (Number.isFinite(n) ? (n >= 1e6 ? n.toExponential(2) : String(n)) : String(n));

/**
 * Throws when `space` trained at `batchSize` exceeds `limits`: InvalidArgumentError
 * (INVALID_SEARCH_SPACE) for a resolution or channel count over the limit, ResourceExhaustedError
 * (LIMIT_EXCEEDED) for an estimate over maxParams, maxFlops or maxTrainingMemoryBytes. Each message
 * names the limit and its value.
 */
export function checkSpaceLimits(space: ResolvedSpace, limits: SpaceLimits, batchSize: number): SpaceFootprint {
  const side = Math.max(space.inputShape[0], ...space.resolutions);
  if (!(side <= limits.maxResolution)) {
    throw new InvalidArgumentError(
      `search space '${space.name}': image side or resolution ${side} exceeds the limit maxSpaceResolution (${limits.maxResolution})`,
      'INVALID_SEARCH_SPACE',
    );
  }
  const f = spaceFootprint(space, batchSize);
  if (!(f.maxChannels <= limits.maxChannels)) {
    throw new InvalidArgumentError(
      `search space '${space.name}': a layer with ${fmt(f.maxChannels)} channels exceeds the limit maxSpaceChannels (${limits.maxChannels})`,
      'INVALID_SEARCH_SPACE',
    );
  }
  const over = (what: string, value: number, name: string, limit: number): never => {
    throw new ResourceExhaustedError('LIMIT_EXCEEDED', `search space '${space.name}': ${what} (estimated ${fmt(value)}) exceeds the limit ${name} (${limit})`);
  };
  if (!(f.params <= limits.maxParams)) over('the supernet parameter count', f.params, 'maxSpaceParams', limits.maxParams);
  if (!(f.flops <= limits.maxFlops)) over('the largest subnet\'s multiply-accumulates per image', f.flops, 'maxSpaceFlops', limits.maxFlops);
  if (!(f.trainingMemoryBytes <= limits.maxTrainingMemoryBytes)) {
    over(`the memory of a training step at batch size ${batchSize}, in bytes,`, f.trainingMemoryBytes, 'maxTrainingMemoryBytes', limits.maxTrainingMemoryBytes);
  }
  return f;
}

/** How many images of an inline batch fit a memory budget in one step of the engine. */
export interface InlineBatchLimits {
  /** Most images of one training step (input plus 3x the activations kept for the backward pass). */
  trainImages: number;
  /** Most images of one evaluation forward pass (input plus every activation, held until the pass ends). */
  evalImages: number;
}

/**
 * The inline batch sizes whose estimated engine memory (float32 activations of the largest subnet,
 * per image, as in `spaceFootprint`) fits `maxBytes`; at least 1 each, so a single image always runs
 * (the space's own limits bound what one image takes).
 */
export function inlineBatchLimits(space: ResolvedSpace, maxBytes: number): InlineBatchLimits {
  const f = spaceFootprint(space, 1);
  const input = space.inputShape[0] * space.inputShape[1] * space.inputShape[2];
  const train = 4 * (input + 3 * f.activationsPerImage);
  const evaluate = 4 * (input + f.activationsPerImage);
  return { trainImages: Math.max(1, Math.floor(maxBytes / train)), evalImages: Math.max(1, Math.floor(maxBytes / evaluate)) };
}
