import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SIMD_ROUTINE_NAMES, simdModule, simdRoutines, type SimdRoutines, type WasmMemory } from '../../src/backend/wasm-simd.ts';
import { SIMD_KERNELS_SHARED_WASM, SIMD_KERNELS_WASM } from '../../src/backend/wasm/simd-kernels.ts';
import { compileSimdKernels } from '../../src/backend/wasm/generate.ts';

// The engine's SIMD module (wasm/simd-kernels.wat, compiled by wabt into wasm/simd-kernels.ts):
// it exports exactly what wasm-simd.ts binds, for the memories tfjs's builds have (unshared, and
// shared in the threaded build), computes what wasm-simd.ts documents, and the committed bytes
// are what the .wat compiles to.

/** The part of the WebAssembly JS API used here (the project's lib settings carry no WebAssembly types). */
interface WasmApi {
  Memory: new (d: { initial: number; maximum?: number; shared?: boolean }) => WasmMemory & { buffer: ArrayBufferLike };
  Module: {
    exports(module: object): { name: string; kind: string }[];
    imports(module: object): { module: string; name: string; kind: string }[];
  };
}
const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/** Each routine's parameter count, as the types in wasm-simd.ts declare it. */
const ARITY: Record<keyof SimdRoutines, number> = { mac: 8, devSq: 6, centreAffineClamp: 9, bnGradSums: 12, centreAffine: 9, reluGrad: 5, outer: 8, outer4: 8 };

const memories = {
  unshared: () => new wasm.Memory({ initial: 1 }),
  shared: () => new wasm.Memory({ initial: 1, maximum: 4, shared: true }),
};

