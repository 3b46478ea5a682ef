import { InvalidArgumentError, makeDivisible } from '@supernetd/sdk';
import type { Arch, BlockInfo, Cost, LayerInfo, OpChoice, SearchSpaceView, WidthChoice } from '@supernetd/sdk';
import type { Activation, BlockDef, LayerDef, MbconvDef, SpaceDefinition, WidthDef } from './definition.ts';

/** A layer's output width after resolution: elastic (`choice`) or fixed; `max` is the supernet's. */
export interface WidthSlot {
  choice?: string;
  max: number;
}

/** One candidate op of an MBConv layer, with its supernet hidden width. */
export interface ResolvedOp extends OpChoice {
  skip: boolean;
  /** Hidden channels at max input width (equals the input width when expand is 1). */
  hiddenMax: number;
}

/** A validated layer with its input and output widths resolved. */
export interface ResolvedLayer {
  id: string;
  kind: LayerInfo['kind'];
  block: string;
  /** Index into `blocks`; -1 for tail layers (head, pool, classifier). */
  blockIndex: number;
  kernel: number;
  stride: number;
  act: Activation;
  input: WidthSlot;
  output: WidthSlot;
  /** MBConv candidate ops (one when the layer has no op choice); empty for other kinds. */
  ops: ResolvedOp[];
  /** Whether an op-choice layer (listed in opLayerIds). */
  hasOpChoice: boolean;
  residual: boolean;
}

/** Milliseconds per layer keyed by `latencyKey`; measured on a host, summed into `cost().latency`. */
export type LatencyTable = Record<string, number>;

/** Block-index value of the layers after the last block. */
export const TAIL_BLOCK = 'tail';

function fail(space: string, where: string, message: string): never {
  throw new InvalidArgumentError(`search space '${space}': ${where}: ${message}`, 'INVALID_SEARCH_SPACE');
}

const isPosInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v > 0;

/**
 * Structural bounds every space is held to before anything is computed from it, whatever the
 * server's configured limits (those are checked against a cost estimate in `space-limits.ts`). They
 * keep resolution itself bounded: no loop over an absurd multiplier range, no array of an absurd
 * length. Exceeding one is InvalidArgumentError(INVALID_SEARCH_SPACE) naming the bound.
 */
export const SPACE_HARD_LIMITS = Object.freeze({
  /** Image side (inputShape height/width) and resolution. */
  maxSide: 16_384,
  /** Any channel count: inputShape channels, width candidates, fixed outs, numClasses. */
  maxChannels: 1 << 20,
  /** Distinct resolutions. */
  maxResolutions: 256,
  /** Candidates of one width choice. */
  maxWidthCandidates: 4096,
  /** Width multiplier span: (maxMult - minMult) * 1000 candidate multipliers are tried. */
  maxMultSpan: 1000,
  /** MBConv expansion ratio. */
  maxExpand: 64,
  /** Layers in blocks and tail together. */
  maxLayers: 4096,
});

const within = (v: number, max: number) => v <= max;

/** Output spatial size of a 'same'-padded conv: floor((in + 2p - k) / s) + 1 with p = floor(k/2). */
export function convOutSize(inSize: number, kernel: number, stride: number): number {
  const p = Math.floor(kernel / 2);
  return Math.floor((inSize + 2 * p - kernel) / stride) + 1;
}

function widthCandidates(w: WidthDef): number[] {
  if (w.candidates) return [...w.candidates];
  const d = w.divisor ?? 8;
  const lo = Math.round((w.minMult ?? 0.25) * 1000);
  const hi = Math.round((w.maxMult ?? 1) * 1000);
  const set = new Set<number>();
  for (let m = lo; m <= hi; m++) set.add(makeDivisible((w.base * m) / 1000, d));
  return [...set].sort((a, b) => a - b);
}

/** Reports a problem at `where` in the definition being resolved; never returns. */
type Fail = (where: string, message: string) => never;

/** The space's name in error messages: its own, or 'custom'. */
function spaceName(def: SpaceDefinition): string {
  return typeof def?.name === 'string' && def.name !== '' ? def.name : 'custom';
}

function checkInputShape(shape: SpaceDefinition['inputShape'], bad: Fail): [number, number, number] {
  if (!Array.isArray(shape) || shape.length !== 3 || !shape.every(isPosInt)) {
    bad('inputShape', 'must be [height, width, channels] of positive integers');
  }
  if (shape[0] !== shape[1]) bad('inputShape', `images must be square, got ${shape[0]}x${shape[1]}`);
  const H = SPACE_HARD_LIMITS;
  if (!within(shape[0], H.maxSide)) bad('inputShape', `side ${shape[0]} exceeds the limit of ${H.maxSide}`);
  if (!within(shape[2], H.maxChannels)) bad('inputShape', `${shape[2]} channels exceed the limit of ${H.maxChannels}`);
  return [shape[0], shape[1], shape[2]];
}

