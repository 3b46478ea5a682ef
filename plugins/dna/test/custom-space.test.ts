// DNA on a small custom op-choice space (preset `custom`): the teacher derived from the student's
// definition, the explicit teacherDefinition, and DNA's score of any subnet, unit-level and end to
// end over real gRPC (Evaluate returns the block ratings as Subnet.score).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { JsonObject } from '@bufbuild/protobuf';
import { SupernetdClient } from '@supernetd/client';
import { resolveSpace } from '@supernetd/engine/space';
import { InvalidArgumentError } from '@supernetd/sdk';
import type { Arch, SupernetEngine } from '@supernetd/sdk';
import { startServer } from '@supernetd/server';
import type { RunningServer } from '@supernetd/server';
import { DnaStrategy, deriveTeacherDefinition, encodings, parseDnaConfig } from '../src/index.ts';
import type { BlockRating } from '../src/index.ts';

const OPS = [
  { name: 'MB3_3', expand: 3, kernel: 3 },
  { name: 'MB6_5', expand: 6, kernel: 5 },
];

/** 3 blocks, 4 op-choice layers with 2 candidates each, one width choice; 28x28 grey images. */
const DEFINITION = {
  name: 'tiny-dna',
  inputShape: [28, 28, 1],
  numClasses: 10,
  resolutions: [28],
  widths: [{ id: 'w1', base: 16, candidates: [8, 16] }],
  blocks: [
    {
      id: 'b0',
      layers: [
        { type: 'conv', id: 'stem', out: 8, kernel: 3, stride: 1 },
        { type: 'mbconv', id: 'b0.0', out: 12, stride: 2, ops: OPS },
      ],
    },
    {
      id: 'b1',
      layers: [
        { type: 'mbconv', id: 'b1.0', out: 'w1', stride: 2, ops: OPS },
        { type: 'mbconv', id: 'b1.1', out: 'w1', stride: 1, ops: OPS },
      ],
    },
    { id: 'b2', layers: [{ type: 'mbconv', id: 'b2.0', out: 24, stride: 2, ops: OPS }] },
  ],
  tail: [
    { type: 'conv', id: 'head', out: 32, kernel: 1 },
    { type: 'pool', id: 'pool' },
    { type: 'linear', id: 'classifier' },
  ],
};
const OP_LAYERS = ['b0.0', 'b1.0', 'b1.1', 'b2.0'];
const student = () => resolveSpace({ preset: 'custom', overrides: { definition: structuredClone(DEFINITION) } });
const opsOf = (ops: number[]): Record<string, number> => Object.fromEntries(OP_LAYERS.map((id, i) => [id, ops[i] as number]));
const archOf = (ops: number[]): Arch => ({ resolution: 28, width: { w1: 16 }, op: opsOf(ops) });
/** The same subnet as a proto Architecture. */
const protoArch = (ops: number[]) => ({ resolution: 28, widths: { w1: 16 }, ops: opsOf(ops) });

/** An engine whose auxNetwork records what it is asked for, then stops the step (the strategy's teacher choice is all we look at). */
function recordingEngine(knownPresets: string[]): { engine: SupernetEngine; asked: (string | Record<string, unknown>)[] } {
  const asked: (string | Record<string, unknown>)[] = [];
  const engine = {
    auxNetwork(_id: string, preset: string | Record<string, unknown>) {
      asked.push(preset);
      if (typeof preset === 'string' && !knownPresets.includes(preset)) throw new InvalidArgumentError(`unknown search space preset '${preset}'`, 'INVALID_SEARCH_SPACE');
      throw new Error('stop here');
    },
  } as unknown as SupernetEngine;
  return { engine, asked };
}

const step0 = { step: 0, totalSteps: 10, stepsPerEpoch: 8 };

