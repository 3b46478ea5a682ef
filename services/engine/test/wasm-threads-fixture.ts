// Worker-thread fixture of wasm-threads.test.ts: each thread starts its own wasm backend with the
// thread count it is given, trains the same steps and posts back what the test compares.
import { parentPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import { backendInfo, createEngineRuntime } from '../src/index.ts';
import { wasmHelperThreads } from '../src/backend/wasm-threads.ts';
import { activeWasmKernelPool, wasmKernelHelperThreads } from '../src/backend/wasm-kernel-pool.ts';
import type { Engine } from '../src/training/engine.ts';

const { threads, steps } = workerData as { threads: number; steps: number };
const rt = await createEngineRuntime({
  space: { preset: 'mbv2-small' },
  training: {
    dataset: { name: 'fashion-mnist', maxTrainExamples: 256, maxTestExamples: 32 },
    batchSize: 32,
    totalSteps: 100,
    optimizer: { kind: 'sgd', learningRate: 0.05, momentum: 0.9, nesterov: true, weightDecay: 4e-5, schedule: 'constant' },
    labelSmoothing: 0.1,
    seed: 7,
  },
  backend: 'wasm',
  threads,
});
// The engine's kernels split once the pool's helpers have started; before that they run whole (with
// the same results), so the fixture waits for them to make the split certain.
const pool = activeWasmKernelPool();
await pool?.whenReady();
const { engine } = rt;
const space = rt.space;
const max = space.maxArch();
const min = space.minArch();
// Counted after the first step, which creates the optimiser's slots.
let before = 0;
const losses: number[] = [];
for (let s = 0; s < steps; s++) {
  const batch = rt.nextTrainBatch();
  // The sandwich rule's closure: the max net on the labels, the min net distilled from it.
  const r = engine.step(() => {
    const teacher = engine.supernet.forward(max, batch.x, { training: true });
    const student = engine.supernet.forward(min, batch.x, { training: true });
    return tf.add(engine.ce(teacher, batch.y), engine.kl(student, teacher)) as tf.Scalar;
  });
  tf.dispose([batch.x, batch.y]);
  losses.push(r.loss);
  if (s === 0) before = tf.memory().numTensors;
}
const weights: Record<string, Float32Array> = {};
for (const net of (engine as unknown as Engine).networks()) {
  for (const v of net.allVariables()) weights[v.name] = v.variable.dataSync() as Float32Array;
}
const after = tf.memory().numTensors;
// What XNNPACK's pool reports, not only what the engine asked for.
const poolThreads = (tf.backend() as unknown as { wasm: { tfjs: { getThreadsCount(): number } } }).wasm.tfjs.getThreadsCount();
parentPort!.postMessage({
  info: backendInfo(),
  poolThreads,
  helpers: wasmHelperThreads(),
  kernelHelpers: wasmKernelHelperThreads(),
  kernelSplits: pool?.stats.splits ?? 0,
  losses,
  weights,
  tensorsBefore: before,
  tensorsAfter: after,
});
