import { InvalidArgumentError } from '@supernetd/sdk';
import type { SpaceSpec } from '../runtime-types.ts';
import type { SpaceDefinition } from './definition.ts';
import { listPresets, presetDefinition } from './presets.ts';
import type { PresetOptions } from './presets.ts';
import { ResolvedSpace, SPACE_HARD_LIMITS } from './resolved-space.ts';
import type { LatencyTable } from './resolved-space.ts';

const OVERRIDE_KEYS = new Set(['numClasses', 'inputShape', 'resolutions', 'definition', 'bnEpsilon', 'latencyTable', 'measureLatency']);

function invalid(message: string): never {
  throw new InvalidArgumentError(message, 'INVALID_SEARCH_SPACE');
}

/**
 * Resolves a preset name plus overrides (`numClasses`, `inputShape`, `resolutions`, `bnEpsilon`) or,
 * with preset `custom`, `overrides.definition` (a whole SpaceDefinition) into a validated space.
 * Its latency table is `opts.latencyTable`, else `overrides.latencyTable` (a user-measured table);
 * `overrides.measureLatency` only asks the server to measure one (see `latencySource`).
 * Pure JavaScript: safe on the RPC thread. Throws InvalidArgumentError(INVALID_SEARCH_SPACE) naming
 * the unknown preset, override, the offending layer/field or latency-table key.
 */
export function resolveSpace(spec: SpaceSpec, opts: { latencyTable?: LatencyTable } = {}): ResolvedSpace {
  const source = latencySource(spec);
  const table = opts.latencyTable ?? (source === 'given' ? (spec.overrides?.latencyTable as LatencyTable) : undefined);
  return new ResolvedSpace(spaceDefinition(spec), table);
}

/**
 * Where a space's latency table comes from: `given` (overrides.latencyTable), `measure`
 * (overrides.measureLatency: true, measured on the serving host) or `none` (latency is 0 and
 * latency constraints are unsupported). Throws InvalidArgumentError(INVALID_SEARCH_SPACE) when
 * both are set or measureLatency is not a boolean.
 */
export function latencySource(spec: SpaceSpec): 'given' | 'measure' | 'none' {
  const o = spec.overrides ?? {};
  if (o === null || typeof o !== 'object') return 'none';
  const m = o.measureLatency;
  if (m !== undefined && typeof m !== 'boolean') invalid(`search space override measureLatency must be true or false, got ${JSON.stringify(m)}`);
  if (m === true && o.latencyTable !== undefined) invalid('search space overrides measureLatency and latencyTable exclude each other');
  if (o.latencyTable !== undefined) return 'given';
  return m === true ? 'measure' : 'none';
}

/** The definition `resolveSpace` would validate, before validation. */
export function spaceDefinition(spec: SpaceSpec): SpaceDefinition {
  const o = spec.overrides ?? {};
  if (o === null || typeof o !== 'object' || Array.isArray(o)) invalid('search space overrides must be an object');
  for (const k of Object.keys(o)) {
    if (!OVERRIDE_KEYS.has(k)) invalid(`search space override '${k}' is not supported (allowed: ${[...OVERRIDE_KEYS].join(', ')})`);
  }
  let def: SpaceDefinition;
  if (spec.preset === 'custom') {
    if (o.definition === null || typeof o.definition !== 'object') invalid("preset 'custom' needs overrides.definition");
    def = structuredClone(o.definition) as SpaceDefinition;
  } else {
    if (o.definition !== undefined) invalid("overrides.definition is only allowed with preset 'custom'");
    const shape = o.inputShape;
    if (shape !== undefined && !(Array.isArray(shape) && shape.length === 3 && shape.every((d) => Number.isInteger(d) && d > 0))) {
      invalid(`search space override inputShape must be [height, width, channels] of positive integers`);
    }
    // presets derive lists from the image size (resolutions up to it): bound it before they build
    const H = SPACE_HARD_LIMITS;
    if (shape !== undefined && ((shape as number[])[0]! > H.maxSide || (shape as number[])[1]! > H.maxSide || (shape as number[])[2]! > H.maxChannels)) {
      invalid(`search space override inputShape [${(shape as number[]).join(', ')}] exceeds the limit of ${H.maxSide} per side and ${H.maxChannels} channels`);
    }
    const p: Partial<PresetOptions> = {};
    if (o.inputShape !== undefined) p.inputShape = o.inputShape as [number, number, number];
    if (o.numClasses !== undefined) p.numClasses = o.numClasses as number;
    if (o.resolutions !== undefined) p.resolutions = o.resolutions as number[];
    const built = presetDefinition(spec.preset, p);
    if (!built) {
      invalid(`unknown search space preset '${spec.preset}' (known: ${listPresets().map((x) => x.name).join(', ')}, custom)`);
    }
    def = built;
  }
  // Presets take these while building (their default resolutions follow inputShape); a custom
  // definition takes them on top.
  if (spec.preset === 'custom') {
    if (o.inputShape !== undefined) def.inputShape = o.inputShape as [number, number, number];
    if (o.numClasses !== undefined) def.numClasses = o.numClasses as number;
    if (o.resolutions !== undefined) def.resolutions = o.resolutions as number[];
  }
  if (o.bnEpsilon !== undefined) def.bnEpsilon = o.bnEpsilon as number;
  return def;
}
