/** One rated candidate of a block: its op encoding, its loss (lower is better) and its cost. */
export interface BlockCandidate {
  enc: number[];
  loss: number;
  cost: number;
}

/** The best combination: one candidate index per block (into the lists as given), total loss and cost. */
export interface SearchResult {
  choice: number[];
  loss: number;
  cost: number;
}

/** Candidates the branch and bound looks at between two pauses of `branchAndBoundAsync`. */
export const NODES_PER_YIELD = 4096;

/**
 * DNA's constrained traversal search with exact branch and bound: blocks' candidates sorted by
 * loss, prefix feasibility bounds from the cheapest completion, and the pruning
 * `loss + sum of the remaining blocks' least losses >= best`. Minimises the summed loss subject to
 * `fixed + sum of costs <= budget`; returns undefined when no combination fits. A generator so
 * that one algorithm serves the synchronous and the cancellable driver: it yields the number of
 * candidates looked at so far every NODES_PER_YIELD of them.
 */
function* branchAndBoundSteps(
  blocks: readonly (readonly BlockCandidate[])[],
  fixed: number,
  budget: number,
): Generator<number, SearchResult | undefined, void> {
  const K = blocks.length;
  if (K === 0) return fixed <= budget ? { choice: [], loss: 0, cost: fixed } : undefined;
  if (blocks.some((b) => b.length === 0)) return undefined;
  const order = blocks.map((b) => b.map((_, i) => i).sort((x, y) => (b[x] as BlockCandidate).loss - (b[y] as BlockCandidate).loss || x - y));
  const minCost = blocks.map((b) => Math.min(...b.map((c) => c.cost)));
  const minLoss = blocks.map((b) => Math.min(...b.map((c) => c.loss)));
  const restCost = new Array<number>(K + 1).fill(0);
  const restLoss = new Array<number>(K + 1).fill(0);
  for (let k = K - 1; k >= 0; k--) {
    restCost[k] = (restCost[k + 1] as number) + (minCost[k] as number);
    restLoss[k] = (restLoss[k + 1] as number) + (minLoss[k] as number);
  }
  // bound[k]: the most blocks 0..k may cost so that the cheapest completion still fits.
  const bound = restCost.slice(1).map((rest) => budget - fixed - rest);
  let best: SearchResult | undefined;
  let visited = 0;
  const choice: number[] = [];
  function* dfs(k: number, prefLoss: number, prefCost: number): Generator<number, void, void> {
    const list = blocks[k] as readonly BlockCandidate[];
    for (const i of order[k] as number[]) {
      if (++visited % NODES_PER_YIELD === 0) yield visited;
      const cand = list[i] as BlockCandidate;
      const cost = prefCost + cand.cost;
      if (cost > (bound[k] as number)) continue;
      const loss = prefLoss + cand.loss;
      // Sorted by loss: no later candidate of this block can do better.
      if (best && loss + (restLoss[k + 1] as number) >= best.loss) break;
      choice.push(i);
      if (k === K - 1) {
        best = { choice: [...choice], loss, cost: fixed + cost };
        choice.pop();
        break;
      }
      yield* dfs(k + 1, loss, cost);
      choice.pop();
    }
  }
  yield* dfs(0, 0, 0);
  return best;
}

/** The branch and bound run to the end at once (pure JavaScript; deploy sampling, small instances). */
export function branchAndBound(blocks: readonly (readonly BlockCandidate[])[], fixed: number, budget: number): SearchResult | undefined {
  const steps = branchAndBoundSteps(blocks, fixed, budget);
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
  }
}

/**
 * The same branch and bound, pausing every NODES_PER_YIELD candidates on `pause(visited)`: a
 * rejection (e.g. CancelledError from a SearchControl) stops the search and propagates.
 */
export async function branchAndBoundAsync(
  blocks: readonly (readonly BlockCandidate[])[],
  fixed: number,
  budget: number,
  pause: (visited: number) => Promise<void>,
): Promise<SearchResult | undefined> {
  const steps = branchAndBoundSteps(blocks, fixed, budget);
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
    await pause(r.value);
  }
}

/** Exhaustive reference (tests, tiny instances): the same objective, every combination tried. */
export function bruteForce(blocks: readonly (readonly BlockCandidate[])[], fixed: number, budget: number): SearchResult | undefined {
  let best: SearchResult | undefined;
  const rec = (k: number, choice: number[], loss: number, cost: number) => {
    if (k === blocks.length) {
      if (fixed + cost <= budget && (!best || loss < best.loss)) best = { choice: [...choice], loss, cost: fixed + cost };
      return;
    }
    (blocks[k] as readonly BlockCandidate[]).forEach((c, i) => rec(k + 1, [...choice, i], loss + c.loss, cost + c.cost));
  };
  rec(0, [], 0, 0);
  return best;
}
