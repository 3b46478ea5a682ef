import type { Arch } from '@supernetd/sdk';
import { latencyKey } from '../space/index.ts';
import type { LatencyTable } from '../space/index.ts';
import { channelSelector } from './channel-select.ts';
import type { Supernet } from './supernet.ts';

/**
 * Measures, on this host and backend, the inference latency (ms, batch 1, median of `repeats`)
 * of every distinct layer shape the given archs use, keyed by `latencyKey`. Pass the table to
 * `resolveSpace(spec, { latencyTable })` so `cost().latency` sums it (PSS-Net's per-block LUT).
 * Entries already in `into` are kept. Leaves the number of live tensors unchanged.
 */
export function measureLatencyTable(net: Supernet, archs: readonly Arch[], opts: { repeats?: number; into?: LatencyTable } = {}): LatencyTable {
  const tf = net.tf;
  const repeats = opts.repeats ?? 5;
  const table: LatencyTable = { ...opts.into };
  for (const arch of archs) {
    net.space.validateArch(arch);
    for (const s of net.space.layerShapes(arch)) {
      const key = latencyKey(s);
      if (table[key] !== undefined) continue;
      const times: number[] = [];
      tf.tidy(() => {
        const { selOf } = channelSelector(tf, arch);
        const x = s.layer.kind === 'linear' ? tf.zeros([1, s.cin]) : tf.zeros([1, s.inSize, s.inSize, s.cin]);
        for (let i = 0; i <= repeats; i++) {
          const t0 = performance.now();
          tf.tidy(() => {
            net.runLayer(s.layer, arch, x, selOf, false).dataSync();
          });
          if (i > 0) times.push(performance.now() - t0); // the first run warms kernels up
        }
      });
      times.sort((a, b) => a - b);
      table[key] = times[Math.floor(times.length / 2)] as number;
    }
  }
  return table;
}