describe('DNA teacher of a custom op-choice space', () => {
  it('derives a fixed-op teacher with the student blocks, strides, block outputs and tail, wider than any candidate', () => {
    const space = student();
    const t = deriveTeacherDefinition(space);
    const teacher = resolveSpace({ preset: 'custom', overrides: { definition: t } });
    assert.equal(teacher.name, 'tiny-dna-teacher');
    assert.deepEqual(teacher.opLayerIds, [], 'the teacher has no op choice');
    assert.deepEqual(
      teacher.blocks.map((b) => [b.id, b.outChannels, b.outSize]),
      space.blocks.map((b) => [b.id, b.outChannels, b.outSize]),
      'same block boundaries, output widths and sizes',
    );
    assert.deepEqual(
      teacher.layers.map((l) => [l.id, l.kind, l.stride]),
      space.layers.map((l) => [l.id, l.kind, l.stride]),
    );
    for (const id of OP_LAYERS) {
      const l = teacher.layers.find((x) => x.id === id);
      assert.equal(l?.kernel, 5, `${id}: the largest candidate kernel`);
    }
    const blocks = (t['blocks'] as { layers: { id: string; expand?: number; ops?: unknown }[] }[]).flatMap((b) => b.layers);
    for (const id of OP_LAYERS) assert.equal(blocks.find((l) => l.id === id)?.expand, 12, `${id}: twice the largest expansion`);
    // Teacher wider: its FLOPs and params exceed those of the largest student subnet.
    const all = encodings(OP_LAYERS.map(() => 2)).map((ops) => space.cost(archOf(ops)));
    const tc = teacher.cost(teacher.maxArch());
    assert.ok(tc.flops > Math.max(...all.map((c) => c.flops)), `teacher flops ${tc.flops}`);
    assert.ok(tc.params > Math.max(...all.map((c) => c.params)), `teacher params ${tc.params}`);
  });

  it('uses the derived teacher when there is no <name>-teacher preset, the preset when there is one', async () => {
    const s = new DnaStrategy(student(), parseDnaConfig({}), 1, 10);
    const none = recordingEngine([]);
    await assert.rejects(Promise.resolve(s.trainStep(none.engine, {} as never, step0)), /stop here/);
    assert.deepEqual(none.asked, ['tiny-dna-teacher', deriveTeacherDefinition(student())]);
    const s2 = new DnaStrategy(student(), parseDnaConfig({}), 1, 10);
    const known = recordingEngine(['tiny-dna-teacher']);
    await assert.rejects(Promise.resolve(s2.trainStep(known.engine, {} as never, step0)), /stop here/);
    assert.deepEqual(known.asked, ['tiny-dna-teacher']);
  });

  it('takes an explicit teacherDefinition, exclusive with teacherPreset and teacherModel', async () => {
    const def = deriveTeacherDefinition(student());
    const s = new DnaStrategy(student(), parseDnaConfig({ teacherDefinition: def }), 1, 10);
    const e = recordingEngine([]);
    await assert.rejects(Promise.resolve(s.trainStep(e.engine, {} as never, step0)), /stop here/);
    assert.deepEqual(e.asked, [def]);
    assert.throws(() => parseDnaConfig({ teacherDefinition: def, teacherPreset: 'dna-small-teacher' }), /teacherDefinition/);
    assert.throws(() => parseDnaConfig({ teacherDefinition: def, teacherModel: 'm.json', teacherTaps: ['a', 'b', 'c'] }), /teacherDefinition/);
    assert.throws(() => parseDnaConfig({ teacherDefinition: [1] }), /teacherDefinition: must be an object/);
  });
});

describe('DNA score', () => {
  it('is minus the summed rated loss of the chosen candidates, undefined while a block is unrated', () => {
    const s = new DnaStrategy(student(), parseDnaConfig({}), 1, 10);
    assert.equal(s.score(archOf([0, 0, 0, 0])), undefined);
    const ratings: BlockRating[] = [0, 1, 2].map((block) => ({
      block,
      step: 9,
      candidates: s.blockEncodings(block).map((enc, e) => ({ enc, loss: 0.1 * (block + 1) + 0.01 * e, mse: 0, rel: 0 })),
    }));
    s.load({ ...s.state(), ratings: [ratings[0], null, ratings[2]] });
    assert.equal(s.score(archOf([0, 0, 0, 0])), undefined, 'block 1 is unrated');
    s.load({ ...s.state(), ratings });
    // b0.0 = 1 (enc [1]: 0.11), b1.* = [1, 0] (encoding 2: 0.22), b2.0 = 0 (0.3)
    assert.ok(Math.abs((s.score(archOf([1, 1, 0, 0])) as number) + (0.11 + 0.22 + 0.3)) < 1e-12);
  });
});