function checkNumClasses(numClasses: number, bad: Fail): void {
  if (!isPosInt(numClasses) || numClasses < 2) bad('numClasses', 'must be an integer >= 2');
  const max = SPACE_HARD_LIMITS.maxChannels;
  if (!within(numClasses, max)) bad('numClasses', `${numClasses} exceeds the limit of ${max}`);
}

/** The distinct resolutions, ascending. */
function checkResolutions(resolutions: number[], bad: Fail): number[] {
  if (!Array.isArray(resolutions) || resolutions.length === 0 || !resolutions.every(isPosInt)) {
    bad('resolutions', 'must be a non-empty list of positive integers');
  }
  const H = SPACE_HARD_LIMITS;
  if (resolutions.length > H.maxResolutions) bad('resolutions', `${resolutions.length} entries exceed the limit of ${H.maxResolutions}`);
  for (const r of resolutions) if (!within(r, H.maxSide)) bad('resolutions', `${r} exceeds the limit of ${H.maxSide}`);
  return [...new Set(resolutions)].sort((a, b) => a - b);
}

/** The epsilon, 1e-5 when not given. */
function checkBnEpsilon(value: number | undefined, bad: Fail): number {
  const bnEpsilon = value ?? 1e-5;
  if (!(typeof bnEpsilon === 'number' && bnEpsilon > 0)) bad('bnEpsilon', 'must be a positive number');
  return bnEpsilon;
}

/** Every width choice by id, in definition order, with no layer ids yet. */
function resolveWidths(widths: WidthDef[], bad: Fail): Map<string, WidthChoice> {
  if (!Array.isArray(widths)) bad('widths', 'must be a list');
  const widthById = new Map<string, WidthChoice>();
  for (const [i, w] of widths.entries()) {
    const where = `widths[${i}]${typeof w?.id === 'string' ? ` '${w.id}'` : ''}`;
    if (typeof w?.id !== 'string' || w.id === '') bad(where, 'id must be a non-empty string');
    if (widthById.has(w.id)) bad(where, 'duplicate width id');
    widthById.set(w.id, resolveWidth(w, where, bad));
  }
  return widthById;
}

function resolveWidth(w: WidthDef, where: string, bad: Fail): WidthChoice {
  if (!isPosInt(w.base)) bad(where, 'base must be a positive integer');
  const minMult = w.minMult ?? 0.25;
  const maxMult = w.maxMult ?? 1;
  if (!(typeof minMult === 'number' && typeof maxMult === 'number' && minMult > 0 && minMult <= maxMult && Number.isFinite(maxMult))) {
    bad(where, 'needs 0 < minMult <= maxMult');
  }
  const divisor = w.divisor ?? 8;
  if (!isPosInt(divisor)) bad(where, 'divisor must be a positive integer');
  const H = SPACE_HARD_LIMITS;
  if (!within(divisor, H.maxChannels)) bad(where, `divisor ${divisor} exceeds the limit of ${H.maxChannels}`);
  if (w.candidates !== undefined) checkWidthCandidates(w.candidates, where, bad);
  else checkWidthMultipliers(w.base, minMult, maxMult, where, bad);
  const candidates = widthCandidates(w);
  return {
    id: w.id,
    max: candidates[candidates.length - 1] as number,
    base: w.base,
    minMult,
    maxMult,
    divisor,
    candidates,
    layerIds: [],
  };
}

function checkWidthCandidates(candidates: number[], where: string, bad: Fail): void {
  if (!Array.isArray(candidates) || candidates.length === 0 || !candidates.every(isPosInt)) {
    bad(where, 'candidates must be a non-empty list of positive integers');
  }
  const H = SPACE_HARD_LIMITS;
  if (candidates.length > H.maxWidthCandidates) bad(where, `${candidates.length} candidates exceed the limit of ${H.maxWidthCandidates}`);
  const top = candidates[candidates.length - 1] as number;
  if (!within(top, H.maxChannels)) bad(where, `candidate ${top} exceeds the limit of ${H.maxChannels} channels`);
  if (candidates.some((c, j) => j > 0 && c <= (candidates[j - 1] ?? 0))) {
    bad(where, 'candidates must be strictly ascending');
  }
}

/** Bounds the multiplier range a width without explicit candidates is enumerated over. */
function checkWidthMultipliers(base: number, minMult: number, maxMult: number, where: string, bad: Fail): void {
  const H = SPACE_HARD_LIMITS;
  if (!within(base, H.maxChannels)) bad(where, `base ${base} exceeds the limit of ${H.maxChannels} channels`);
  if (!within(maxMult - minMult, H.maxMultSpan)) bad(where, `maxMult - minMult = ${maxMult - minMult} exceeds the limit of ${H.maxMultSpan}`);
  if (!within(base * maxMult, H.maxChannels)) {
    bad(where, `base * maxMult = ${base * maxMult} exceeds the limit of ${H.maxChannels} channels`);
  }
}

