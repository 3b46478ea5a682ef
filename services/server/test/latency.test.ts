// Latency constraints end to end over real gRPC: a table measured on this host (and reloaded after a
// restart), a user-given table used verbatim, a bad table refused by key, no table -> UNSUPPORTED,
// and PSS multi-constraint pools over flops and latency.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { ConstraintKind, SamplePurpose } from '@supernetd/api';
import type { Subnet } from '@supernetd/api';
import { latencyKey, layerCost, resolveSpace } from '@supernetd/engine/space';
import type { Arch } from '@supernetd/sdk';
import { startServer } from '../src/index.ts';
import type { RunningServer } from '../src/index.ts';
import { assertStatus, connectClient, tempDir, tinySpec } from './helpers.ts';
import type { SupernetdClient } from '@supernetd/client';

/** A small custom space over Fashion-MNIST: few layer shapes, so measuring its table is quick. */
const DEFINITION = {
  name: 'lat-tiny',
  inputShape: [28, 28, 1],
  numClasses: 10,
  resolutions: [20, 28],
  widths: [
    { id: 'a', base: 16, minMult: 0.5, maxMult: 1 },
    { id: 'b', base: 32, minMult: 0.25, maxMult: 1 },
  ],
  blocks: [
    {
      id: 'b0',
      layers: [
        { type: 'conv', id: 'stem', out: 'a', kernel: 3, stride: 2 },
        { type: 'dwconv', id: 'dw', kernel: 3 },
        { type: 'conv', id: 'pw', out: 'b', kernel: 1 },
      ],
    },
  ],
  tail: [
    { type: 'pool', id: 'pool' },
    { type: 'linear', id: 'fc' },
  ],
};

function spec(overrides: Record<string, unknown>, strategy = 'uniform', config: Record<string, unknown> = {}) {
  const base = tinySpec({ strategy, config });
  return { ...base, searchSpace: { preset: 'custom', overrides: { definition: DEFINITION, ...overrides } as never } };
}

function archOf(s: Subnet): Arch {
  const a = s.architecture!;
  const arch: Arch = { resolution: a.resolution, width: { ...a.widths } };
  if (Object.keys(a.ops).length > 0) arch.op = { ...a.ops };
  return arch;
}

const latencyOf = (s: Subnet) => s.cost?.latencyMs ?? Number.NaN;

type ExportTarget = { case: 'subnetId'; value: string } | { case: 'constraint'; value: { kind: ConstraintKind; target: number } };

/** ExportSubnet's header subnet: its cost is computed by the worker's own space. */
async function exportedSubnet(experimentId: string, target: ExportTarget): Promise<Subnet> {
  const exported = await client!.exportSubnet({ experimentId, target, skipBnRecalibration: true });
  if (!exported.header.subnet) throw new Error('no export header');
  return exported.header.subnet;
}

const data = tempDir();
let server: RunningServer | undefined;
let client: SupernetdClient | undefined;

async function start(): Promise<void> {
  server = await startServer({ port: 0, dataDir: data.dir, logLevel: 'warn', metricsPort: 0, backend: 'wasm' });
  client = connectClient(server.address);
}

async function stop(): Promise<void> {
  client?.close();
  await server?.stop();
  client = undefined;
  server = undefined;
}

after(async () => {
  await stop();
  data.remove();
});

