import { InvalidConfigError } from '@supernetd/sdk';
import type { OpChoice, SearchSpaceView } from '@supernetd/sdk';

/** The parts of the engine's JSON space definition (services/engine/src/space/definition.ts) read here. */
interface LayerJson {
  type: string;
  id: string;
  out?: string | number;
  ops?: OpChoice[];
  expand?: number;
  kernel?: number;
  [key: string]: unknown;
}

interface DefinitionJson {
  name?: string;
  blocks?: { id: string; layers: LayerJson[] }[];
  tail?: LayerJson[];
  bnEpsilon?: number;
}

/**
 * The default teacher of an op-choice space that has no `<name>-teacher` preset, derived from the
 * student's own definition: the same blocks, layer ids, strides and tail; every layer's output at
 * the student's largest width (width choices become fixed counts, so block outputs match the
 * student's max-width features); every op-choice layer replaced by one fixed MBConv wider than
 * every candidate: expansion twice the largest candidate expansion, the largest candidate kernel
 * (skip candidates ignored). One resolution: the student's largest, which DNA trains and rates at.
 * Throws InvalidConfigError when the view does not carry its definition.
 */
export function deriveTeacherDefinition(space: SearchSpaceView): Record<string, unknown> {
  const def = space.definition as DefinitionJson | undefined;
  if (!def || !Array.isArray(def.blocks) || !Array.isArray(def.tail)) {
    throw new InvalidConfigError(
      'dna',
      `space '${space.name}' has no '${space.name}-teacher' preset and no definition to derive a teacher from: set teacherPreset, teacherDefinition or teacherModel`,
    );
  }
  const maxWidth = new Map(space.widthChoices.map((w) => [w.id, w.max]));
  const layer = (l: LayerJson): LayerJson => {
    const out: LayerJson = structuredClone(l);
    if (typeof out.out === 'string') out.out = maxWidth.get(out.out) ?? out.out;
    if (l.type === 'mbconv' && Array.isArray(l.ops)) {
      const real = l.ops.filter((o) => !o.skip);
      delete out.ops;
      out.expand = 2 * Math.max(1, ...real.map((o) => o.expand));
      out.kernel = Math.max(1, ...real.map((o) => o.kernel));
    }
    return out;
  };
  const teacher: Record<string, unknown> = {
    name: `${space.name}-teacher`,
    inputShape: [...space.inputShape],
    numClasses: space.numClasses,
    resolutions: [space.resolutions[space.resolutions.length - 1] as number],
    widths: [],
    blocks: def.blocks.map((b) => ({ id: b.id, layers: b.layers.map(layer) })),
    tail: def.tail.map(layer),
  };
  if (def.bnEpsilon !== undefined) teacher['bnEpsilon'] = def.bnEpsilon;
  return teacher;
}