/** What resolving one layer reads besides the layer itself. */
interface LayerContext {
  widthById: ReadonlyMap<string, WidthChoice>;
  numClasses: number;
  /** Layer ids seen so far; each resolved layer adds its own. */
  seenLayers: Set<string>;
  bad: Fail;
}

/**
 * The blocks' layers then the tail's, in network order, each with its input width (the previous
 * layer's output; the image channels for the first). Checks ids, kinds and where each kind may be.
 */
function resolveLayers(def: SpaceDefinition, widthById: ReadonlyMap<string, WidthChoice>, inputChannels: number, bad: Fail): ResolvedLayer[] {
  if (!Array.isArray(def.blocks) || def.blocks.length === 0) bad('blocks', 'must be a non-empty list');
  if (!Array.isArray(def.tail)) bad('tail', 'must be a list');
  const layerCount = def.blocks.reduce((n, b) => n + (Array.isArray(b?.layers) ? b.layers.length : 0), def.tail.length);
  const maxLayers = SPACE_HARD_LIMITS.maxLayers;
  if (layerCount > maxLayers) bad('blocks', `${layerCount} layers exceed the limit of ${maxLayers}`);
  const ctx: LayerContext = { widthById, numClasses: def.numClasses, seenLayers: new Set(), bad };
  const seenBlocks = new Set<string>();
  const resolved: ResolvedLayer[] = [];
  let current: WidthSlot = { max: inputChannels };
  const add = (l: LayerDef, block: string, blockIndex: number, inTail: boolean) => {
    const layer = resolveLayer(l, block, blockIndex, inTail, current, ctx);
    resolved.push(layer);
    current = layer.output;
  };
  def.blocks.forEach((b, bi) => {
    checkBlock(b, bi, seenBlocks, bad);
    for (const l of b.layers) add(l, b.id, bi, false);
  });
  for (const l of def.tail) add(l, TAIL_BLOCK, -1, true);
  return resolved;
}

function checkBlock(b: BlockDef, index: number, seenBlocks: Set<string>, bad: Fail): void {
  if (typeof b?.id !== 'string' || b.id === '') bad(`blocks[${index}]`, 'id must be a non-empty string');
  if (b.id === TAIL_BLOCK || seenBlocks.has(b.id)) bad(`block '${b.id}'`, 'duplicate or reserved block id');
  seenBlocks.add(b.id);
  if (!Array.isArray(b.layers) || b.layers.length === 0) bad(`block '${b.id}'`, 'layers must be a non-empty list');
}

/** One layer fed by `input`; its output is the next layer's input. */
function resolveLayer(l: LayerDef, block: string, blockIndex: number, inTail: boolean, input: WidthSlot, ctx: LayerContext): ResolvedLayer {
  const { bad } = ctx;
  const where = `layer '${typeof l?.id === 'string' ? l.id : '?'}'`;
  if (l === null || typeof l !== 'object') bad(`block '${block}'`, 'layers must be objects');
  if (typeof l.id !== 'string' || l.id === '') bad(`block '${block}'`, 'every layer needs a non-empty string id');
  if (ctx.seenLayers.has(l.id)) bad(where, 'duplicate layer id');
  ctx.seenLayers.add(l.id);
  const base = { id: l.id, block, blockIndex, input, ops: [] as ResolvedOp[], hasOpChoice: false, residual: false };
  switch (l.type) {
    case 'conv': {
      const output = widthSlot(where, l.out, ctx.widthById, bad);
      return {
        ...base,
        kind: 'conv',
        kernel: kernelOf(where, l.kernel, bad),
        stride: strideOf(where, l.stride, bad),
        act: actOf(where, l.act, bad),
        output,
      };
    }
    case 'dwconv':
      return {
        ...base,
        kind: 'dwconv',
        kernel: kernelOf(where, l.kernel, bad),
        stride: strideOf(where, l.stride, bad),
        act: actOf(where, l.act, bad),
        output: input,
      };
    case 'mbconv':
      return resolveMbconv(l, where, base, ctx);
    case 'pool':
      if (!inTail) bad(where, 'pool belongs in the tail');
      return { ...base, kind: 'pool', kernel: 1, stride: 1, act: 'none', output: input };
    case 'linear': {
      if (!inTail) bad(where, 'linear belongs in the tail');
      const out = l.out ?? ctx.numClasses;
      if (out !== ctx.numClasses) bad(where, `classifier out must equal numClasses (${ctx.numClasses})`);
      return { ...base, kind: 'linear', kernel: 1, stride: 1, act: 'none', output: { max: out } };
    }
    default:
      return bad(where, `unknown type '${String((l as { type?: unknown }).type)}'`);
  }
}

/** The fields every resolved layer starts from, before its kind's. */
type LayerBase = Pick<ResolvedLayer, 'id' | 'block' | 'blockIndex' | 'input' | 'ops' | 'hasOpChoice' | 'residual'>;

