import * as tf from '@tensorflow/tfjs-core';
import type { OptimizerConfig } from '@supernetd/sdk';
import { initBackend } from '../src/backend/select-backend.ts';
import { resolveSpace } from '../src/space/index.ts';
import type { ResolvedSpace, SpaceDefinition } from '../src/space/index.ts';
import { Engine } from '../src/training/engine.ts';

/**
 * Whether the native tensorflow backend loads here (it activates it). Where it must
 * (SUPERNETD_REQUIRE_TENSORFLOW=1, as .ci/run sets after `npm run setup:tensorflow`), a failure to
 * load throws instead of answering false, so tests that skip without it cannot silently skip in CI.
 */
export async function tensorflowAvailable(): Promise<boolean> {
  try {
    await initBackend('tensorflow');
    return true;
  } catch (err) {
    if (process.env.SUPERNETD_REQUIRE_TENSORFLOW === '1') throw err;
    return false;
  }
}

/** A small space with every layer kind: elastic width, depthwise, residual MBConv, op choice, head. */
export function tinyDefinition(): SpaceDefinition {
  return {
    name: 'tiny',
    inputShape: [8, 8, 3],
    numClasses: 5,
    resolutions: [6, 8],
    widths: [{ id: 'a', base: 16, candidates: [8, 12, 16] }],
    blocks: [
      {
        id: 'b0',
        layers: [
          { type: 'conv', id: 'c', out: 'a', kernel: 3, stride: 2 },
          { type: 'dwconv', id: 'd', kernel: 3 },
        ],
      },
      {
        id: 'b1',
        layers: [
          { type: 'mbconv', id: 'm', out: 'a', expand: 2, kernel: 3 },
          {
            type: 'mbconv',
            id: 'o',
            out: 24,
            ops: [
              { name: 'e2k3', expand: 2, kernel: 3 },
              { name: 'e1k5', expand: 1, kernel: 5 },
            ],
          },
        ],
      },
    ],
    tail: [
      { type: 'conv', id: 'h', out: 32, kernel: 1 },
      { type: 'pool', id: 'pool' },
      { type: 'linear', id: 'fc' },
    ],
  };
}

export function tinySpace(): ResolvedSpace {
  return resolveSpace({ preset: 'custom', overrides: { definition: tinyDefinition() as unknown as Record<string, unknown> } });
}

export const SGD: OptimizerConfig = { kind: 'sgd', learningRate: 0.05, momentum: 0.9, nesterov: true, weightDecay: 1e-4, schedule: 'cosine' };

/** An engine without a dataset (batches come from the test). */
export function bareEngine(space: ResolvedSpace, optimizer: OptimizerConfig = SGD, seed = 0): Engine {
  return new Engine({
    tf,
    backend: tf.getBackend(),
    space,
    optimizer,
    totalSteps: 100,
    seed,
    batchSize: 8,
    data: {
      trainBatches: () => {
        throw new Error('no data');
      },
      validationBatches: () => {
        throw new Error('no data');
      },
    },
  });
}

/** A deterministic random tensor. */
export function seeded(shape: number[], seed: number, scale = 1): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const v = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    v[i] = (s / 4294967296 - 0.5) * 2 * scale;
  }
  return tf.tensor(v, shape);
}

/** Gives every BN non-trivial statistics and affine parameters (deterministic). */
export function randomizeBatchNorm(engine: Engine): void {
  let seed = 7;
  for (const net of engine.networks()) {
    for (const v of net.allVariables()) {
      if (!v.name.includes('/bn/')) continue;
      tf.tidy(() => {
        const r = seeded(v.variable.shape, seed++, 0.5);
        const val = v.name.endsWith('variance') || v.name.endsWith('gamma') ? tf.add(tf.abs(r), 0.5) : r;
        v.variable.assign(val);
      });
    }
  }
}
