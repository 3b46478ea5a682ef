// A small search space written out by hand for the sdk's own tests: the sdk must not depend on the
// engine, and a space whose costs can be worked out on paper lets the tests pin exact answers.
import { InvalidArgumentError } from '../src/index.ts';
import type { Arch, Cost, LayerInfo, SearchSpaceView, WidthChoice } from '../src/index.ts';

export interface ToySpaceOptions {
  /** Give layer `o` two candidate ops (kernel 3 and kernel 5); default true. */
  ops?: boolean;
}

function widthChoice(id: string, candidates: number[]): WidthChoice {
  const max = candidates[candidates.length - 1] as number;
  return { id, max, base: max, minMult: candidates[0]! / max, maxMult: 1, divisor: 8, candidates, layerIds: [id] };
}

/**
 * Widths `a` in {8, 16, 24} and `b` in {16, 32}, resolutions {16, 24, 32}, and (with ops) layer `o`
 * choosing kernel 3 (op 0) or kernel 5 (op 1).
 * cost: flops = r^2 * (a * b + k^2 * b), params = a * b + k^2 * b, latency = flops / 1000 ms,
 * where k is the chosen kernel (3 without ops).
 */
export function toySpace(opts: ToySpaceOptions = {}): SearchSpaceView {
  const withOps = opts.ops ?? true;
  const widthChoices = [widthChoice('a', [8, 16, 24]), widthChoice('b', [16, 32])];
  const resolutions = [16, 24, 32];
  const kernels = [3, 5];
  const layers: LayerInfo[] = [
    { id: 'a', kind: 'conv', block: 'b0', widthChoice: 'a', kernel: 3, stride: 1 },
    { id: 'b', kind: 'conv', block: 'b0', widthChoice: 'b', kernel: 3, stride: 1 },
    {
      id: 'o',
      kind: 'mbconv',
      block: 'b0',
      kernel: 3,
      stride: 1,
      ...(withOps ? { ops: kernels.map((k) => ({ name: `k${k}`, kernel: k, expand: 1 })) } : {}),
    },
  ];
  const layerCosts = (arch: Arch): Record<string, Cost> => {
    const a = arch.width['a'] as number;
    const b = arch.width['b'] as number;
    const k = kernels[arch.op?.['o'] ?? 0] as number;
    const r2 = arch.resolution * arch.resolution;
    const layer = (params: number): Cost => ({ flops: r2 * params, params, latency: (r2 * params) / 1000 });
    return { ab: layer(a * b), o: layer(k * k * b) };
  };
  const space: SearchSpaceView = {
    name: withOps ? 'toy' : 'toy-widths',
    inputShape: [32, 32, 3],
    numClasses: 10,
    resolutions,
    widthChoices,
    layers,
    blocks: [{ id: 'b0', index: 0, layerIds: ['a', 'b', 'o'], outChannels: 32, outSize: 32 }],
    opLayerIds: withOps ? ['o'] : [],
    maxArch: () => ({ resolution: 32, width: { a: 24, b: 32 }, ...(withOps ? { op: { o: 0 } } : {}) }),
    minArch: () => ({ resolution: 16, width: { a: 8, b: 16 }, ...(withOps ? { op: { o: 0 } } : {}) }),
    validateArch(arch: Arch): void {
      if (!resolutions.includes(arch.resolution)) throw new InvalidArgumentError(`resolution ${arch.resolution} is not one of ${resolutions.join(', ')}`);
      for (const w of widthChoices) {
        if (!w.candidates.includes(arch.width[w.id] as number)) throw new InvalidArgumentError(`width '${w.id}' ${arch.width[w.id]} is not a candidate`);
      }
      for (const id of Object.keys(arch.width)) {
        if (!widthChoices.some((w) => w.id === id)) throw new InvalidArgumentError(`unknown width choice '${id}'`);
      }
      const op = arch.op?.['o'];
      if (op !== undefined && !(withOps && Number.isInteger(op) && op >= 0 && op < kernels.length)) {
        throw new InvalidArgumentError(`op of layer 'o' ${op} is out of range`);
      }
    },
    cost(arch: Arch): Cost {
      const parts = Object.values(layerCosts(arch));
      return {
        flops: parts.reduce((s, c) => s + c.flops, 0),
        params: parts.reduce((s, c) => s + c.params, 0),
        latency: parts.reduce((s, c) => s + c.latency, 0),
      };
    },
    layerCosts,
  };
  return space;
}

/** Every subnet of `space` (a toySpace), in a fixed order. */
export function allArchs(space: SearchSpaceView): Arch[] {
  const out: Arch[] = [];
  const ops = space.opLayerIds.length > 0 ? [0, 1] : [undefined];
  for (const resolution of space.resolutions) {
    for (const a of space.widthChoices[0]!.candidates) {
      for (const b of space.widthChoices[1]!.candidates) {
        for (const o of ops) out.push({ resolution, width: { a, b }, ...(o === undefined ? {} : { op: { o } }) });
      }
    }
  }
  return out;
}