function resolveMbconv(l: MbconvDef, where: string, base: LayerBase, ctx: LayerContext): ResolvedLayer {
  const { bad } = ctx;
  const output = widthSlot(where, l.out, ctx.widthById, bad);
  const stride = strideOf(where, l.stride, bad);
  const shapesMatch = stride === 1 && sameSlot(base.input, output);
  const ops = resolveOps(mbconvOps(l, where, bad), where, base.input, shapesMatch, bad);
  const residual = mbconvResidual(l.residual, where, shapesMatch, bad);
  return {
    ...base,
    kind: 'mbconv',
    kernel: Math.max(...ops.map((o) => o.kernel)),
    stride,
    act: 'relu6',
    output,
    ops,
    hasOpChoice: l.ops !== undefined,
    residual,
  };
}

/** The layer's candidate ops, or its one op from `expand`/`kernel` (defaults 6 and 3). */
function mbconvOps(l: MbconvDef, where: string, bad: Fail): OpChoice[] {
  if (l.ops === undefined) return [{ name: 'op', expand: l.expand ?? 6, kernel: l.kernel ?? 3 }];
  if (!Array.isArray(l.ops) || l.ops.length === 0) bad(where, 'ops must be a non-empty list');
  if (l.expand !== undefined || l.kernel !== undefined) bad(where, 'give either ops or expand/kernel, not both');
  return l.ops;
}

/** Checks each op and sizes its hidden width at the input's max; a skip op needs `shapesMatch`. */
function resolveOps(ops: OpChoice[], where: string, input: WidthSlot, shapesMatch: boolean, bad: Fail): ResolvedOp[] {
  const names = new Set<string>();
  return ops.map((op, j): ResolvedOp => {
    const ow = `${where} ops[${j}]`;
    if (typeof op?.name !== 'string' || op.name === '') bad(ow, 'name must be a non-empty string');
    if (names.has(op.name)) bad(ow, `duplicate op name '${op.name}'`);
    names.add(op.name);
    if (op.skip) {
      if (!shapesMatch) bad(ow, 'skip op needs stride 1 and the same width as the input');
      return { name: op.name, kernel: 1, expand: 1, skip: true, hiddenMax: 0 };
    }
    if (!(typeof op.expand === 'number' && op.expand >= 1)) bad(ow, 'expand must be a number >= 1');
    const maxExpand = SPACE_HARD_LIMITS.maxExpand;
    if (!within(op.expand, maxExpand)) bad(ow, `expand ${op.expand} exceeds the limit of ${maxExpand}`);
    const kernel = kernelOf(ow, op.kernel, bad);
    const hiddenMax = op.expand === 1 ? input.max : makeDivisible(input.max * op.expand);
    return { name: op.name, kernel, expand: op.expand, skip: false, hiddenMax };
  });
}

/** Whether the layer adds its input: as given, or with 'auto' (the default) when shapes match. */
function mbconvResidual(value: MbconvDef['residual'], where: string, shapesMatch: boolean, bad: Fail): boolean {
  const res = value ?? 'auto';
  if (res !== 'auto' && typeof res !== 'boolean') bad(where, 'residual must be true, false or "auto"');
  if (res === true && !shapesMatch) {
    bad(where, 'residual add needs stride 1 and output following the same width choice as the input');
  }
  return res === 'auto' ? shapesMatch : res;
}

/** A layer's `out`: a width id (elastic) or a fixed channel count. */
function widthSlot(where: string, ref: unknown, widthById: ReadonlyMap<string, WidthChoice>, bad: Fail): WidthSlot {
  if (typeof ref === 'string') {
    const w = widthById.get(ref);
    if (!w) return bad(where, `out refers to unknown width '${ref}'`);
    return { choice: ref, max: w.max };
  }
  if (isPosInt(ref)) {
    const max = SPACE_HARD_LIMITS.maxChannels;
    if (!within(ref, max)) bad(where, `out ${ref} exceeds the limit of ${max} channels`);
    return { max: ref };
  }
  return bad(where, 'out must be a width id or a positive integer');
}

/** Whether two slots always have the same active width: the same choice, or the same fixed count. */
const sameSlot = (a: WidthSlot, b: WidthSlot) =>
  a.choice !== undefined || b.choice !== undefined ? a.choice === b.choice : a.max === b.max;

function kernelOf(where: string, k: unknown, bad: Fail): number {
  if (!isPosInt(k) || k % 2 === 0) bad(where, `kernel must be an odd positive integer, got ${String(k)}`);
  return k as number;
}

function strideOf(where: string, s: unknown, bad: Fail): number {
  const v = s ?? 1;
  if (v !== 1 && v !== 2) bad(where, `stride must be 1 or 2, got ${String(s)}`);
  return v as number;
}

