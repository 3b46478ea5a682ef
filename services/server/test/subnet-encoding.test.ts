// SampleSubnet's direct encoder (grpc/subnet-encoding.ts) gives the bytes of protobuf-es's create +
// toBinary of the same subnets: random subnets of every preset, with channel indices, ops, costs and
// scores of every kind (zero, -0, NaN, negative, huge), unicode keys and empty strings.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { create, toBinary } from '@bufbuild/protobuf';
import { SampleSubnetResponseSchema } from '@supernetd/api';
import { listPresets, resolveSpace } from '@supernetd/engine';
import { Rng, randomArch, subnetId } from '@supernetd/sdk';
import type { Arch } from '@supernetd/sdk';
import { subnetToProto } from '../src/grpc/converters.ts';
import { encodeSampleSubnetResponse } from '../src/grpc/subnet-encoding.ts';
import type { EncodableSubnet } from '../src/grpc/subnet-encoding.ts';

const viaProtobufEs = (subnets: EncodableSubnet[]) => Buffer.from(toBinary(SampleSubnetResponseSchema, create(SampleSubnetResponseSchema, { subnets: subnets.map(subnetToProto) })));

const rng = new Rng(7);
const numbers = [0, -0, 1, -1, 0.5, 1e-300, 3.2e12, -7.25, Number.MAX_VALUE, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY];
const pick = <T>(xs: readonly T[]): T => xs[rng.int(xs.length)] as T;
const int32s = [0, 1, 127, 128, 16383, 16384, 2 ** 31 - 1, -1, -128, -(2 ** 31)];

/** A subnet of `arch` with costs, score, id and source drawn from edge cases and random values. */
function subnetOf(arch: Arch): EncodableSubnet {
  const num = () => (rng.next() < 0.5 ? pick(numbers) : rng.next() * 1e9);
  return {
    id: rng.next() < 0.1 ? '' : subnetId(arch),
    arch,
    cost: { flops: num(), params: num(), latency: num() },
    source: pick(['space', '', 'pool:flops:8000000', 'ünïcødé ✓ 🙂', 'x'.repeat(300)]),
    score: num(),
  };
}

test('the direct encoding equals protobuf-es create + toBinary on random subnets of every preset', () => {
  let compared = 0;
  for (const { name } of listPresets()) {
    const space = resolveSpace({ preset: name } as never);
    for (let i = 0; i < 60; i++) {
      const arch = randomArch(space, rng);
      if (i % 3 === 1) {
        // CafeNet's explicit channel indices (some lists empty, some with values past one byte)
        arch.channelIdx = Object.fromEntries(
          space.widthChoices.slice(0, 1 + rng.int(Math.max(1, space.widthChoices.length))).map((w) => [w.id, Array.from({ length: rng.int(4) === 0 ? 0 : Math.min(arch.width[w.id] ?? 1, 40) }, (_, j) => j * (1 + rng.int(200)))]),
        );
      }
      if (i % 4 === 2) arch.op = { ...(arch.op ?? {}), '7': rng.int(5), 'bl😀ck': 0 };
      const subnets = Array.from({ length: 1 + rng.int(3) }, () => subnetOf(i % 5 === 0 ? arch : randomArch(space, rng)));
      const mine = encodeSampleSubnetResponse(subnets);
      assert.ok(mine, `${name}: no direct encoding`);
      assert.deepEqual(mine, viaProtobufEs(subnets), `${name}: ${JSON.stringify(subnets.map((s) => s.arch))}`);
      compared++;
    }
  }
  assert.ok(compared >= 60 * 3, `only ${compared} cases`);
});

test('edge values of every field encode as protobuf-es does', () => {
  const cases: EncodableSubnet[][] = [[]];
  for (const v of int32s) {
    cases.push([{ id: 'sn-1', arch: { resolution: v, width: { a: v, [String(v >>> 0)]: v, '': 3 }, op: { o: v }, channelIdx: { c: [v, 0, v], e: [] } }, cost: { flops: 0, params: -0, latency: v }, source: 's', score: -0 }]);
  }
  cases.push([{ id: '', arch: { resolution: 0, width: {} }, cost: { flops: 0, params: 0, latency: 0 }, source: '', score: 0 }]);
  cases.push([{ id: 'a\u{d800}b', arch: { resolution: 32, width: { ['k'.repeat(200)]: 1 } }, cost: { flops: 1, params: 2, latency: 3 }, source: '\u{dfff}', score: Number.NaN }]);
  // an architecture large enough that lengths take two and three bytes
  const wide: Record<string, number> = {};
  for (let i = 0; i < 3000; i++) wide[`w${i}`] = i * 37;
  cases.push([{ id: 'big', arch: { resolution: 224, width: wide, channelIdx: { w1: Array.from({ length: 5000 }, (_, i) => i) } }, cost: { flops: 1, params: 1, latency: 1 }, source: 'space', score: 1 }]);
  for (const subnets of cases) assert.deepEqual(encodeSampleSubnetResponse(subnets), viaProtobufEs(subnets), JSON.stringify(subnets).slice(0, 200));
});

test('a subnet the encoder cannot judge is left to protobuf-es', () => {
  const ok: EncodableSubnet = { id: 'sn-1', arch: { resolution: 32, width: { a: 8 } }, cost: { flops: 1, params: 2, latency: 0 }, source: 'space', score: 0 };
  assert.ok(encodeSampleSubnetResponse([ok]));
  const bad: EncodableSubnet[] = [
    { ...ok, arch: { resolution: 32, width: { a: 8.5 } } },
    { ...ok, arch: { resolution: 2 ** 31, width: { a: 8 } } },
    { ...ok, arch: { resolution: 32, width: {}, op: { o: Number.NaN } } },
    { ...ok, arch: { resolution: 32, width: {}, channelIdx: { c: [1, 1.5] } } },
    { ...ok, cost: { flops: 1, params: 2 } as never },
    { ...ok, source: 3 as never },
  ];
  for (const b of bad) assert.equal(encodeSampleSubnetResponse([ok, b]), undefined, JSON.stringify(b));
});
