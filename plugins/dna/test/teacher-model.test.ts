import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as tfl from '@tensorflow/tfjs-layers';
import type * as tfc from '@tensorflow/tfjs-core';
import type { EngineRuntime } from '@supernetd/engine';
import { smallTrainingRuntime } from '@supernetd/server/testing';
import { DnaStrategy, encodings, parseDnaConfig } from '../src/index.ts';

describe('DNA with a pre-trained TF.js LayersModel teacher', () => {
  let rt: EngineRuntime;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'supernetd-dna-teacher-'));
  const modelPath = path.join(dir, 'model.json');
  const taps = ['tap0', 'tap1', 'tap2', 'tap3'];

  before(async () => {
    rt = await smallTrainingRuntime(
      { preset: 'dna-small' },
      { maxTrainExamples: 64, maxTestExamples: 32, totalSteps: 4, optimizer: { kind: 'sgd', learningRate: 0.05 } },
    );
    // A small stand-in for a trained teacher: named layers at dna-small's block boundaries
    // (14x14x24, 7x7x40, 4x4x80, 4x4x128 for 28x28 inputs), saved as model.json + weights.bin.
    const input = tfl.input({ shape: [28, 28, 1] });
    let h = input as tfl.SymbolicTensor;
    const specs: [number, number][] = [
      [24, 2],
      [40, 2],
      [80, 2],
      [128, 1],
    ];
    specs.forEach(([filters, strides], i) => {
      h = tfl.layers.conv2d({ filters, kernelSize: 3, strides, padding: 'same', activation: 'relu', name: taps[i] as string }).apply(h) as tfl.SymbolicTensor;
    });
    const out = tfl.layers.dense({ units: 10 }).apply(tfl.layers.flatten().apply(h)) as tfl.SymbolicTensor;
    const model = tfl.model({ inputs: input, outputs: out });
    await model.save(
      rt.engine.tf.io.withSaveHandler(async (a: tfc.io.ModelArtifacts) => {
        writeFileSync(modelPath, JSON.stringify({ modelTopology: a.modelTopology, weightsManifest: [{ paths: ['weights.bin'], weights: a.weightSpecs }] }));
        writeFileSync(path.join(dir, 'weights.bin'), Buffer.from(a.weightData as ArrayBuffer));
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
    );
    model.dispose();
  });
  after(() => {
    rt?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('skips the teacher phase, distils block by block from the model\'s taps and rates every candidate', async () => {
    const s = new DnaStrategy(rt.space, parseDnaConfig({ teacherModel: modelPath, teacherTaps: taps, stepsPerBlock: 1, ratingBatches: 1 }), 2, 4);
    assert.equal(s.teacherSteps, 0);
    for (let step = 0; step < 2; step++) {
      assert.equal(s.phase({ step, totalSteps: 4, stepsPerEpoch: 4 }), `block-${step}`);
      const batch = rt.nextTrainBatch();
      const log = await s.trainStep(rt.engine, batch, { step, totalSteps: 4, stepsPerEpoch: 4 });
      batch.x.dispose();
      batch.y.dispose();
      assert.ok(Number.isFinite(log.losses['mse']) && (log.losses['mse'] as number) > 0);
    }
    const r = s.state().ratings;
    assert.equal(r[0]?.candidates.length, encodings([4, 4]).length);
    assert.equal(r[1]?.candidates.length, encodings([4, 4, 4]).length);
    assert.ok(r[1]?.candidates.every((c) => Number.isFinite(c.loss)));
  });

  it('names a tap the model does not have', async () => {
    const s = new DnaStrategy(rt.space, parseDnaConfig({ teacherModel: modelPath, teacherTaps: ['tap0', 'nope', 'tap2', 'tap3'] }), 2, 4);
    const batch = rt.nextTrainBatch();
    await assert.rejects(Promise.resolve(s.trainStep(rt.engine, batch, { step: 0, totalSteps: 4, stepsPerEpoch: 4 })), /teacherTaps\[1\]/);
    batch.x.dispose();
    batch.y.dispose();
  });
});