describe('the SIMD module', () => {
  for (const [kind, make] of Object.entries(memories)) {
    test(`exports exactly the routines wasm-simd.ts binds, and imports only env.memory (${kind} memory)`, () => {
      const memory = make();
      const module = simdModule(memory);
      assert.ok(module !== null, 'Node 20 has WebAssembly SIMD');
      assert.deepEqual(
        wasm.Module.exports(module),
        SIMD_ROUTINE_NAMES.map((name) => ({ name, kind: 'function' })),
      );
      assert.deepEqual(Object.keys(ARITY).sort(), [...SIMD_ROUTINE_NAMES].sort());
      assert.deepEqual(wasm.Module.imports(module), [{ module: 'env', name: 'memory', kind: 'memory' }]);
      const routines = simdRoutines(memory);
      assert.ok(routines !== null);
      for (const name of SIMD_ROUTINE_NAMES) {
        assert.equal(typeof routines[name], 'function', name);
        assert.equal(routines[name].length, ARITY[name], `${name} takes ${ARITY[name]} arguments`);
      }
    });
  }

  test('a shared memory gets the module whose import is shared', () => {
    const plain = simdModule(memories.unshared());
    const shared = simdModule(memories.shared());
    assert.ok(plain !== null && shared !== null);
    assert.notEqual(plain, shared);
    assert.equal(simdModule(memories.shared()), shared, 'compiled once per kind of memory');
  });

  for (const [kind, make] of Object.entries(memories)) {
    test(`computes what wasm-simd.ts documents, bit for bit (${kind} memory)`, () => {
      const memory = make();
      const s = simdRoutines(memory)!;
      const f32 = new Float32Array(memory.buffer);
      const fill = (at: number, n: number, seed: number) => {
        for (let i = 0; i < n; i++) f32[at + i] = Math.fround(Math.sin(i * 0.913 + seed) * 3);
      };
      const near = (ptr: number, n: number) => Array.from(f32.subarray(ptr, ptr + n));
      const f = Math.fround;

      // mac over 2 rows of 7 channels (one vector and three single lanes per row)
      fill(0, 16, 1); fill(100, 16, 2); fill(200, 16, 3);
      const want = Array.from({ length: 16 }, (_, i) => f32[i]!);
      for (let r = 0; r < 2; r++) for (let j = 0; j < 7; j++) want[r * 8 + j] = f(want[r * 8 + j]! + f(f32[100 + r * 8 + j]! * f32[200 + r * 8 + j]!));
      s.mac(0, 32, 400, 32, 800, 32, 2, 7);
      assert.deepEqual(near(0, 16), want);

      // devSq over 2 rows of 7 channels: the squares of x + C, summed in row order
      fill(600, 16, 17); fill(700, 16, 18); fill(800, 7, 19);
      const wantSq = Array.from({ length: 7 }, (_, j) => f32[600 + j]!);
      for (let r = 0; r < 2; r++) {
        for (let j = 0; j < 7; j++) {
          const d = f(f32[700 + r * 8 + j]! + f32[800 + j]!);
          wantSq[j] = f(wantSq[j]! + f(d * d));
        }
      }
      s.devSq(4 * 600, 4 * 700, 32, 4 * 800, 2, 7);
      assert.deepEqual(near(600, 7), wantSq);

      // centreAffineClamp and bnGradSums over 3 rows of 7 columns (one vector and three single
      // lanes per row), with values on both sides of the bounds and on them: bnGradSums masks dy
      // where centreAffineClamp's pre-activation z is in (0, 1.5], and sums the masked gradient g
      // and g * (x + C) by column, row by row; unmasked, it sums dy and stores nothing
      fill(4000, 21, 13); fill(4100, 7, 14); fill(4200, 7, 15); fill(4300, 21, 16); fill(4600, 7, 20);
      f32[4000] = 0; f32[4001] = 2; f32[4100 + 1] = 0.75; f32[4200 + 1] = 0; f32[4007] = 3; f32[4008] = 0; f32[4200] = 1.5; f32[4100] = 1;
      f32[4600] = 0; f32[4601] = 0;
      fill(5000, 7, 21); fill(5100, 7, 22); fill(5200, 7, 23); fill(5300, 7, 24); f32.fill(-7, 5400, 5421);
      const want1 = near(5000, 7), want2 = near(5100, 7), want3 = near(5200, 7), want4 = near(5300, 7);
      s.centreAffineClamp(4 * 4400, 4 * 4000, 4 * 4600, 4 * 4100, 4 * 4200, 3, 7, 0, 1.5);
      s.centreAffineClamp(4 * 4800, 4 * 4000, 4 * 4600, 4 * 4100, 4 * 4200, 3, 7, -Infinity, Infinity);
      s.bnGradSums(4 * 5000, 4 * 5100, 4 * 4500, 4 * 4300, 4 * 4000, 4 * 4600, 4 * 4100, 4 * 4200, 3, 7, 1.5, 1);
      s.bnGradSums(4 * 5200, 4 * 5300, 4 * 5400, 4 * 4300, 4 * 4000, 4 * 4600, 4 * 4100, 4 * 4200, 3, 7, 1.5, 0);
      const zs: number[] = [];
      for (let r = 0; r < 3; r++) {
        for (let j = 0; j < 7; j++) {
          const c = f(f32[4000 + r * 7 + j]! + f32[4600 + j]!);
          const z = f(f(c * f32[4100 + j]!) + f32[4200 + j]!);
          const dy = f32[4300 + r * 7 + j]!;
          const g = z > 0 && z <= 1.5 ? dy : 0;
          zs.push(z);
          assert.equal(f32[4400 + r * 7 + j], Math.min(Math.max(z, 0), 1.5), `centreAffineClamp [${r}, ${j}]`);
          assert.equal(f32[4800 + r * 7 + j], z, `centreAffineClamp without bounds [${r}, ${j}]`);
          assert.equal(f32[4500 + r * 7 + j], g, `bnGradSums' masked gradient [${r}, ${j}]`);
          want1[j] = f(want1[j]! + g);
          want2[j] = f(want2[j]! + f(g * c));
          want3[j] = f(want3[j]! + dy);
          want4[j] = f(want4[j]! + f(dy * c));
        }
      }
      assert.ok(zs.includes(0) && zs.includes(1.5) && zs.some((z) => z > 1.5) && zs.some((z) => z < 0), 'both bounds and both sides are covered');
      assert.deepEqual([near(5000, 7), near(5100, 7)], [want1, want2], 'masked column sums');
      assert.deepEqual([near(5200, 7), near(5300, 7)], [want3, want4], 'unmasked column sums');
      assert.deepEqual(near(5400, 21), Array(21).fill(-7), 'unmasked, nothing is stored');

      // centreAffine over 2 rows of 6 columns, in place (out = p)
      fill(1000, 12, 4); fill(1100, 12, 5); fill(1200, 6, 6); fill(1300, 6, 7); fill(1400, 6, 8); fill(1600, 6, 25);
      const p0 = near(1000, 12);
      s.centreAffine(4 * 1000, 4 * 1000, 4 * 1100, 4 * 1600, 4 * 1200, 4 * 1300, 4 * 1400, 2, 6);
      for (let r = 0; r < 2; r++) {
        for (let j = 0; j < 6; j++) {
          const c = f(f32[1100 + r * 6 + j]! + f32[1600 + j]!);
          const e = f(f(f(p0[r * 6 + j]! * f32[1200 + j]!) + f(c * f32[1300 + j]!)) + f32[1400 + j]!);
          assert.equal(f32[1000 + r * 6 + j], e, `centreAffine [${r}, ${j}]`);
        }
      }

      // reluGrad over 11 elements (two vectors and three single lanes) with an upper bound of 1.5
      fill(2000, 11, 9); fill(2100, 11, 10);
      s.reluGrad(4 * 2000, 4 * 2100, 4 * 2200, 11, 1.5);
      for (let i = 0; i < 11; i++) {
        const x = f32[2000 + i]!;
        assert.equal(f32[2200 + i], x > 0 && x <= 1.5 ? f32[2100 + i] : 0, `reluGrad [${i}]`);
      }

      // outer4 over 2 quads equals outer over the same 8 rows, bit for bit, and both the documented sum
      const [m, n] = [3, 6];
      fill(3000, 8 * m, 11); fill(3100, 8 * n, 12);
      f32.fill(0, 3200, 3200 + m * n);
      f32.fill(0, 3300, 3300 + m * n);
      s.outer(4 * 3200, 4 * 3000, 4 * m, 4 * 3100, 4 * n, 8, m, n);
      s.outer4(4 * 3300, 4 * 3000, 4 * m, 4 * 3100, 4 * n, 2, m, n);
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < n; j++) {
          let e = 0;
          for (let r = 0; r < 8; r++) e = f(e + f(f32[3000 + r * m + i]! * f32[3100 + r * n + j]!));
          assert.equal(f32[3200 + i * n + j], e, `outer [${i}, ${j}]`);
          assert.equal(f32[3300 + i * n + j], e, `outer4 [${i}, ${j}]`);
        }
      }
    });
  }

  test('wasm/simd-kernels.ts holds what wabt compiles wasm/simd-kernels.wat to (npm run generate:wasm)', async () => {
    const { plain, shared } = await compileSimdKernels();
    assert.equal(Buffer.from(plain).toString('base64'), SIMD_KERNELS_WASM);
    assert.equal(Buffer.from(shared).toString('base64'), SIMD_KERNELS_SHARED_WASM);
  });
});