function actOf(where: string, a: unknown, bad: Fail): Activation {
  const v = a ?? 'relu6';
  if (v !== 'relu6' && v !== 'relu' && v !== 'none') bad(where, `act must be relu6, relu or none, got ${String(a)}`);
  return v as Activation;
}

/** The tail ends with the network's one pool and one linear classifier. */
function checkTail(resolved: readonly ResolvedLayer[], bad: Fail): void {
  const n = resolved.length;
  if (n < 2 || resolved[n - 2]?.kind !== 'pool' || resolved[n - 1]?.kind !== 'linear') {
    bad('tail', 'must end with one pool layer followed by one linear classifier');
  }
  if (resolved.filter((l) => l.kind === 'pool' || l.kind === 'linear').length !== 2) {
    bad('tail', 'only one pool and one linear layer are allowed');
  }
}

/** Fills each width choice's `layerIds` with the layers whose output follows it; each needs one. */
function linkWidthsToLayers(resolved: readonly ResolvedLayer[], widthById: ReadonlyMap<string, WidthChoice>, bad: Fail): void {
  for (const l of resolved) {
    if (l.kind !== 'pool' && l.kind !== 'linear' && l.output.choice) widthById.get(l.output.choice)?.layerIds.push(l.id);
  }
  for (const w of widthById.values()) {
    if (w.layerIds.length === 0) bad(`width '${w.id}'`, 'is not used by any layer');
  }
}

/** The strategies' view of a resolved layer. */
function layerInfo(l: ResolvedLayer): LayerInfo {
  const info: LayerInfo = { id: l.id, kind: l.kind, block: l.block, kernel: l.kernel, stride: l.stride };
  if (l.output.choice && l.kind !== 'pool') info.widthChoice = l.output.choice;
  if (l.hasOpChoice) info.ops = l.ops.map(({ name: opName, kernel, expand, skip }) => (skip ? { name: opName, kernel, expand, skip } : { name: opName, kernel, expand }));
  return info;
}

/** Each block's layers and output shape at max width and the largest resolution. */
function blockInfos(blocks: readonly BlockDef[], resolved: readonly ResolvedLayer[], maxResolution: number): BlockInfo[] {
  let size = maxResolution;
  const out: BlockInfo[] = [];
  blocks.forEach((b, bi) => {
    const ls = resolved.filter((l) => l.blockIndex === bi);
    for (const l of ls) size = convOutSize(size, l.kind === 'mbconv' ? 1 : l.kernel, l.stride);
    out.push({ id: b.id, index: bi, layerIds: ls.map((l) => l.id), outChannels: (ls[ls.length - 1] as ResolvedLayer).output.max, outSize: size });
  });
  return out;
}

/**
 * A validated search space: the strategies' read-only view plus the resolved layers the supernet
 * is built from. Construct with `resolveSpace`; throws InvalidArgumentError(INVALID_SEARCH_SPACE).
 */
export class ResolvedSpace implements SearchSpaceView {
  readonly name: string;
  readonly inputShape: readonly [number, number, number];
  readonly numClasses: number;
  readonly resolutions: readonly number[];
  readonly widthChoices: readonly WidthChoice[];
  readonly layers: readonly LayerInfo[];
  readonly blocks: readonly BlockInfo[];
  readonly opLayerIds: readonly string[];
  readonly resolvedLayers: readonly ResolvedLayer[];
  readonly bnEpsilon: number;
  /** The definition it was resolved from (JSON), for checkpoints and export metadata. */
  readonly definition: SpaceDefinition;
  private readonly widthById: Map<string, WidthChoice>;
  private latencyTable: LatencyTable | undefined;
  /** Whether a layer id is an array index (which orders first in a record); set on first `cost`. */
  private indexLikeLayerIds: boolean | undefined;
  /** The width lookups of `cost`, made on first use. */
  private costPlan: CostPlan | undefined;

  constructor(def: SpaceDefinition, latencyTable?: LatencyTable) {
    const name = spaceName(def);
    const bad: Fail = (where, msg) => fail(name, where, msg);
    if (def === null || typeof def !== 'object') bad('definition', 'must be an object');
    const inputShape = checkInputShape(def.inputShape, bad);
    checkNumClasses(def.numClasses, bad);
    const resolutions = checkResolutions(def.resolutions, bad);
    const bnEpsilon = checkBnEpsilon(def.bnEpsilon, bad);
    const widthById = resolveWidths(def.widths, bad);
    const resolved = resolveLayers(def, widthById, inputShape[2], bad);
    checkTail(resolved, bad);
    linkWidthsToLayers(resolved, widthById, bad);

    this.definition = def;
    this.name = name;
    this.inputShape = inputShape;
    this.numClasses = def.numClasses;
    this.resolutions = resolutions;
    this.bnEpsilon = bnEpsilon;
    this.widthById = widthById;
    this.widthChoices = [...widthById.values()];
    this.resolvedLayers = resolved;
    this.layers = resolved.map(layerInfo);
    this.opLayerIds = resolved.filter((l) => l.hasOpChoice).map((l) => l.id);
    this.blocks = blockInfos(def.blocks, resolved, resolutions[resolutions.length - 1] as number);
    if (latencyTable !== undefined) this.useLatencyTable(latencyTable);
  }

