// Idle eviction of experiment workers over a real socket: a worker idle for workerIdleSeconds is
// checkpointed and stopped, reads keep answering, the next call resumes it from that checkpoint with
// the same weights, a running Train stream is never evicted, and 0 turns eviction off.
// Each test owns its server, and waits for the eviction itself (the server's log record of it), never
// for an amount of time to pass, so a busy machine only makes the tests slower.
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { test } from 'node:test';
import { pino } from 'pino';
import { ExperimentState } from '@supernetd/api';
import type { TrainResponse } from '@supernetd/api';
import { startServer } from '../src/index.ts';
import type { RunningServer } from '../src/index.ts';
import { connectClient, scrape, tempDir, tinySpec } from './helpers.ts';
import type { SupernetdClient } from '@supernetd/client';

const IDLE_SECONDS = 1;
const EVICTED = 'idle experiment worker checkpointed and stopped';

/** A server of this test, with the evictions it logged (per experiment) as events to wait on. */
interface TestServer {
  server: RunningServer;
  client: SupernetdClient;
  /** Resolves once `experiment` has been evicted `count` times in all. */
  evicted(experiment: string, count: number): Promise<void>;
  evictionCount(experiment: string): number;
  stop(): Promise<void>;
}

async function start(workerIdleSeconds: number): Promise<TestServer> {
  const data = tempDir();
  const counts = new Map<string, number>();
  const events = new EventEmitter();
  const sink = {
    write(line: string) {
      const rec = JSON.parse(line) as { msg?: string; experiment?: string };
      if (rec.msg === EVICTED && rec.experiment) {
        counts.set(rec.experiment, (counts.get(rec.experiment) ?? 0) + 1);
        events.emit('evicted');
      }
    },
  };
  const server = await startServer(
    { port: 0, dataDir: data.dir, metricsPort: 0, backend: 'wasm', workerIdleSeconds },
    { logger: pino({ level: 'info' }, sink) },
  );
  const client = connectClient(server.address);
  const evictionCount = (experiment: string) => counts.get(experiment) ?? 0;
  return {
    server,
    client,
    evictionCount,
    evicted: (experiment, count) =>
      new Promise((resolve) => {
        const check = () => {
          if (evictionCount(experiment) < count) return;
          events.off('evicted', check);
          resolve();
        };
        events.on('evicted', check);
        check();
      }),
    stop: async () => {
      client.close();
      await server.stop();
      data.remove();
    },
  };
}

const spec = () => tinySpec({ totalSteps: 1000n });

/** The unlabelled `supernetd_live_workers` gauge. */
async function liveWorkers(metricsPort: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('supernetd_live_workers '));
  assert.ok(line, 'supernetd_live_workers is exported');
  return Number(line.split(' ').at(-1));
}

/** Runs a Train stream to its end; each event with the time it arrived. */
async function trainStream(client: SupernetdClient, experimentId: string, steps: number, onEvent?: (e: TrainResponse) => void): Promise<{ event: TrainResponse; at: number }[]> {
  const events: { event: TrainResponse; at: number }[] = [];
  for await (const e of client.train({ experimentId, steps, progressInterval: 1 })) {
    events.push({ event: e, at: performance.now() });
    onEvent?.(e);
  }
  return events;
}

