/**
 * Trains one mbv2-small subnet on Fashion-MNIST through the engine API (the same calls a strategy
 * makes) and reports its test accuracy, wall time and time per step, so the accuracy a user can
 * expect and the time the train-step benchmark predicts can be read side by side.
 *
 *   npm run bench:train -- [--steps 470] [--batch 128] [--arch max|min] [--backend wasm|cpu|auto]
 */
import { parseArgs } from 'node:util';
import type { BackendPreference } from '../src/index.ts';
import { createEngineRuntime } from '../src/index.ts';

const { values } = parseArgs({
  options: {
    steps: { type: 'string', default: '470' },
    batch: { type: 'string', default: '128' },
    arch: { type: 'string', default: 'max' },
    backend: { type: 'string', default: 'wasm' },
    lr: { type: 'string', default: '0.1' },
  },
});
const steps = Number(values.steps);
const batchSize = Number(values.batch);
if (!(steps > 0 && batchSize > 0) || !['max', 'min'].includes(values.arch)) {
  console.error('usage: train-subnet.ts [--steps N>0] [--batch N>0] [--arch max|min] [--backend wasm|cpu|auto] [--lr X]');
  process.exit(2);
}

const runtime = await createEngineRuntime({
  space: { preset: 'mbv2-small' },
  training: {
    dataset: { name: 'fashion-mnist', augment: false },
    batchSize,
    totalSteps: steps,
    optimizer: { kind: 'sgd', learningRate: Number(values.lr), momentum: 0.9, nesterov: true, weightDecay: 1e-4, schedule: 'cosine', warmupSteps: Math.min(50, Math.floor(steps / 10)) },
    labelSmoothing: 0,
    seed: 0,
  },
  backend: values.backend as BackendPreference,
});
const { engine, space } = runtime;
const arch = values.arch === 'max' ? space.maxArch() : space.minArch();
const cost = space.cost(arch);
console.log(`backend ${engine.backend}; subnet ${values.arch} of mbv2-small: ${(cost.flops / 1e6).toFixed(2)} MFLOPs, ${(cost.params / 1e3).toFixed(1)}k params; ${steps} steps of batch ${batchSize} (${((steps * batchSize) / 60000).toFixed(2)} epochs)`);

const t0 = performance.now();
let last = 0;
for (let i = 0; i < steps; i++) {
  const batch = runtime.nextTrainBatch();
  try {
    last = engine.step(() => engine.ce(engine.supernet.forward(arch, batch.x, { training: true }), batch.y)).loss;
  } finally {
    batch.x.dispose();
    batch.y.dispose();
  }
  if ((i + 1) % 50 === 0 || i + 1 === steps) {
    const s = (performance.now() - t0) / 1000;
    console.log(`step ${i + 1}/${steps}  loss ${last.toFixed(4)}  ${((s * 1000) / (i + 1)).toFixed(0)} ms/step`);
  }
}
const trainSeconds = (performance.now() - t0) / 1000;
const result = runtime.evaluate(arch, { recalibrate: true });
console.log(`test accuracy ${(result.accuracy * 100).toFixed(2)}% on ${result.examples} examples (loss ${result.loss.toFixed(4)}); training ${trainSeconds.toFixed(0)} s, ${((trainSeconds * 1000) / steps).toFixed(0)} ms/step`);
runtime.dispose();
