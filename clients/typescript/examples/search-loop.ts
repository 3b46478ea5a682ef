// A whole supernetd search on a synthetic dataset: create an experiment (mbv2-small, uniform),
// train on inline batches, sample a subnet per FLOPs budget, measure and report it, export it.
//
//   SUPERNETD_ADDR=127.0.0.1:50051 node --import tsx clients/typescript/examples/search-loop.ts [out-dir]
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Batch } from '@supernetd/client';
import { SupernetdClient, flops, makeBatch } from '@supernetd/client';

/** n 28x28x1 uint8 images of 10 classes (class k: a bright 7x7 block at cell k of a 4x4 grid, on noise). */
export function syntheticBatch(n: number, seed: number): Batch {
  let state = (seed * 2654435761 + 1) >>> 0;
  const next = (m: number) => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state % m;
  };
  const pixels = new Uint8Array(n * 28 * 28);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const label = next(10);
    labels[i] = label;
    const base = i * 28 * 28;
    for (let p = 0; p < 28 * 28; p++) pixels[base + p] = next(40);
    const row = Math.floor(label / 4);
    const col = label % 4;
    for (let y = row * 7; y < row * 7 + 7; y++) for (let x = col * 7; x < col * 7 + 7; x++) pixels[base + y * 28 + x] = 220;
  }
  return makeBatch(pixels, [n, 28, 28, 1], labels);
}

/** Sizes of a run. */
export interface SearchOptions {
  trainSteps: number;
  batchSize: number;
  budgets: number;
}

/** Runs the loop, writes each budget's model under outDir/flops-TARGET, deletes the experiment; returns the files per budget. */
export async function runSearch(client: SupernetdClient, outDir: string, o: SearchOptions): Promise<Map<number, string[]>> {
  const experiment = await client.createExperiment({
    spec: { displayName: 'typescript example', searchSpace: { preset: 'mbv2-small' }, strategy: { id: 'uniform' } },
  });
  const experimentId = experiment.id;
  console.log(`created ${experimentId} on backend ${experiment.backend}`);
  try {
    for (let step = 0; step < o.trainSteps; step++) {
      const res = await client.trainStep({ experimentId, input: { case: 'batch', value: syntheticBatch(o.batchSize, step) } });
      console.log(`step ${res.step}: losses ${JSON.stringify(res.losses)}`);
    }

    // Budgets between the cheapest and the dearest of a few unconstrained samples.
    const costs = (await client.sampleSubnet({ experimentId, count: 8 })).map((s) => s.cost?.flops ?? 0).sort((a, b) => a - b);
    const lo = costs[0] ?? 0;
    const hi = costs[costs.length - 1] ?? 0;
    const targets = [lo, (lo + hi) / 2].slice(0, o.budgets);

    const evalBatch = syntheticBatch(o.batchSize, 1000);
    const written = new Map<number, string[]>();
    for (const target of targets) {
      const [subnet] = await client.sampleSubnet({ experimentId, constraint: flops(target) });
      if (!subnet) throw new Error(`no subnet for ${target} FLOPs`);
      const measured = await client.evaluate({ experimentId, target: { case: 'subnetId', value: subnet.id }, batch: evalBatch });
      await client.reportMetric({ experimentId, subnetId: subnet.id, metrics: { accuracy: measured.accuracy, loss: measured.loss } });
      const model = await client.exportSubnet({ experimentId, target: { case: 'subnetId', value: subnet.id } });
      const files = await model.writeTo(join(outDir, `flops-${Math.round(target)}`));
      written.set(target, files);
      console.log(
        `budget ${Math.round(target)} FLOPs: subnet ${subnet.id} (${subnet.cost?.flops} FLOPs), ` +
          `accuracy ${measured.accuracy.toFixed(3)}, files ${[...model.files.keys()].join(', ')}`,
      );
    }
    return written;
  } finally {
    await client.deleteExperiment(experimentId);
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const client = new SupernetdClient();
  try {
    await runSearch(client, process.argv[2] ?? 'supernetd-export', { trainSteps: 3, batchSize: 16, budgets: 2 });
  } finally {
    client.close();
  }
}
