// trainAlone through the service's retraining (ExperimentSpec.retrain, SCRATCH): the result shape,
// a retrained experiment with the derived one-subnet space, and no temporary source left behind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RetrainInit } from '@supernetd/client';
import { resolveSpace } from '@supernetd/engine/space';
import { startInProcessServer } from '@supernetd/server';
import { searchClient } from '../src/search-client.ts';
import { trainAlone } from '../src/train-alone.ts';

test('trainAlone retrains the architecture from scratch through ExperimentSpec.retrain', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'train-alone-'));
  const server = await startInProcessServer(dir);
  const api = searchClient(server.address);
  try {
    const space = { preset: 'mbv1-small' };
    const min = resolveSpace(space).minArch();
    const arch = { resolution: min.resolution, width: { ...min.width } };
    const r = await trainAlone(api, arch, {
      space,
      steps: 4,
      batchSize: 16,
      seed: 3,
      dataset: { name: 'fashion-mnist', maxTrainExamples: 128, maxTestExamples: 32 },
      maxTestExamples: 32,
    });
    assert.equal(r.examples, 32);
    assert.ok(r.accuracy >= 0 && r.accuracy <= 1 && Number.isFinite(r.loss));
    assert.ok(r.flops > 0 && r.params > 0 && r.trainSeconds > 0);
    const e = await api.getExperiment(r.experimentId);
    assert.equal(e.step, 4n);
    assert.equal(e.spec?.retrain?.init, RetrainInit.SCRATCH);
    assert.equal(e.spec?.searchSpace?.preset, 'custom');
    assert.deepEqual({ ...e.spec?.retrain?.sourceArchitecture?.widths }, arch.width);
    assert.deepEqual(await readdir(join(dir, 'experiments')), [r.experimentId], 'the temporary source is deleted');
  } finally {
    api.close();
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  }
});