test('measureLatency: a measured table prices subnets, bounds LATENCY constraints and survives a restart', async () => {
  await start();
  await client!.createExperiment({ experimentId: 'measured', spec: spec({ measureLatency: true }) });
  const file = path.join(data.dir, 'experiments', 'measured', 'latency-table.json');
  const table = JSON.parse(readFileSync(file, 'utf8')) as Record<string, number>;
  assert.equal(Object.keys(table).length, resolveSpace({ preset: 'custom', overrides: { definition: DEFINITION } }).latencyShapes().size);

  const free = await client!.sampleSubnet({ experimentId: 'measured', count: 24, purpose: SamplePurpose.EVAL });
  for (const s of free) assert.ok(latencyOf(s) > 0, `subnet ${s.id} has a positive latency`);
  const lat = free.map(latencyOf);
  // A measured table is noisy on a busy machine: the min net (which decides satisfiability) need
  // not be the fastest subnet, so the target is kept at or above its latency.
  const minNet = resolveSpace({ preset: 'custom', overrides: { definition: DEFINITION } }, { latencyTable: table });
  const target = Math.max((Math.min(...lat) + Math.max(...lat)) / 2, minNet.cost(minNet.minArch()).latency);
  const fit = await client!.sampleSubnet({
    experimentId: 'measured',
    constraint: { kind: ConstraintKind.LATENCY, target },
    count: 8,
    purpose: SamplePurpose.EVAL,
  });
  assert.equal(fit.length, 8);
  for (const s of fit) assert.ok(latencyOf(s) > 0 && latencyOf(s) <= target, `${latencyOf(s)} ms fits ${target} ms`);
  const before = new Map(fit.map((s) => [s.id, latencyOf(s)]));

  await stop();
  await start();
  assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), table, 'the table is reloaded, not re-measured');
  for (const [id, ms] of before) {
    const r = await client!.evaluate({ experimentId: 'measured', target: { case: 'subnetId', value: id }, maxExamples: 16 });
    assert.equal(latencyOf(r.subnet!), ms, `subnet ${id} costs the same after the restart`);
  }
  // the worker prices with the reloaded table too (a re-measured one would differ)
  const [someId, someMs] = [...before][0]!;
  assert.equal(latencyOf(await exportedSubnet('measured', { case: 'subnetId', value: someId })), someMs);
  const again = await client!.sampleSubnet({
    experimentId: 'measured',
    constraint: { kind: ConstraintKind.LATENCY, target },
    count: 4,
    purpose: SamplePurpose.EVAL,
  });
  for (const s of again) assert.ok(latencyOf(s) > 0 && latencyOf(s) <= target);
  const deployed = await client!.evaluate({
    experimentId: 'measured',
    target: { case: 'constraint', value: { kind: ConstraintKind.LATENCY, target } },
    maxExamples: 16,
  });
  assert.ok(latencyOf(deployed.subnet!) <= target, 'Evaluate by LATENCY constraint returns a fitting subnet');
});

/** A complete hand-made table: every reachable shape, 0.1 ms plus 1 ms per 5000 MACs (a device's LUT stand-in). */
function handTable(): Record<string, number> {
  const space = resolveSpace({ preset: 'custom', overrides: { definition: DEFINITION } });
  const table: Record<string, number> = {};
  for (const [key, { arch, layerId }] of space.latencyShapes()) {
    const shape = space.layerShapes(arch).find((sh) => sh.layer.id === layerId)!;
    table[key] = 0.1 + layerCost(shape).flops / 5000;
  }
  return table;
}

test('a user-given latencyTable is used verbatim; a bad one is refused naming the key', async () => {
  if (!server) await start();
  const table = handTable();
  await client!.createExperiment({ experimentId: 'given', spec: spec({ latencyTable: table }) });
  const space = resolveSpace({ preset: 'custom', overrides: { definition: DEFINITION } });
  const r = await client!.sampleSubnet({ experimentId: 'given', count: 8, purpose: SamplePurpose.EVAL });
  for (const s of r) {
    const sum = space.layerShapes(archOf(s)).reduce((acc, sh) => acc + (table[latencyKey(sh)] as number), 0);
    assert.equal(latencyOf(s), sum, `latency of ${s.id} is the sum of its layers' entries`);
  }

  const bad = { ...table, 'conv:99:1:8:0:3:2': 1 };
  await assertStatus(
    client!.createExperiment({ experimentId: 'bad-key', spec: spec({ latencyTable: bad }) }),
    grpc.status.INVALID_ARGUMENT,
    'INVALID_SEARCH_SPACE',
    /latencyTable: key 'conv:99:1:8:0:3:2' is not a layer shape/,
  );
  const [first] = Object.keys(table);
  const missing = { ...table };
  delete missing[first!];
  await assertStatus(
    client!.createExperiment({ experimentId: 'bad-missing', spec: spec({ latencyTable: missing }) }),
    grpc.status.INVALID_ARGUMENT,
    'INVALID_SEARCH_SPACE',
    new RegExp(`misses key '${first!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}'`),
  );
  await assertStatus(
    client!.createExperiment({ experimentId: 'bad-value', spec: spec({ latencyTable: { ...table, [first!]: -1 } }) }),
    grpc.status.INVALID_ARGUMENT,
    'INVALID_SEARCH_SPACE',
    /is not a finite number of milliseconds/,
  );
});

