import type { Arch, Cost } from './arch.ts';

/**
 * A search space as an experiment names it: a preset (`mbv2-small`, `custom`, ...) plus JSON
 * overrides (the proto SearchSpace). The engine resolves it; this is its one declaration.
 */
export interface SpaceSpec {
  preset: string;
  overrides?: Record<string, unknown>;
}

/** A candidate operation of an op-choice layer (DNA): an MBConv with this kernel and expansion, or skip. */
export interface OpChoice {
  name: string;
  kernel: number;
  expand: number;
  /** Identity; only allowed where input and output shapes match. */
  skip?: boolean;
}

/**
 * A searchable width: every layer whose output width follows this choice gets the same channel set.
 * Leftmost widths are `makeDivisible(base * m, divisor)` for m in [minMult, maxMult].
 */
export interface WidthChoice {
  id: string;
  /** Channels in the supernet (the largest width). */
  max: number;
  base: number;
  minMult: number;
  maxMult: number;
  divisor: number;
  /** Every reachable width, ascending; candidates[0] is the min net's, the last is `max`. */
  candidates: number[];
  /** Ids of the layers whose output width this choice sets. */
  layerIds: string[];
}

/** One layer of the supernet as the strategies see it. */
export interface LayerInfo {
  id: string;
  kind: 'conv' | 'dwconv' | 'mbconv' | 'linear' | 'pool';
  /** Block (distillation unit) this layer belongs to. */
  block: string;
  /** Width choice that sets this layer's output channels; absent = fixed width. */
  widthChoice?: string;
  /** Candidate operations (op-choice layers only). */
  ops?: OpChoice[];
  kernel: number;
  stride: number;
}

/** A block: a range of layers whose output is matched to a teacher feature map (DNA). */
export interface BlockInfo {
  id: string;
  index: number;
  layerIds: string[];
  /** Output channels and spatial size of the block at max width and the dataset's resolution. */
  outChannels: number;
  outSize: number;
}

/**
 * The read-only view of a search space that strategies use. Everything here is plain JavaScript:
 * it works without TensorFlow.js, so a strategy can sample on the RPC thread.
 */
export interface SearchSpaceView {
  readonly name: string;
  /** Dataset image shape [height, width, channels]. */
  readonly inputShape: readonly [number, number, number];
  readonly numClasses: number;
  /** Allowed resolutions, ascending. */
  readonly resolutions: readonly number[];
  readonly widthChoices: readonly WidthChoice[];
  readonly layers: readonly LayerInfo[];
  readonly blocks: readonly BlockInfo[];
  /** Ids of layers with op choices, in network order. */
  readonly opLayerIds: readonly string[];
  /**
   * The JSON space definition this view was resolved from (the engine's SpaceDefinition: name,
   * inputShape, numClasses, resolutions, widths, blocks, tail); lets a strategy build a related
   * network (DNA derives its default teacher from it). Absent in views that have none.
   */
  readonly definition?: object;
  /** Largest subnet: every width at max, largest resolution, op 0. */
  maxArch(): Arch;
  /** Smallest subnet: every width at candidates[0], smallest resolution, op 0. */
  minArch(): Arch;
  /** Throws InvalidArgumentError naming the offending choice when `arch` is not a subnet of this space. */
  validateArch(arch: Arch): void;
  /** Analytic FLOPs (MACs) and params, and table latency, of the whole subnet. */
  cost(arch: Arch): Cost;
  /** The same cost split per layer id (stem, each conv/mbconv, head, classifier). */
  layerCosts(arch: Arch): Record<string, Cost>;
}
