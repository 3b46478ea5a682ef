import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resolveSpace } from '@supernetd/engine/space';
import { Rng } from '@supernetd/sdk';
import {
  CafeNetStrategy,
  allPlacements,
  binChannels,
  flopsSensitiveBins,
  fromArch,
  localZone,
  parseCafeNetConfig,
  placementCount,
  samplePlacements,
  toArch,
} from '../src/index.ts';
import type { BinWidth } from '../src/index.ts';

describe('CafeNet bins and placements', () => {
  for (const preset of ['mbv2-small', 'mbv1-small']) {
    const space = resolveSpace({ preset });
    const bins = flopsSensitiveBins(space, 8);

    it(`${preset}: the bins of every width choice partition its channels exactly`, () => {
      assert.equal(bins.length, space.widthChoices.length);
      for (const b of bins) {
        const all = binChannels(b, b.starts.map((_, k) => k));
        assert.deepEqual(all, Array.from({ length: b.max }, (_, i) => i), `choice ${b.id}`);
        b.sizes.forEach((s, k) => {
          assert.ok(s >= 1 && s <= b.binSize);
          if (k < b.sizes.length - 1) assert.equal(s, b.binSize, 'only the last bin may be short');
        });
      }
    });

    it(`${preset}: bin sizes follow the FLOPs per channel (a costlier channel gets a smaller bin)`, () => {
      const elastic = bins.filter((b) => b.flopsPerChannel > 0 && b.binSize > 1 && b.binSize < b.max);
      for (const a of elastic) {
        for (const b of elastic) {
          if (a.flopsPerChannel > b.flopsPerChannel * 1.5) assert.ok(a.binSize <= b.binSize, `${a.id} vs ${b.id}`);
        }
      }
      // Every elastic bin changes FLOPs by about the same amount: within a factor 2 of each other, up to rounding.
      const perBin = elastic.map((b) => b.binSize * b.flopsPerChannel);
      assert.ok(Math.max(...perBin) / Math.min(...perBin) < 4, `per-bin FLOPs spread ${perBin.join(', ')}`);
    });

    it(`${preset}: placements keep the base bins and put the free ones inside the local zone`, () => {
      const rng = new Rng(7);
      const s = new CafeNetStrategy(space, parseCafeNetConfig({}), 1);
      for (let t = 0; t < 50; t++) {
        const w = s.randomWidth(rng);
        for (const p of samplePlacements(bins, w, 1, 4, rng)) {
          const arch = toArch(bins, w, p, 1);
          space.validateArch(arch);
          for (const b of bins) {
            const c = w.bins[b.id] as number;
            const zone = localZone(c, b.starts.length, 1);
            const kept = (p[b.id] ?? []).concat(zone.base);
            assert.equal(kept.length, c, 'a width of c bins keeps c bins');
            for (const k of p[b.id] ?? []) assert.ok(k >= c - 1 && k < Math.min(c + 1, b.starts.length), `free bin ${k} outside the zone of c=${c}`);
            assert.deepEqual(arch.channelIdx?.[b.id], binChannels(b, kept));
          }
          assert.deepEqual(fromArch(bins, arch, 1), { width: w, placement: p });
        }
      }
    });
  }

  it('local zone with offset r: C(2r, r) placements inside, clipped at the edges', () => {
    assert.deepEqual(localZone(3, 8, 1), { base: [0, 1], zone: [2, 3], free: 1 });
    assert.deepEqual(localZone(8, 8, 1), { base: [0, 1, 2, 3, 4, 5, 6], zone: [7], free: 1 });
    assert.deepEqual(localZone(4, 8, 2), { base: [0, 1], zone: [2, 3, 4, 5], free: 2 });
    assert.deepEqual(localZone(1, 8, 2), { base: [], zone: [0, 1, 2], free: 1 });
    const space = resolveSpace({ preset: 'mbv2-small' });
    const bins = flopsSensitiveBins(space, 8);
    const w: BinWidth = { resolution: 28, bins: Object.fromEntries(bins.map((b) => [b.id, Math.max(b.minBins, 2)])) };
    const n = placementCount(bins, w, 2);
    assert.equal(allPlacements(bins, w, 2).length, n);
    assert.equal(new Set(allPlacements(bins, w, 2).map((p) => JSON.stringify(p))).size, n);
  });
});