  /** Whether `cost().latency` comes from a latency table (without one it is 0). */
  get hasLatencyTable(): boolean {
    return this.latencyTable !== undefined;
  }

  /**
   * Makes `cost().latency` sum `table` from now on (a table measured after the space was resolved).
   * Throws InvalidArgumentError(INVALID_SEARCH_SPACE) naming the first key that is not a layer shape
   * of this space, a shape the table lacks, or a value that is not a finite number >= 0.
   */
  useLatencyTable(table: LatencyTable): void {
    const bad = (msg: string): never => fail(this.name, 'latencyTable', msg);
    if (table === null || typeof table !== 'object' || Array.isArray(table)) bad('must be an object of latencyKey -> milliseconds');
    const shapes = this.latencyShapes();
    for (const [key, ms] of Object.entries(table)) {
      if (!shapes.has(key)) bad(`key '${key}' is not a layer shape of this space (format kind:inSize:cin:cout:hidden:kernel:stride[:skip])`);
      if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) bad(`key '${key}': ${JSON.stringify(ms)} is not a finite number of milliseconds >= 0`);
    }
    for (const [key, { layerId }] of shapes) {
      if (!Object.hasOwn(table, key)) bad(`misses key '${key}' (a shape of layer '${layerId}')`);
    }
    this.latencyTable = { ...table };
  }

  /**
   * Every layer shape some subnet of this space has, by `latencyKey`, with one arch that has it and
   * the layer's id: the keys a complete latency table holds (`measureLatencyTable` over the archs).
   */
  latencyShapes(): Map<string, { arch: Arch; layerId: string }> {
    const out = new Map<string, { arch: Arch; layerId: string }>();
    this.resolvedLayers.forEach((layer, i) => {
      const ids = [...new Set([layer.input.choice, layer.output.choice].filter((c): c is string => c !== undefined))];
      let combos: Record<string, number>[] = [{}];
      for (const id of ids) combos = combos.flatMap((c) => this.width(id).candidates.map((v) => ({ ...c, [id]: v })));
      const ops = layer.hasOpChoice ? layer.ops.map((_, j) => j) : [undefined];
      for (const resolution of this.resolutions) {
        for (const c of combos) {
          for (const op of ops) {
            const arch = this.minArch();
            arch.resolution = resolution;
            Object.assign(arch.width, c);
            if (op !== undefined) arch.op = { ...arch.op, [layer.id]: op };
            const key = latencyKey(this.layerShapes(arch)[i] as LayerShape);
            if (!out.has(key)) out.set(key, { arch, layerId: layer.id });
          }
        }
      }
    });
    return out;
  }

  width(id: string): WidthChoice {
    const w = this.widthById.get(id);
    if (!w) throw new InvalidArgumentError(`unknown width choice '${id}'`);
    return w;
  }

  maxArch(): Arch {
    return this.archWith(this.resolutions[this.resolutions.length - 1] as number, (w) => w.max);
  }

  minArch(): Arch {
    return this.archWith(this.resolutions[0] as number, (w) => w.candidates[0] as number);
  }

  private archWith(resolution: number, pick: (w: WidthChoice) => number): Arch {
    const width: Record<string, number> = {};
    for (const w of this.widthChoices) width[w.id] = pick(w);
    const arch: Arch = { resolution, width };
    if (this.opLayerIds.length > 0) arch.op = Object.fromEntries(this.opLayerIds.map((id) => [id, 0]));
    return arch;
  }

  validateArch(arch: Arch): void {
    const bad = (field: string, msg: string): never => {
      throw new InvalidArgumentError(`arch ${field}: ${msg} (space '${this.name}')`);
    };
    if (arch === null || typeof arch !== 'object') bad('', 'must be an object');
    if (!this.resolutions.includes(arch.resolution)) {
      bad('resolution', `${String(arch.resolution)} is not one of ${this.resolutions.join(', ')}`);
    }
    const width = arch.width ?? {};
    if (typeof width !== 'object') bad('width', 'must be an object');
    for (const k of Object.keys(width)) if (!this.widthById.has(k)) bad(`width.${k}`, 'unknown width choice');
    const idx = arch.channelIdx ?? {};
    for (const k of Object.keys(idx)) if (!this.widthById.has(k)) bad(`channelIdx.${k}`, 'unknown width choice');
    for (const w of this.widthChoices) {
      const v = width[w.id];
      if (v === undefined) bad(`width.${w.id}`, 'missing');
      const ci = idx[w.id];
      if (ci !== undefined) {
        if (!isPosInt(v) || v > w.max) bad(`width.${w.id}`, `${String(v)} must be an integer in [1, ${w.max}]`);
        if (!Array.isArray(ci) || ci.length !== v) bad(`channelIdx.${w.id}`, `must list exactly ${String(v)} channels`);
        for (let i = 0; i < ci.length; i++) {
          const c = ci[i];
          if (!Number.isInteger(c) || (c as number) < 0 || (c as number) >= w.max) {
            bad(`channelIdx.${w.id}`, `index ${String(c)} outside [0, ${w.max})`);
          }
          if (i > 0 && (c as number) <= (ci[i - 1] as number)) bad(`channelIdx.${w.id}`, 'indices must be strictly ascending');
        }
      } else if (!w.candidates.includes(v as number)) {
        bad(`width.${w.id}`, `${String(v)} is not one of ${w.candidates.join(', ')}`);
      }
    }
    const op = arch.op ?? {};
    const opLayers = new Map(this.resolvedLayers.filter((l) => l.hasOpChoice).map((l) => [l.id, l]));
    for (const [k, v] of Object.entries(op)) {
      const l = opLayers.get(k);
      if (!l) return bad(`op.${k}`, 'not an op-choice layer');
      if (!Number.isInteger(v) || v < 0 || v >= l.ops.length) bad(`op.${k}`, `${String(v)} must be an integer in [0, ${l.ops.length})`);
    }
  }

  /** Active output channels of a slot in `arch`. */
  activeWidth(slot: WidthSlot, arch: Arch): number {
    return slot.choice === undefined ? slot.max : (arch.width[slot.choice] as number);
  }

  /** The op `arch` selects at an MBConv layer. */
  opOf(layer: ResolvedLayer, arch: Arch): ResolvedOp {
    return layer.ops[layer.hasOpChoice ? (arch.op?.[layer.id] ?? 0) : 0] as ResolvedOp;
  }

  /**
   * Total cost of `arch`: the sum of `layerCosts`. Samplers call it many times per drawn subnet,
   * so it sums the layers in network order without building the per-layer record (the same
   * result; layer ids that are array indices reorder that record, and take its path).
   */
  cost(arch: Arch): Cost {
    this.indexLikeLayerIds ??= this.resolvedLayers.some((l) => String(Number(l.id) >>> 0) === l.id);
    const table = this.latencyTable;
    if (!this.indexLikeLayerIds && table === undefined) {
      // the common case, no latency table: the same sums as below, without a shape or cost object
      // per layer (it runs for every draw of every sampled subnet)
      // each width choice read once (layers index them), rather than twice per layer by name
      const plan = (this.costPlan ??= this.makeCostPlan());
      const widths = plan.widths;
      for (let j = 0; j < plan.ids.length; j++) widths[j] = arch.width[plan.ids[j] as string] as number;
      let flops = 0;
      let params = 0;
      let size = arch.resolution;
      for (let i = 0; i < this.resolvedLayers.length; i++) {
        const layer = this.resolvedLayers[i] as ResolvedLayer;
        const cin = layer.input.choice === undefined ? layer.input.max : (widths[plan.input[i] as number] as number);
        const cout = layer.output.choice === undefined ? layer.output.max : (widths[plan.output[i] as number] as number);
        const op = layer.kind === 'mbconv' ? this.opOf(layer, arch) : undefined;
        const kernel = op ? op.kernel : layer.kernel;
        const outSize = layer.kind === 'pool' || layer.kind === 'linear' ? 1 : convOutSize(size, op?.skip ? 1 : kernel, layer.stride);
        const hidden = op === undefined || op.skip ? 0 : op.expand === 1 ? cin : makeDivisible(cin * op.expand);
        flops += layerFlops(layer, size, outSize, cin, cout, hidden, kernel, op);
        params += layerParams(layer, cin, cout, hidden, kernel, op);
        size = outSize;
      }
      return { flops, params, latency: 0 };
    }
    if (!this.indexLikeLayerIds) {
      let flops = 0;
      let params = 0;
      let latency = 0;
      for (const s of this.layerShapes(arch)) {
        const c = layerCost(s);
        flops += c.flops;
        params += c.params;
        latency += table?.[latencyKey(s)] ?? 0;
      }
      return { flops, params, latency };
    }
    const total: Cost = { flops: 0, params: 0, latency: 0 };
    for (const c of Object.values(this.layerCosts(arch))) {
      total.flops += c.flops;
      total.params += c.params;
      total.latency += c.latency;
    }
    return total;
  }

  /** For `cost`: the width-choice ids in one order, and each layer's input and output as indices into it. */
  private makeCostPlan(): CostPlan {
    const ids = [...new Set(this.resolvedLayers.flatMap((l) => [l.input.choice, l.output.choice]).filter((c) => c !== undefined))];
    const at = (c: string | undefined) => (c === undefined ? -1 : ids.indexOf(c));
    return { ids, widths: new Array<number>(ids.length), input: this.resolvedLayers.map((l) => at(l.input.choice)), output: this.resolvedLayers.map((l) => at(l.output.choice)) };
  }

  layerCosts(arch: Arch): Record<string, Cost> {
    const out: Record<string, Cost> = {};
    for (const s of this.layerShapes(arch)) {
      out[s.layer.id] = { ...layerCost(s), latency: this.latencyTable?.[latencyKey(s)] ?? 0 };
    }
    return out;
  }

  /** Each layer's active shapes in `arch` (input size, channels, chosen op), in network order. */
  layerShapes(arch: Arch): LayerShape[] {
    let size = arch.resolution;
    const shapes: LayerShape[] = [];
    for (const layer of this.resolvedLayers) {
      const cin = this.activeWidth(layer.input, arch);
      const cout = this.activeWidth(layer.output, arch);
      const op = layer.kind === 'mbconv' ? this.opOf(layer, arch) : undefined;
      const kernel = op ? op.kernel : layer.kernel;
      const outSize = layer.kind === 'pool' || layer.kind === 'linear' ? 1 : convOutSize(size, op?.skip ? 1 : kernel, layer.stride);
      const hidden = op === undefined || op.skip ? 0 : op.expand === 1 ? cin : makeDivisible(cin * op.expand);
      shapes.push({ layer, inSize: size, outSize, cin, cout, hidden, kernel, op });
      size = outSize;
    }
    return shapes;
  }
}

