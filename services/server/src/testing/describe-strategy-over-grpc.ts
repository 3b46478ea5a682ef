import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import type { JsonObject, MessageInitShape } from '@bufbuild/protobuf';
import { SamplePurpose } from '@supernetd/api';
import type { SearchSpaceSchema, Subnet, TrainStepResponse } from '@supernetd/api';
import { SupernetdClient, flops } from '@supernetd/client';
import type { ExportedModel } from '@supernetd/client';
import { loadExportedModel } from '@supernetd/engine';
import { startServer } from '../index.ts';
import type { RunningServer, ServerConfig } from '../index.ts';

const E2E_BACKENDS = ['wasm', 'tensorflow', 'gpu', 'cpu'] as const;

/**
 * The backend the end-to-end server runs its experiments on: `SUPERNETD_E2E_BACKEND` (`wasm`,
 * `tensorflow`, `gpu` or `cpu`), default `wasm`. CI runs the strategies' end-to-end tests once more
 * with `tensorflow`. Throws on any other value, so a typo cannot silently test wasm twice.
 */
export function e2eBackend(): ServerConfig['backend'] {
  const v = process.env.SUPERNETD_E2E_BACKEND ?? 'wasm';
  if (!(E2E_BACKENDS as readonly string[]).includes(v)) {
    throw new Error(`SUPERNETD_E2E_BACKEND must be one of ${E2E_BACKENDS.join(', ')}, got '${v}'`);
  }
  return v as ServerConfig['backend'];
}

/** What a strategy-specific check of `describeStrategyOverGrpc` is handed. */
export interface GrpcFlowContext {
  client: SupernetdClient;
  experimentId: string;
}

/** One strategy's end-to-end flow over real gRPC; see `describeStrategyOverGrpc`. */
export interface StrategyOverGrpcOptions {
  /** The registered strategy id; also names the experiment (`<id>-e2e`) and the test. */
  strategyId: string;
  /** The strategy's raw config (keep it small: the flow trains and exports with it). */
  config: JsonObject;
  /** The search space of the experiment. */
  spaceSpec: MessageInitShape<typeof SearchSpaceSchema>;
  /** Planned run length of the experiment. */
  totalSteps: bigint;
  /** Steps of the one TrainStep call; the response must report exactly this step. */
  trainSteps: number;
  /** The FLOPs budget of the constrained samples and of the export. */
  budget: number;
  /** Training seed (default 5). */
  seed?: number;
  /** Accuracy reported for the first sampled subnet (default 0.6). */
  reportedAccuracy?: number;
  /** Test name (default `<id>: create, train, sample, report, export by budget, load ...`). */
  title?: string;
  /** Extra server configuration, for instance `strategies` to load a plug-in by path. */
  server?: Partial<ServerConfig>;
  /** Client deadline per call (default 600 s). */
  timeoutMs?: number;
  /** Runs after the server is up and before the experiment is created. */
  beforeCreate?: (ctx: GrpcFlowContext) => void | Promise<void>;
  /** Strategy-specific checks of the TrainStep response. */
  afterTrain?: (stepped: TrainStepResponse, ctx: GrpcFlowContext) => void | Promise<void>;
  /** Strategy-specific checks of the subnet the budgeted export chose. */
  checkExport?: (subnet: Subnet, ctx: GrpcFlowContext) => void | Promise<void>;
}

/**
 * Registers, in the calling test file, one `node:test` test that drives a strategy end to end over
 * a real gRPC socket on a server started in this process (backend `e2eBackend()`, fresh data
 * directory): create an experiment on a small fashion-mnist slice, train `trainSteps` steps (finite
 * losses, at least one subnet, the experiment reports that backend), sample three EVAL subnets under the FLOPs budget, report a metric (sequence
 * 1), export by budget (the choice fits), check that DEPLOY sampling returns the exported subnet,
 * and load the export with stock TensorFlow.js (a [2, 10] prediction). The hooks add the
 * strategy's own assertions. Starts the server in `before` and stops it in `after`.
 */
