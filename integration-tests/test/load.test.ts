// Load: 32 concurrent clients, each on its own connection, call SampleSubnet and ReportMetric a
// bounded number of times while a Train stream runs on the same experiment. No call may fail, the
// latencies are printed (p50/p90/p99; printed, never asserted), and the experiment worker's live
// tensor count (the server's supernetd_live_tensors gauge) is no higher after the load than before.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { ExperimentState } from '@supernetd/client';
import type { SupernetdClient } from '@supernetd/client';
import {
  connectClient,
  experimentGauge,
  followTrain,
  formatLatency,
  looseFlopsConstraint,
  makeDataDir,
  removeDataDir,
  scrapeMetrics,
  smallSpec,
  summarizeLatency,
  SupernetdContainer,
  waitForReady,
} from '../src/index.ts';

const CLIENTS = 32;
const ROUNDS_PER_CLIENT = 15;
const EXPERIMENT = 'load';

let dataDir: string;
let server: SupernetdContainer;

before(async () => {
  dataDir = await makeDataDir('load');
  server = await SupernetdContainer.start({ dataDir });
});

after(async () => {
  await server?.remove();
  await removeDataDir(dataDir);
});

async function liveTensors(): Promise<number> {
  const v = experimentGauge(await scrapeMetrics(server.metricsPort), 'supernetd_live_tensors', EXPERIMENT);
  assert.ok(v !== undefined, 'supernetd_live_tensors is reported for the experiment');
  return v;
}

test(`${CLIENTS} concurrent clients sample and report while a Train stream runs`, async () => {
  const admin = connectClient(server.address);
  const clients: SupernetdClient[] = [];
  try {
    await waitForReady(admin);
    await admin.createExperiment({ experimentId: EXPERIMENT, spec: smallSpec({ name: 'load', checkpointInterval: 10 }) });
    // Warm up: the first steps create the optimizer's slots and load the data.
    await admin.trainStep({ experimentId: EXPERIMENT, input: { case: 'steps', value: 2 } });
    const tensorsBefore = await liveTensors();

    const stopTrain = new AbortController();
    const train = admin.train({ experimentId: EXPERIMENT, steps: 100_000, progressInterval: 1 }, { signal: stopTrain.signal });
    const following = followTrain(train, (_e, log) => log.events.length >= 1);
    const first = await following.reached;
    assert.equal(first.error, undefined, `Train: ${first.error?.message}`);

    for (let i = 0; i < CLIENTS; i++) clients.push(connectClient(server.address, { ownConnection: true }));
    await Promise.all(clients.map((c) => waitForReady(c)));
    const sampleMs: number[] = [];
    const reportMs: number[] = [];
    const errors: string[] = [];
    const t0 = performance.now();
    await Promise.all(
      clients.map(async (c, i) => {
        for (let round = 0; round < ROUNDS_PER_CLIENT; round++) {
          try {
            let t = performance.now();
            const subnets = await c.sampleSubnet({ experimentId: EXPERIMENT, constraint: looseFlopsConstraint(), clientId: `load-${i}` });
            sampleMs.push(performance.now() - t);
            assert.equal(subnets.length, 1);
            t = performance.now();
            await c.reportMetric({
              experimentId: EXPERIMENT,
              subnetId: subnets[0]!.id,
              metrics: { accuracy: ((i * ROUNDS_PER_CLIENT + round) % 97) / 97 },
              clientId: `load-${i}`,
            });
            reportMs.push(performance.now() - t);
          } catch (err) {
            errors.push(`client ${i} round ${round}: ${(err as Error).message}`);
          }
        }
      }),
    );
    const seconds = (performance.now() - t0) / 1000;
    stopTrain.abort();
    const trainLog = await following.done;

    console.log(`# ${CLIENTS} clients x ${ROUNDS_PER_CLIENT} rounds in ${seconds.toFixed(1)} s while training`);
    console.log(`# SampleSubnet ${formatLatency(summarizeLatency(sampleMs))}`);
    console.log(`# ReportMetric ${formatLatency(summarizeLatency(reportMs))}`);
    console.log(`# Train stream: ${trainLog.events.length} progress events, steps ${first.events[0]!.step}..${trainLog.events.at(-1)!.step}`);
    assert.deepEqual(errors, [], 'no call failed');
    assert.equal(sampleMs.length, CLIENTS * ROUNDS_PER_CLIENT);
    assert.equal(reportMs.length, CLIENTS * ROUNDS_PER_CLIENT);
    assert.ok(
      trainLog.error === undefined || trainLog.error.code === grpc.status.CANCELLED,
      `the Train stream ends only by our cancel: ${trainLog.error?.message}`,
    );
    assert.ok(trainLog.events.length >= 2, 'training made progress during the load');

    const records = await admin.listMetrics({ experimentId: EXPERIMENT });
    assert.equal(records.filter((r) => r.clientId.startsWith('load-')).length, CLIENTS * ROUNDS_PER_CLIENT, 'every metric is stored');

    // Wait for the cancelled Train call to wind down, then compare at the same point of a step.
    for (let i = 0; i < 100; i++) {
      const exp = await admin.getExperiment(EXPERIMENT);
      if (exp.state !== ExperimentState.TRAINING) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    await admin.trainStep({ experimentId: EXPERIMENT, input: { case: 'steps', value: 1 } });
    const tensorsAfter = await liveTensors();
    console.log(`# live tensors in the worker: ${tensorsBefore} before, ${tensorsAfter} after`);
    assert.ok(tensorsAfter <= tensorsBefore, `live tensors grew from ${tensorsBefore} to ${tensorsAfter}`);
  } finally {
    for (const c of clients) c.close();
    admin.close();
  }
});