/** Width choices read once per `cost` call: ids, their values (scratch), and each layer's indices into them. */
interface CostPlan {
  ids: string[];
  widths: number[];
  input: number[];
  output: number[];
}

/** Active shape of one layer in one arch. */
export interface LayerShape {
  layer: ResolvedLayer;
  inSize: number;
  outSize: number;
  cin: number;
  cout: number;
  /** MBConv hidden channels (0 for other kinds and skip ops). */
  hidden: number;
  kernel: number;
  op: ResolvedOp | undefined;
}

/** MACs of a conv in PSS-Net's analytic cost counter: out^2 * (cout/groups) * k^2 * cin. */
export function convFlops(inSize: number, cin: number, cout: number, k: number, s: number, groups = 1): number {
  const out = convOutSize(inSize, k, s);
  return out * out * (cout / groups) * k * k * cin;
}

/**
 * MACs and parameters of one layer, counted analytically as PSS-Net does. FLOPs leave out BN,
 * activations, biases and the residual add; params count conv/FC weights, BN gamma and beta, and
 * the FC bias.
 */
export function layerCost(s: LayerShape): { flops: number; params: number } {
  return {
    flops: layerFlops(s.layer, s.inSize, s.outSize, s.cin, s.cout, s.hidden, s.kernel, s.op),
    params: layerParams(s.layer, s.cin, s.cout, s.hidden, s.kernel, s.op),
  };
}