export function describeStrategyOverGrpc(opts: StrategyOverGrpcOptions): void {
  const { strategyId, budget } = opts;
  const experimentId = `${strategyId}-e2e`;
  const backend = e2eBackend();
  const dataDir = mkdtempSync(path.join(os.tmpdir(), `supernetd-${strategyId}-e2e-`));
  let server: RunningServer | undefined;
  let client: SupernetdClient | undefined;

  before(async () => {
    server = await startServer({ port: 0, dataDir, logLevel: 'warn', backend, ...opts.server });
    client = new SupernetdClient({ address: server.address, tls: false, timeoutMs: opts.timeoutMs ?? 600_000 });
  });

  after(async () => {
    client?.close();
    await server?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const title = opts.title ?? `${strategyId}: create, train, sample, report, export by budget, load the export with stock TensorFlow.js`;
  test(`${title} [${opts.server?.backend ?? backend}]`, async () => {
    assert.ok(client, 'the server started');
    const ctx: GrpcFlowContext = { client, experimentId };
    await opts.beforeCreate?.(ctx);
    await client.createExperiment({
      experimentId,
      spec: {
        searchSpace: opts.spaceSpec,
        strategy: { id: strategyId, config: opts.config },
        training: {
          dataset: { name: 'fashion-mnist', maxTrainExamples: 128, maxTestExamples: 32 },
          batchSize: 16,
          totalSteps: opts.totalSteps,
          seed: opts.seed ?? 5,
        },
      },
    });
    const stepped = await client.trainStep({ experimentId, input: { case: 'steps', value: opts.trainSteps } });
    assert.equal(stepped.step, BigInt(opts.trainSteps));
    for (const [k, v] of Object.entries(stepped.losses)) assert.ok(Number.isFinite(v), `loss ${k}`);
    assert.ok(stepped.subnets.length >= 1);
    const expected = opts.server?.backend ?? backend;
    if (expected !== 'auto') {
      // `gpu` is the tensorflow backend on a GPU device
      const running = await client.getExperiment(experimentId);
      assert.equal(running.backend, expected === 'gpu' ? 'tensorflow' : expected, 'the experiment trained on the chosen backend');
    }
    await opts.afterTrain?.(stepped, ctx);

    const sampled = await client.sampleSubnet({ experimentId, constraint: flops(budget), count: 3, purpose: SamplePurpose.EVAL });
    assert.equal(sampled.length, 3);
    for (const s of sampled) assert.ok((s.cost?.flops ?? Infinity) <= budget, 'each sampled subnet fits');
    const seq = await client.reportMetric({
      experimentId,
      subnetId: sampled[0]?.id as string,
      metrics: { accuracy: opts.reportedAccuracy ?? 0.6 },
    });
    assert.equal(seq, 1n);

    const exported = await client.exportSubnet({ experimentId, target: { case: 'constraint', value: flops(budget) } });
    const subnet = exported.header.subnet;
    assert.ok(subnet && (subnet.cost?.flops ?? Infinity) <= budget, 'the deploy choice fits the budget');
    await opts.checkExport?.(subnet, ctx);

    const deployed = await client.sampleSubnet({ experimentId, constraint: flops(budget), purpose: SamplePurpose.DEPLOY });
    assert.equal(deployed[0]?.id, subnet.id, 'deploy sampling returns the searched subnet');
    await assertLoadsWithStockTfjs(exported, subnet);
  });
}

/**
 * Loads an exported TF.js Layers model with stock `@tensorflow/tfjs-layers` on the cpu backend and
 * asserts that a batch of two single-channel images at the subnet's resolution gives [2, 10].
 */
export async function assertLoadsWithStockTfjs(exported: ExportedModel, subnet: Subnet): Promise<void> {
  await tf.setBackend('cpu');
  const model = await loadExportedModel(exported.files);
  const res = subnet.architecture?.resolution ?? 28;
  const y = tf.tidy(() => model.predict(tf.zeros([2, res, res, 1])) as tf.Tensor);
  assert.deepEqual(y.shape, [2, 10]);
  y.dispose();
  model.dispose();
}
