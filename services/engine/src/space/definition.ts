import type { OpChoice } from '@supernetd/sdk';

/**
 * The declarative JSON form of a search space. Presets are written in it, and a client may send
 * one whole (preset `custom`, `overrides.definition`). `resolveSpace` validates it.
 */
export interface SpaceDefinition {
  name: string;
  /** Dataset image shape [height, width, channels]. */
  inputShape: [number, number, number];
  numClasses: number;
  /** Allowed input resolutions (the image is resized bilinearly to the arch's one inside forward). */
  resolutions: number[];
  /** Searchable widths; layers name them in `out`. */
  widths: WidthDef[];
  /** Distillation units (DNA), in network order; the first holds the stem. */
  blocks: BlockDef[];
  /** Layers after the last block: optional head convs, then one global pool and one classifier. */
  tail: LayerDef[];
  /** Batch-norm epsilon (default 1e-5). */
  bnEpsilon?: number;
}

/**
 * A width choice. Its candidates are every distinct `makeDivisible(base * m, divisor)` for m in
 * [minMult, maxMult] (defaults 0.25, 1, 8), or the explicit `candidates` list.
 */
export interface WidthDef {
  id: string;
  base: number;
  minMult?: number;
  maxMult?: number;
  divisor?: number;
  candidates?: number[];
}

/** A layer's output width: a width-choice id (elastic) or a fixed channel count. */
export type WidthRef = string | number;

export type Activation = 'relu6' | 'relu' | 'none';

export interface ConvDef {
  type: 'conv';
  id: string;
  out: WidthRef;
  kernel: number;
  stride?: number;
  act?: Activation;
}

/** Depthwise conv: its width follows its input's. */
export interface DwConvDef {
  type: 'dwconv';
  id: string;
  kernel: number;
  stride?: number;
  act?: Activation;
}

/**
 * Inverted residual (expand 1x1, depthwise kxk, project 1x1). Either one op (`expand`, `kernel`) or
 * candidate `ops` with independent weights (DNA). `residual` 'auto' (default) adds the input when
 * stride is 1 and input and output follow the same width (choice or fixed count).
 */
export interface MbconvDef {
  type: 'mbconv';
  id: string;
  out: WidthRef;
  stride?: number;
  expand?: number;
  kernel?: number;
  ops?: OpChoice[];
  residual?: boolean | 'auto';
}

export interface PoolDef {
  type: 'pool';
  id: string;
}

/** Fully connected classifier; `out` defaults to numClasses. */
export interface LinearDef {
  type: 'linear';
  id: string;
  out?: number;
}

export type LayerDef = ConvDef | DwConvDef | MbconvDef | PoolDef | LinearDef;

export interface BlockDef {
  id: string;
  layers: LayerDef[];
}
