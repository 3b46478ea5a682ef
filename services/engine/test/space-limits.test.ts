// Absurd sizes are refused while the space resolves (hard bounds) or against the configured
// limits (estimate), quickly and without allocating.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidArgumentError, ResourceExhaustedError } from '@supernetd/sdk';
import { DEFAULT_SPACE_LIMITS, checkSpaceLimits, listPresets, resolveSpace, spaceFootprint } from '@supernetd/engine/space';
import type { SpaceDefinition } from '@supernetd/engine/space';

function custom(widths: SpaceDefinition['widths'], out: string | number = 'a'): Record<string, unknown> {
  const def: SpaceDefinition = {
    name: 'big',
    inputShape: [8, 8, 3],
    numClasses: 10,
    resolutions: [8],
    widths,
    blocks: [{ id: 'b0', layers: [{ type: 'conv', id: 'c', out, kernel: 3 }] }],
    tail: [
      { type: 'pool', id: 'pool' },
      { type: 'linear', id: 'fc' },
    ],
  };
  return { definition: def as unknown as Record<string, unknown> };
}

function refusedQuickly(fn: () => unknown, cls: typeof InvalidArgumentError | typeof ResourceExhaustedError, pattern: RegExp) {
  const t0 = Date.now();
  assert.throws(fn, (e: unknown) => e instanceof cls && pattern.test((e as Error).message));
  assert.ok(Date.now() - t0 < 1000, `took ${Date.now() - t0} ms`);
}

test('a huge inputShape override is refused before the preset builds lists from it', () => {
  refusedQuickly(() => resolveSpace({ preset: 'mobilenet_v2', overrides: { inputShape: [1e12, 1e12, 3] } }), InvalidArgumentError, /inputShape.*limit/);
  refusedQuickly(() => resolveSpace({ preset: 'mbv1-small', overrides: { inputShape: [28, 28, 1e9] } }), InvalidArgumentError, /limit/);
});

test('a width with an enormous maxMult is refused at once instead of looping', () => {
  refusedQuickly(() => resolveSpace({ preset: 'custom', overrides: custom([{ id: 'a', base: 8, maxMult: 1e12 }]) }), InvalidArgumentError, /maxMult.*limit/);
  refusedQuickly(() => resolveSpace({ preset: 'custom', overrides: custom([{ id: 'a', base: 8, maxMult: Infinity }]) }), InvalidArgumentError, /maxMult/);
  refusedQuickly(() => resolveSpace({ preset: 'custom', overrides: custom([{ id: 'a', base: 1e9 }]) }), InvalidArgumentError, /base.*limit/);
});

test('numClasses, fixed outs and resolutions beyond the hard bounds are refused', () => {
  refusedQuickly(() => resolveSpace({ preset: 'mbv1-small', overrides: { numClasses: 1e15 } }), InvalidArgumentError, /numClasses.*limit/);
  refusedQuickly(() => resolveSpace({ preset: 'custom', overrides: custom([], 1e9) }), InvalidArgumentError, /out .*limit/);
  refusedQuickly(() => resolveSpace({ preset: 'mbv1-small', overrides: { resolutions: [1e6] } }), InvalidArgumentError, /resolutions.*limit/);
});

test('the configured limits refuse a 1e6-channel width, a 4096 resolution and a huge numClasses, naming the limit', () => {
  const L = DEFAULT_SPACE_LIMITS;
  const wide = resolveSpace({ preset: 'custom', overrides: custom([{ id: 'a', base: 1_000_000, candidates: [1_000_000] }]) });
  refusedQuickly(() => checkSpaceLimits(wide, L, 64), InvalidArgumentError, /maxSpaceChannels \(32768\)/);
  const res = resolveSpace({ preset: 'mbv1-small', overrides: { resolutions: [4096] } });
  refusedQuickly(() => checkSpaceLimits(res, L, 64), InvalidArgumentError, /maxSpaceResolution \(1024\)/);
  refusedQuickly(() => checkSpaceLimits(res, { ...L, maxResolution: 8192 }, 64), ResourceExhaustedError, /maxSpaceFlops/);
  const classes = resolveSpace({ preset: 'mbv1-small', overrides: { numClasses: 30_000 } });
  refusedQuickly(() => checkSpaceLimits(classes, { ...L, maxParams: 1_000_000 }, 64), ResourceExhaustedError, /maxSpaceParams \(1000000\)/);
  const mbv2 = resolveSpace({ preset: 'mbv2-small' });
  refusedQuickly(() => checkSpaceLimits(mbv2, L, 100_000), ResourceExhaustedError, /batch size 100000.*maxTrainingMemoryBytes/);
});

test('every preset fits the default limits at batch size 64', () => {
  for (const p of listPresets()) {
    const space = resolveSpace({ preset: p.name });
    const f = checkSpaceLimits(space, DEFAULT_SPACE_LIMITS, 64);
    assert.deepEqual(f, spaceFootprint(space, 64));
    assert.ok(f.params > 0 && f.flops > 0 && f.trainingMemoryBytes > 0, p.name);
  }
});
