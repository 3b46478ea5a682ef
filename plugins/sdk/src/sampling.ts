import { costOf, fits } from './arch.ts';
import type { Arch, Constraint } from './arch.ts';
import { FailedPreconditionError } from './errors.ts';
import type { Rng } from './rng.ts';
import type { SearchSpaceView } from './space.ts';

/**
 * A subnet drawn uniformly per choice: each width choice picks one of its candidates, the
 * resolution one of the space's resolutions, each op-choice layer one of its ops (SPOS sampling).
 */
export function randomArch(space: SearchSpaceView, rng: Rng): Arch {
  const width: Record<string, number> = {};
  for (const w of space.widthChoices) width[w.id] = rng.choice(w.candidates);
  const arch: Arch = { resolution: rng.choice(space.resolutions), width };
  if (space.opLayerIds.length > 0) {
    const op: Record<string, number> = {};
    for (const id of space.opLayerIds) op[id] = rng.int(opCount(space, id));
    arch.op = op;
  }
  return arch;
}

/** Number of candidate ops of an op-choice layer. */
export function opCount(space: SearchSpaceView, layerId: string): number {
  const layer = space.layers.find((l) => l.id === layerId);
  return layer?.ops?.length ?? 1;
}

/** FailedPreconditionError(CONSTRAINT_UNSATISFIABLE) naming the constraint and the smallest reachable cost. */
export function unsatisfiable(space: SearchSpaceView, c: Constraint): FailedPreconditionError {
  const least = costOf(space.cost(space.minArch()), c.kind);
  return new FailedPreconditionError(
    'CONSTRAINT_UNSATISFIABLE',
    `no subnet of space '${space.name}' fits ${c.kind} <= ${c.target} (smallest subnet: ${least})`,
  );
}

/**
 * Draws from `draw` until a subnet fits `constraint` (at most `maxTries` draws); if none does, walks
 * the last draw down (one width candidate or resolution step at a time, then cheapest ops) until it
 * fits. Throws FailedPreconditionError(CONSTRAINT_UNSATISFIABLE) when even that fails.
 */
export function sampleFitting(
  space: SearchSpaceView,
  constraint: Constraint | undefined,
  rng: Rng,
  draw: () => Arch,
  maxTries = 100,
): Arch {
  let last = draw();
  if (!constraint) return last;
  for (let i = 0; ; i++) {
    if (fits(space.cost(last), constraint)) return last;
    if (i + 1 >= maxTries) break;
    last = draw();
  }
  const shrunk = shrinkToFit(space, last, constraint, rng);
  if (shrunk) return shrunk;
  throw unsatisfiable(space, constraint);
}

/** Lowers random choices of `arch` one step at a time until it fits; undefined when nothing fits. */
export function shrinkToFit(space: SearchSpaceView, arch: Arch, c: Constraint, rng: Rng): Arch | undefined {
  const a: Arch = { resolution: arch.resolution, width: { ...arch.width } };
  if (arch.op) a.op = { ...arch.op };
  for (;;) {
    if (fits(space.cost(a), c)) return a;
    const moves: (() => void)[] = [];
    const ri = space.resolutions.indexOf(a.resolution);
    if (ri > 0) moves.push(() => (a.resolution = space.resolutions[ri - 1] as number));
    for (const w of space.widthChoices) {
      const wi = w.candidates.indexOf(a.width[w.id] as number);
      if (wi > 0) moves.push(() => (a.width[w.id] = w.candidates[wi - 1] as number));
    }
    if (moves.length === 0) break;
    rng.choice(moves)();
  }
  if (a.op) {
    for (const id of space.opLayerIds) {
      let best = a.op[id] as number;
      let bestCost = Infinity;
      for (let o = 0; o < opCount(space, id); o++) {
        const cost = costOf(space.cost({ ...a, op: { ...a.op, [id]: o } }), c.kind);
        if (cost < bestCost) {
          bestCost = cost;
          best = o;
        }
      }
      a.op[id] = best;
    }
    if (fits(space.cost(a), c)) return a;
  }
  return undefined;
}