/** The strategy state of the experiment's state.json once it reports `step`. */
async function storedState(dataDir: string, experimentId: string, step: number): Promise<{ ratings: BlockRating[]; teacher: unknown }> {
  const find = (dir: string): string | undefined => {
    for (const name of readdirSync(dir)) {
      const p = path.join(dir, name);
      if (statSync(p).isDirectory()) {
        const hit = find(p);
        if (hit) return hit;
      } else if (name === 'state.json' && p.includes(experimentId)) return p;
    }
    return undefined;
  };
  for (let i = 0; i < 100; i++) {
    const file = find(dataDir);
    if (file) {
      const progress = JSON.parse(readFileSync(file, 'utf8')) as { step: number; strategyState: { ratings: BlockRating[]; teacher: unknown } };
      if (progress.step === step) return progress.strategyState;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no state.json at step ${step}`);
}

describe('DNA on a custom op-choice space over gRPC', () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'supernetd-dna-custom-'));
  let server: RunningServer | undefined;
  let client: SupernetdClient | undefined;
  const training = (totalSteps: bigint) => ({
    dataset: { name: 'fashion-mnist', maxTrainExamples: 128, maxTestExamples: 32 },
    batchSize: 16,
    totalSteps,
    seed: 3,
    checkpointInterval: 1,
  });
  const searchSpace = { preset: 'custom', overrides: { definition: DEFINITION } as unknown as JsonObject };

  before(async () => {
    server = await startServer({ port: 0, dataDir, logLevel: 'warn', backend: 'wasm' });
    client = new SupernetdClient({ address: server.address, tls: false, timeoutMs: 600_000 });
  });
  after(async () => {
    client?.close();
    await server?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('trains with the derived teacher, and Evaluate returns DNA ratings as the subnet score', async () => {
    const c = client as SupernetdClient;
    const experimentId = 'dna-custom';
    await c.createExperiment({
      experimentId,
      spec: {
        searchSpace,
        strategy: { id: 'dna', config: { teacherSteps: 2, stepsPerBlock: 1, ratingBatches: 1, teacherValImages: 32 } },
        training: training(5n),
      },
    });
    const stepped = await c.trainStep({ experimentId, input: { case: 'steps', value: 5 } });
    assert.equal(stepped.step, 5n);
    assert.equal((await c.getExperiment(experimentId)).phase, 'block-2');
    const state = await storedState(dataDir, experimentId, 5);
    assert.ok(state.teacher, 'the derived teacher was trained and evaluated');
    assert.equal(state.ratings.length, 3);
    for (const [i, r] of state.ratings.entries()) assert.ok(r, `block ${i} is rated`);

    for (const ops of [
      [0, 0, 0, 0],
      [1, 0, 1, 1],
    ]) {
      const res = await c.evaluate({ experimentId, target: { case: 'architecture', value: protoArch(ops) }, maxExamples: 16 });
      const score = res.subnet?.score as number;
      assert.ok(Number.isFinite(score) && score !== 0, `score of ${ops.join('')}: ${score}`);
      const encs = [[ops[0]], [ops[1], ops[2]], [ops[3]]];
      const expected = -state.ratings.reduce((sum, r, i) => sum + (r.candidates.find((x) => x.enc.join() === encs[i]?.join())?.loss as number), 0);
      assert.ok(Math.abs(score - expected) < 1e-9, `${score} = ${expected}`);
      // A subnet id target scores the same; so does a sampled subnet (DNA's train/eval proposals carry no score of their own).
      const again = await c.evaluate({ experimentId, target: { case: 'subnetId', value: res.subnet?.id as string }, maxExamples: 16 });
      assert.equal(again.subnet?.score, score);
    }
    const [sampled] = await c.sampleSubnet({ experimentId, count: 1 });
    assert.ok(sampled && Number.isFinite(sampled.score) && sampled.score < 0, `sampled score ${sampled?.score}`);
  });

  it('leaves the score at 0 for a strategy without score()', async () => {
    const c = client as SupernetdClient;
    await c.createExperiment({ experimentId: 'uniform-custom', spec: { searchSpace, strategy: { id: 'uniform', config: {} }, training: training(2n) } });
    const res = await c.evaluate({ experimentId: 'uniform-custom', target: { case: 'architecture', value: protoArch([1, 1, 1, 1]) }, maxExamples: 16 });
    assert.equal(res.subnet?.score, 0);
  });
});