/** The FLOPs of `layerCost`, from the shape's parts (no object made). */
function layerFlops(layer: ResolvedLayer, inSize: number, outSize: number, cin: number, cout: number, h: number, k: number, op: ResolvedOp | undefined): number {
  switch (layer.kind) {
    case 'conv':
      return convFlops(inSize, cin, cout, k, layer.stride);
    case 'dwconv':
      return convFlops(inSize, cin, cin, k, layer.stride, cin);
    case 'pool':
      return inSize * inSize * cin;
    case 'linear':
      return cin * cout;
    case 'mbconv': {
      if ((op as ResolvedOp).skip) return 0;
      let flops = 0;
      if ((op as ResolvedOp).expand !== 1) flops += convFlops(inSize, cin, h, 1, 1);
      flops += convFlops(inSize, h, h, k, layer.stride, h);
      flops += convFlops(outSize, h, cout, 1, 1);
      return flops;
    }
  }
}

/** The parameters of `layerCost`, from the shape's parts (no object made). */
function layerParams(layer: ResolvedLayer, cin: number, cout: number, h: number, k: number, op: ResolvedOp | undefined): number {
  switch (layer.kind) {
    case 'conv':
      return k * k * cin * cout + 2 * cout;
    case 'dwconv':
      return k * k * cin + 2 * cin;
    case 'pool':
      return 0;
    case 'linear':
      return cin * cout + cout;
    case 'mbconv': {
      if ((op as ResolvedOp).skip) return 0;
      let params = 0;
      if ((op as ResolvedOp).expand !== 1) params += cin * h + 2 * h;
      params += k * k * h + 2 * h;
      params += h * cout + 2 * cout;
      return params;
    }
  }
}

/** Latency-table key of a layer shape: kind, input size, channels, hidden, kernel, stride. */
export function latencyKey(s: LayerShape): string {
  return `${s.layer.kind}:${s.inSize}:${s.cin}:${s.cout}:${s.hidden}:${s.kernel}:${s.layer.stride}${s.op?.skip ? ':skip' : ''}`;
}
