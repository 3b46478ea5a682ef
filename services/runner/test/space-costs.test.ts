import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveSpace } from '@supernetd/engine/space';
import { singleArchDefinition } from '@supernetd/engine/space';
import { spaceFlopsRange } from '@supernetd/server';
import { defaultBudgets, roundSignificant } from '../src/space-costs.ts';

test('mbv2-small cost range and the default budgets inside it', () => {
  const r = spaceFlopsRange({ preset: 'mbv2-small' });
  const space = resolveSpace({ preset: 'mbv2-small' });
  assert.equal(r.minFlops, space.cost(space.minArch()).flops);
  assert.equal(r.maxFlops, space.cost(space.maxArch()).flops);
  const b = defaultBudgets(r.minFlops, r.maxFlops);
  assert.equal(b.length, 3);
  assert.ok(b.every((x, i) => x > r.minFlops && x < r.maxFlops && (i === 0 || x > b[i - 1]!)));
  assert.deepEqual(defaultBudgets(0, 4e6), [1e6, 2e6, 3e6]);
  assert.equal(roundSignificant(3581234), 3580000);
});

test('dna-small range picks the cheapest and dearest op per layer, not op 0', () => {
  const r = spaceFlopsRange({ preset: 'dna-small' });
  const space = resolveSpace({ preset: 'dna-small' });
  const op0 = space.cost(space.maxArch()).flops;
  assert.ok(r.minFlops < op0 && op0 < r.maxFlops);
});

test('singleArchDefinition: a space whose only subnet is the architecture, at the same cost', () => {
  const ref = { preset: 'mbv2-small' };
  const space = resolveSpace(ref);
  const arch = { resolution: 24, width: { stem: 8, s1: 16, s2: 16, s3: 24, s4: 40, s5: 56 } };
  const one = resolveSpace({ preset: 'custom', overrides: { definition: singleArchDefinition(ref, arch) } });
  assert.deepEqual(one.maxArch(), one.minArch());
  assert.deepEqual(one.maxArch(), arch);
  assert.deepEqual(one.cost(arch), space.cost(arch));

  const dref = { preset: 'dna-small' };
  const dspace = resolveSpace(dref);
  const darch = { resolution: 28, width: {}, op: Object.fromEntries(dspace.opLayerIds.map((id, i) => [id, i % 4])) };
  const done = resolveSpace({ preset: 'custom', overrides: { definition: singleArchDefinition(dref, darch) } });
  assert.deepEqual(done.cost(done.maxArch()), dspace.cost(darch));
  assert.throws(() => singleArchDefinition(ref, { resolution: 24, width: { stem: 8 } }), /width for 's1'/);
});