test('an idle worker is checkpointed and stopped; reads still answer and the next call resumes it', async () => {
  const t = await start(IDLE_SECONDS);
  try {
    const { client } = t;
    const EXP = 'evict';
    const port = t.server.metricsPort as number;
    await client.createExperiment({ experimentId: EXP, spec: spec() });
    const trained = await client.trainStep({ experimentId: EXP, input: { case: 'steps', value: 3 } });
    assert.equal(trained.step, 3n);
    const sampled = await client.sampleSubnet({ experimentId: EXP, count: 1 });
    const subnet = sampled[0]!;
    const reported = await client.reportMetric({ experimentId: EXP, subnetId: subnet.id, metrics: { accuracy: 0.25 }, clientId: 't' });
    assert.equal(reported, 1n);
    const evalReq = { experimentId: EXP, target: { case: 'subnetId' as const, value: subnet.id }, maxExamples: 32, skipBnRecalibration: true };
    const before = await client.evaluate(evalReq);

    await t.evicted(EXP, 1);
    assert.equal(await liveWorkers(port), 0, 'the evicted worker is gone');

    const got = await client.getExperiment(EXP);
    assert.equal(got?.state, ExperimentState.READY, 'an evicted experiment stays READY');
    assert.equal(got?.step, 3n);
    assert.equal(got?.checkpointStep, 3n, 'the eviction wrote a checkpoint at the last step');
    const listed = await client.listExperiments();
    assert.ok(listed.some((e) => e.id === EXP), 'an evicted experiment stays listed');
    const again = await client.sampleSubnet({ experimentId: EXP, count: 2 });
    assert.equal(again.length, 2, 'SampleSubnet answers from the replica without a worker');
    const metrics = await client.listMetrics({ experimentId: EXP });
    assert.deepEqual(metrics.map((r) => [r.subnetId, r.values.accuracy]), [[subnet.id, 0.25]]);
    assert.equal(await liveWorkers(port), 0, 'reads do not start the worker');
    assert.equal(await scrape(port, 'supernetd_worker_evictions_total', { experiment: EXP }), 1);

    const afterRestart = await client.evaluate(evalReq);
    assert.equal(afterRestart.accuracy, before.accuracy, 'the resumed worker has the same weights');
    assert.equal(afterRestart.loss, before.loss);
    assert.equal(await liveWorkers(port), 1);

    await t.evicted(EXP, 2);
    const resumed = await client.trainStep({ experimentId: EXP, input: { case: 'steps', value: 1 } });
    assert.equal(resumed.step, 4n, 'training resumes at the evicted step count and continues');
    const view = await client.getExperiment(EXP);
    assert.equal(view?.step, 4n);
    assert.equal(view?.metricCount, 1n);
  } finally {
    await t.stop();
  }
});

test('a Train stream longer than the idle time is never evicted; the worker goes once it is idle', async (tc) => {
  const t = await start(IDLE_SECONDS);
  try {
    const { client } = t;
    const EXP = 'evict-stream';
    const port = t.server.metricsPort as number;
    await client.createExperiment({ experimentId: EXP, spec: spec() });
    // calibration: the time per step of a short stream, to size one that outlasts the idle time
    const warm = await trainStream(client, EXP, 6);
    const perStepMs = Math.max(1, (warm.at(-1)!.at - warm[1]!.at) / Math.max(1, warm.length - 2));
    const steps = Math.min(900, Math.ceil((8 * IDLE_SECONDS * 1000) / perStepMs) + 2);
    const before = t.evictionCount(EXP);

    // observations while the stream runs; judged after it ended, so none can fire later
    const seen: { evictions: number; live: number }[] = [];
    const checks: Promise<void>[] = [];
    const events = await trainStream(client, EXP, steps, (e) => {
      if (!e.done) {
        const evictions = t.evictionCount(EXP);
        checks.push(
          liveWorkers(port).then(
            (live) => void seen.push({ evictions, live }),
            () => undefined,
          ),
        );
      }
    });
    await Promise.all(checks);
    tc.diagnostic(`Train stream of ${steps} steps took ${Math.round(events.at(-1)!.at - events[0]!.at)} ms (idle time ${IDLE_SECONDS * 1000} ms)`);
    assert.ok(seen.length > 0);
    for (const s of seen) assert.deepEqual(s, { evictions: before, live: 1 }, 'no eviction while Train streams');
    const last = events.at(-1)!.event;
    assert.equal(last.done, true);
    assert.equal(last.step, BigInt(6 + steps), 'the stream ran every step');

    await t.evicted(EXP, before + 1);
    const view = await client.getExperiment(EXP);
    assert.equal(view?.checkpointStep, BigInt(6 + steps));
  } finally {
    await t.stop();
  }
});

test('workerIdleSeconds 0 never evicts', async () => {
  // side by side: once the evicting server stopped its worker, the other's, idle longer, still runs
  const keep = await start(0);
  const evict = await start(IDLE_SECONDS);
  try {
    await keep.client.createExperiment({ experimentId: 'keep', spec: spec() });
    await keep.client.trainStep({ experimentId: 'keep', input: { case: 'steps', value: 1 } });
    await evict.client.createExperiment({ experimentId: 'gone', spec: spec() });
    await evict.client.trainStep({ experimentId: 'gone', input: { case: 'steps', value: 1 } });
    await evict.evicted('gone', 1);
    assert.equal(await liveWorkers(keep.server.metricsPort as number), 1);
    assert.equal(keep.evictionCount('keep'), 0);
    assert.equal(await scrape(keep.server.metricsPort as number, 'supernetd_worker_evictions_total', { experiment: 'keep' }), undefined);
  } finally {
    await Promise.all([keep.stop(), evict.stop()]);
  }
});
