// loadExportedModel: an export loads back with stock tfjs-layers from memory, from the files as
// exportSubnet returns them or as a map of paths (what a client or a directory gives), with the
// weights split over several files, and a broken export is refused with InvalidArgumentError.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { InvalidArgumentError } from '@supernetd/sdk';
import type { Arch } from '@supernetd/sdk';
import type { ExportedFileData } from '../src/index.ts';
import { resolveSpace } from '../src/space/index.ts';
import { exportSubnet, loadExportedModel } from '../src/runtime/export-subnet.ts';
import type { Engine } from '../src/training/engine.ts';
import { bareEngine, seeded } from './helpers.ts';

describe('loadExportedModel', () => {
  let engine: Engine;
  let arch: Arch;
  let files: ExportedFileData[];
  const enc = new TextEncoder();
  const json = (f: readonly ExportedFileData[]) => JSON.parse(new TextDecoder().decode(f.find((x) => x.path === 'model.json')!.data)) as Record<string, unknown>;
  const withModelJson = (value: unknown): ExportedFileData[] => [...files.filter((f) => f.path !== 'model.json'), { path: 'model.json', data: enc.encode(JSON.stringify(value)) }];

  before(async () => {
    await tf.setBackend('cpu');
    const space = resolveSpace({ preset: 'mbv2-small' });
    engine = bareEngine(space);
    arch = { ...space.minArch(), resolution: 24 };
    ({ files } = await exportSubnet(tf, engine.supernet, arch));
  });
  after(() => engine?.dispose());

  /** Asserts that the loaded model computes what the supernet does, and that loading leaks no tensor. */
  async function check(load: Promise<LayersModel>): Promise<void> {
    const before = tf.memory().numTensors;
    const model = await load;
    const diff = tf.tidy(() => {
      const x = seeded([2, arch.resolution, arch.resolution, 1], 3, 1) as tf.Tensor4D;
      const want = engine.supernet.forward(arch, x, { training: false });
      return tf.max(tf.abs(tf.sub(model.predict(x) as tf.Tensor, want))).dataSync()[0] as number;
    });
    model.dispose();
    assert.ok(diff < 1e-4, `the loaded model differs from the supernet by ${diff}`);
    assert.equal(tf.memory().numTensors, before, 'loading leaked tensors');
  }

  it("loads exportSubnet's files, as a list or as a map by path", async () => {
    await check(loadExportedModel(files));
    await check(loadExportedModel(new Map(files.map((f) => [f.path, f.data]))));
  });

  it('joins weights that the manifest splits over several files, in manifest order', async () => {
    const m = json(files) as { weightsManifest: { paths: string[]; weights: unknown[] }[] };
    const bin = files.find((f) => f.path === 'weights.bin')!.data;
    const cut = 1000;
    const split = [
      ...withModelJson({ ...m, weightsManifest: [{ ...m.weightsManifest[0], paths: ['group1-shard1of2.bin', 'group1-shard2of2.bin'] }] }).filter((f) => f.path !== 'weights.bin'),
      { path: 'group1-shard2of2.bin', data: bin.subarray(cut) },
      { path: 'group1-shard1of2.bin', data: bin.subarray(0, cut) },
    ];
    await check(loadExportedModel(split));
  });

  it('refuses an export without model.json, with a model.json that is not a layers model, or without a weight file it names', async () => {
    const refuses = (f: readonly ExportedFileData[], pattern: RegExp) =>
      assert.rejects(loadExportedModel(f), (e: unknown) => e instanceof InvalidArgumentError && e.code === 'INVALID_ARGUMENT' && pattern.test(e.message));
    await refuses(files.filter((f) => f.path !== 'model.json'), /the export has no model\.json/);
    await refuses([...files.filter((f) => f.path !== 'model.json'), { path: 'model.json', data: enc.encode('{"modelTopology": ') }], /model\.json is not JSON/);
    const m = json(files);
    await refuses(withModelJson({ ...m, weightsManifest: undefined }), /not a TF\.js layers model/);
    await refuses(withModelJson({ ...m, modelTopology: 'graph' }), /not a TF\.js layers model/);
    await refuses(files.filter((f) => f.path !== 'weights.bin'), /names weight file 'weights\.bin', which is not in the export/);
  });
});
