import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/backend/select-backend.ts';
import { batchNormTrain } from '../../src/backend/batch-norm-train.ts';
import { setWasmSimdKernels } from '../../src/backend/wasm-training-kernels.ts';

function values(shape: number[], seed: number, offset = 0): Float32Array {
  const size = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) out[i] = offset + Math.sin(i * 0.7311 + seed * 1.37) * (1 + ((i * 7 + seed) % 5) / 4) * 4;
  return out;
}

async function run(backend: 'cpu' | 'wasm', f: () => tf.Tensor[]): Promise<{ shape: number[]; data: Float32Array }[]> {
  await initBackend(backend);
  const outs = tf.tidy(f);
  const res = outs.map((t) => ({ shape: t.shape, data: t.dataSync() as Float32Array }));
  tf.dispose(outs);
  return res;
}

async function assertSameOnCpuAndWasm(label: string, f: () => tf.Tensor[]): Promise<void> {
  const cpu = await run('cpu', f);
  const wasm = await run('wasm', f);
  for (let i = 0; i < cpu.length; i++) {
    assert.deepEqual(wasm[i]!.shape, cpu[i]!.shape, `${label}: output ${i} shape`);
    let diff = 0;
    let scale = 1e-12;
    const e = cpu[i]!.data;
    const a = wasm[i]!.data;
    for (let j = 0; j < e.length; j++) {
      diff = Math.max(diff, Math.abs(e[j]! - a[j]!));
      scale = Math.max(scale, Math.abs(e[j]!));
    }
    assert.ok(diff / scale < 1e-4, `${label}: output ${i} relative error ${diff / scale}`);
  }
}

const t = (shape: number[], seed: number, offset = 0) => tf.tensor(values(shape, seed, offset), shape);

describe('wasm fused and wrapped kernels', () => {
  test('BatchMatMul with transposed operands matches cpu', async () => {
    for (const [ta, tb] of [[true, false], [false, true], [true, true]] as const) {
      await assertSameOnCpuAndWasm(`matMul ta=${ta} tb=${tb}`, () => {
        const a = t(ta ? [37, 5] : [5, 37], 1);
        const b = t(tb ? [6, 37] : [37, 6], 2);
        return [tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D, ta, tb)];
      });
      await assertSameOnCpuAndWasm(`batched matMul ta=${ta} tb=${tb}`, () => {
        const a = t(ta ? [3, 9, 4] : [3, 4, 9], 3);
        const b = t(tb ? [3, 7, 9] : [3, 9, 7], 4);
        return [tf.matMul(a as tf.Tensor3D, b as tf.Tensor3D, ta, tb)];
      });
    }
  });

  test('Sum and Mean over leading and middle axes match cpu', async () => {
    await assertSameOnCpuAndWasm('reductions', () => {
      const x = t([6, 5, 4, 7], 5, 3);
      return [
        tf.sum(x, [0, 1, 2]),
        tf.mean(x, [0, 1, 2]),
        tf.mean(x, [1, 2]),
        tf.sum(x, [1, 2], true),
        tf.sum(x, 0),
        tf.mean(x, -1),
        tf.sum(x),
        tf.sum(t([600, 3], 6), 0),
      ];
    });
  });

  test('ReLU and ReLU6 gradients match cpu', async () => {
    await assertSameOnCpuAndWasm('relu grads', () => {
      const x = tf.concat([t([3, 5, 7], 7), tf.tile(tf.tensor([0, 6, -0, 6.0001, 5.9999], [1, 1, 5]), [3, 5, 1])], 2);
      const w = t(x.shape, 8);
      const g6 = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(tf.relu6(v), w)))(x);
      const g = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(tf.relu(v), w)))(x);
      return [g6, g];
    });
  });

  for (const simd of [true, false]) {
    test(`batchNormTrain matches the moments form on cpu (SIMD ${simd ? 'on' : 'off'})`, async () => {
      setWasmSimdKernels(simd);
      try {
        for (const shape of [[8, 5, 5, 7], [300, 13], [2, 3, 3, 16]]) {
          await assertSameOnCpuAndWasm(`batchNormTrain ${shape.join('x')}`, () => {
            const c = shape[shape.length - 1]!;
            const x = t(shape, 9, 3);
            const gamma = t([c], 10, 1) as tf.Tensor1D;
            const beta = t([c], 11) as tf.Tensor1D;
            const w = t(shape, 12);
            const f = (xx: tf.Tensor, gg: tf.Tensor, bb: tf.Tensor) =>
              tf.sum(tf.mul(tf.square(batchNormTrain(xx, gg as tf.Tensor1D, bb as tf.Tensor1D, 1e-3).y), w));
            const r = batchNormTrain(x, gamma, beta, 1e-3);
            return [r.y, r.mean, r.variance, ...tf.grads(f)([x, gamma, beta])];
          });
        }
      } finally {
        setWasmSimdKernels(true);
      }
    });
  }

  test('batchNormTrain leaks no tensors', async () => {
    await initBackend('wasm');
    const x = t([4, 3, 3, 8], 13);
    const gamma = tf.variable(tf.ones([8]));
    const beta = tf.variable(tf.zeros([8]));
    const step = () => {
      const { value, grads } = tf.variableGrads(() => {
        const r = batchNormTrain(x, gamma as tf.Tensor1D, beta as tf.Tensor1D, 1e-5);
        return tf.sum(tf.square(r.y)) as tf.Scalar;
      });
      tf.dispose([value, ...Object.values(grads)]);
    };
    step();
    const before = tf.memory().numTensors;
    step();
    step();
    assert.equal(tf.memory().numTensors, before);
    tf.dispose([x, gamma, beta]);
  });
});
