import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/backend/select-backend.ts';
import { setWasmSimdKernels, wasmTrainingKernelNames } from '../../src/backend/wasm-training-kernels.ts';

type Pad = 'same' | 'valid';

/** Deterministic, sign-varying values (no RNG, so cpu and wasm see identical inputs). */
function values(shape: number[], seed: number): Float32Array {
  const size = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) out[i] = Math.sin(i * 0.7311 + seed * 1.37) * (1 + ((i * 7 + seed) % 5) / 4);
  return out;
}

/** Runs `f` on `backend` and returns its outputs as plain arrays. */
async function onBackend(backend: 'cpu' | 'wasm', f: () => tf.Tensor[]): Promise<{ shape: number[]; data: Float32Array }[]> {
  await initBackend(backend);
  const outs = tf.tidy(f);
  const res = outs.map((t) => ({ shape: t.shape, data: t.dataSync() as Float32Array }));
  tf.dispose(outs);
  return res;
}

function relErr(expected: Float32Array, actual: Float32Array): number {
  let diff = 0;
  let scale = 1e-12;
  for (let i = 0; i < expected.length; i++) {
    diff = Math.max(diff, Math.abs(expected[i]! - actual[i]!));
    scale = Math.max(scale, Math.abs(expected[i]!));
  }
  return diff / scale;
}

async function assertSameOnCpuAndWasm(label: string, f: () => tf.Tensor[]): Promise<void> {
  const cpu = await onBackend('cpu', f);
  const wasm = await onBackend('wasm', f);
  assert.equal(wasm.length, cpu.length);
  for (let i = 0; i < cpu.length; i++) {
    assert.deepEqual(wasm[i]!.shape, cpu[i]!.shape, `${label}: output ${i} shape`);
    const err = relErr(cpu[i]!.data, wasm[i]!.data);
    assert.ok(err < 1e-4, `${label}: output ${i} relative error ${err}`);
  }
}

/** Gradients of a loss that weights every output position differently, so no gradient is uniform. */
function convGrads(op: (x: tf.Tensor4D, w: tf.Tensor4D) => tf.Tensor4D, xShape: number[], wShape: number[]): () => tf.Tensor[] {
  return () => {
    const x = tf.tensor4d(values(xShape, 1), xShape as [number, number, number, number]);
    const w = tf.tensor4d(values(wShape, 2), wShape as [number, number, number, number]);
    const g = tf.grads((a: tf.Tensor, b: tf.Tensor) => {
      const y = op(a as tf.Tensor4D, b as tf.Tensor4D);
      return tf.sum(tf.mul(y, tf.sin(y)));
    });
    return g([x, w]);
  };
}

before(async () => {
  await initBackend('wasm');
});

after(async () => {
  await initBackend('wasm');
});

describe('wasm training kernels', () => {
  test('are registered for wasm', async () => {
    await initBackend('wasm');
    for (const name of wasmTrainingKernelNames()) assert.ok(tf.getKernel(name, 'wasm') != null, name);
  });

  for (const k of [1, 3, 5, 7]) {
    for (const stride of [1, 2]) {
      for (const pad of ['same', 'valid'] as Pad[]) {
        const label = `k${k} s${stride} ${pad}`;
        test(`depthwiseConv2d gradients match cpu: ${label}`, async () => {
          // 6 channels: exercises the SIMD lanes and the scalar tail.
          await assertSameOnCpuAndWasm(`depthwise ${label}`, convGrads((x, w) => tf.depthwiseConv2d(x, w, stride, pad), [2, 11, 10, 6], [k, k, 6, 1]));
        });
        test(`conv2d gradients match cpu: ${label}`, async () => {
          await assertSameOnCpuAndWasm(`conv2d ${label}`, convGrads((x, w) => tf.conv2d(x, w, stride, pad), [2, 11, 10, 3], [k, k, 3, 5]));
        });
      }
    }
  }

  for (const [batch, size, channels] of [[64, 8, 8], [128, 7, 16]] as const) {
    test(`depthwise and conv2d gradients match cpu at batch ${batch}`, async () => {
      await assertSameOnCpuAndWasm(`depthwise batch ${batch}`, convGrads((x, w) => tf.depthwiseConv2d(x, w, 2, 'same'), [batch, size, size, channels], [3, 3, channels, 1]));
      await assertSameOnCpuAndWasm(`conv2d batch ${batch}`, convGrads((x, w) => tf.conv2d(x, w, 1, 'same'), [batch, size, size, 1], [3, 3, 1, channels]));
    });
  }

  for (const stride of [1, 2]) {
    test(`the fallback paths without SIMD match cpu: stride ${stride}`, async () => {
      setWasmSimdKernels(false);
      try {
        for (const pad of ['same', 'valid'] as Pad[]) {
          await assertSameOnCpuAndWasm(`no-SIMD ${pad}`, convGrads((x, w) => tf.depthwiseConv2d(x, w, stride, pad), [3, 10, 9, 6], [3, 3, 6, 1]));
          await assertSameOnCpuAndWasm(`no-SIMD conv2d ${pad}`, convGrads((x, w) => tf.conv2d(x, w, stride, pad), [2, 9, 8, 3], [3, 3, 3, 5]));
          await assertSameOnCpuAndWasm(`no-SIMD multiplier 2 ${pad}`, convGrads((x, w) => tf.depthwiseConv2d(x, w, stride, pad), [2, 9, 9, 3], [3, 3, 3, 2]));
        }
      } finally {
        setWasmSimdKernels(true);
      }
    });
  }

  // (tfjs-core has no depthwise gradient for dilation > 1, so dilation is not tested.)
  test('depthwise gradients with channel multiplier 2 match cpu', async () => {
    await assertSameOnCpuAndWasm('multiplier 2', convGrads((x, w) => tf.depthwiseConv2d(x, w, 2, 'same'), [2, 9, 9, 3], [3, 3, 3, 2]));
  });

  test('explicit padding matches cpu', async () => {
    const pad: [[number, number], [number, number], [number, number], [number, number]] = [[0, 0], [1, 2], [0, 1], [0, 0]];
    await assertSameOnCpuAndWasm('depthwise explicit', convGrads((x, w) => tf.depthwiseConv2d(x, w, 2, pad), [2, 9, 8, 4], [3, 3, 4, 1]));
    await assertSameOnCpuAndWasm('conv2d explicit', convGrads((x, w) => tf.conv2d(x, w, 2, pad), [2, 9, 8, 4], [3, 3, 4, 6]));
  });
});