test('without a table, LATENCY constraints and latency pools are FAILED_PRECONDITION / UNSUPPORTED', async () => {
  if (!server) await start();
  await client!.createExperiment({ experimentId: 'no-table', spec: spec({}) });
  const free = await client!.sampleSubnet({ experimentId: 'no-table', count: 1, purpose: SamplePurpose.EVAL });
  assert.equal(latencyOf(free[0]!), 0);
  const latency = { kind: ConstraintKind.LATENCY, target: 1000 };
  await assertStatus(
    client!.sampleSubnet({ experimentId: 'no-table', constraint: latency, count: 1, purpose: SamplePurpose.EVAL }),
    grpc.status.FAILED_PRECONDITION,
    'UNSUPPORTED',
    /measureLatency/,
  );
  await assertStatus(
    client!.evaluate({ experimentId: 'no-table', target: { case: 'constraint', value: latency }, maxExamples: 16 }),
    grpc.status.FAILED_PRECONDITION,
    'UNSUPPORTED',
    /latencyTable/,
  );
  await assertStatus(
    exportedSubnet('no-table', { case: 'constraint', value: latency }),
    grpc.status.FAILED_PRECONDITION,
    'UNSUPPORTED',
  );
  await assertStatus(
    client!.createExperiment({ experimentId: 'pss-no-table', spec: spec({}, 'pss', { costKinds: ['flops', 'latency'] }) }),
    grpc.status.FAILED_PRECONDITION,
    'UNSUPPORTED',
    /costKinds\[1\].*measureLatency/,
  );
});

test('PSS multi-constraint (flops + latency) trains and samples for both kinds', async () => {
  if (!server) await start();
  const table = handTable();
  const config = { costKinds: ['flops', 'latency'], genMapSize: 200, poolSize: 4, recalibrationBatches: 1, validationBatches: 1, epochValidationBatches: 0 };
  await client!.createExperiment({ experimentId: 'pss-lat', spec: spec({ latencyTable: table }, 'pss', config) });
  const trained = await client!.trainStep({ experimentId: 'pss-lat', input: { case: 'steps', value: 3 } });
  assert.equal(trained.step, 3n);
  const free = await client!.sampleSubnet({ experimentId: 'pss-lat', count: 16, purpose: SamplePurpose.EVAL });
  const lat = free.map(latencyOf);
  const flops = free.map((s) => s.cost?.flops ?? Number.NaN);
  const latTarget = (Math.min(...lat) + Math.max(...lat)) / 2;
  const flopsTarget = (Math.min(...flops) + Math.max(...flops)) / 2;
  for (const [kind, target, of] of [
    [ConstraintKind.LATENCY, latTarget, latencyOf],
    [ConstraintKind.FLOPS, flopsTarget, (s: Subnet) => s.cost?.flops ?? Number.NaN],
  ] as const) {
    for (const purpose of [SamplePurpose.TRAIN, SamplePurpose.EVAL]) {
      const r = await client!.sampleSubnet({ experimentId: 'pss-lat', constraint: { kind, target }, count: 4, purpose });
      for (const s of r) assert.ok(of(s) <= target, `${ConstraintKind[kind]} ${of(s)} fits ${target}`);
    }
  }
});
