// One copy of each dataset per process: experiment workers on the same dataset source read the
// same shared memory instead of loading it again, over a real socket with real workers.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startServer } from '../src/index.ts';
import { processDatasets } from '../src/worker/dataset-shelf.ts';
import { connectClient, tempDir, tinySpec } from './helpers.ts';

const FASHION_MNIST = 'builtin:fashion-mnist';

test('two experiments on one dataset load it once; the shelf lets go when their workers end', async () => {
  const data = tempDir();
  const server = await startServer({ port: 0, dataDir: data.dir, logLevel: 'warn', backend: 'wasm' });
  const client = connectClient(server.address);
  try {
    const loads = processDatasets.loads();
    // different seeds and caps: each experiment has its own order and slice of the same pixels
    const a = tinySpec({ seed: 1 });
    const b = tinySpec({ seed: 2 });
    b.training.dataset.maxTrainExamples = 512;
    await client.createExperiment({ experimentId: 'share-a', spec: a });
    await client.trainStep({ experimentId: 'share-a', input: { case: 'steps', value: 1 } });
    assert.equal(processDatasets.loads(), loads + 1, 'the first worker reads fashion-mnist');
    assert.equal(processDatasets.users(FASHION_MNIST), 1);
    await client.createExperiment({ experimentId: 'share-b', spec: b });
    const stepped = await client.trainStep({ experimentId: 'share-b', input: { case: 'steps', value: 1 } });
    assert.equal(stepped.step, 1n);
    assert.equal(processDatasets.loads(), loads + 1, 'the second worker reuses the first one\'s copy');
    assert.equal(processDatasets.users(FASHION_MNIST), 2);
    const [shared] = processDatasets.available();
    assert.ok(shared?.train.pixels.buffer instanceof SharedArrayBuffer, 'the pixels are in shared memory');
  } finally {
    client.close();
    await server.stop();
    data.remove();
  }
  assert.equal(processDatasets.users(FASHION_MNIST), 0, 'stopped workers release the dataset');
  assert.deepEqual(processDatasets.available(), []);
});
