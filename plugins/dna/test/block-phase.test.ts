import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { EngineRuntime } from '@supernetd/engine';
import type { StepContext, StepLog, SupernetEngine } from '@supernetd/sdk';
import type { Tensor4D } from '@tensorflow/tfjs-core';
import { smallTrainingRuntime } from '@supernetd/server/testing';
import { DnaStrategy, encodings, parseDnaConfig } from '../src/index.ts';

const makeRuntime = () => smallTrainingRuntime({ preset: 'dna-small' }, { maxTrainExamples: 128, maxTestExamples: 32, totalSteps: 8, seed: 3 });

/** Values of every network variable (not optimiser slots), by registered name. */
function snapshot(engine: SupernetEngine): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  for (const [name, v] of Object.entries(engine.tf.engine().registeredVariables)) {
    if (/^sn\d+\/(supernet|teacher)\//.test(name)) out.set(name, (v.dataSync() as Float32Array).slice());
  }
  return out;
}

/** The engine with every `recalibrateBN` call's block range and input shape recorded. */
function recordingRecalibration(engine: SupernetEngine): { engine: SupernetEngine; calls: { range: unknown; shape: number[] }[] } {
  const calls: { range: unknown; shape: number[] }[] = [];
  const wrapped = new Proxy(engine, {
    get(target, prop) {
      if (prop === 'recalibrateBN') {
        return (...args: Parameters<SupernetEngine['recalibrateBN']>) => {
          calls.push({ range: args[4], shape: [...(args[2][0]?.x.shape ?? [])] });
          target.recalibrateBN(...args);
        };
      }
      const v = Reflect.get(target, prop, target) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  return { engine: wrapped, calls };
}

const same = (a: Float32Array, b: Float32Array) => a.length === b.length && a.every((x, i) => Object.is(x, b[i]));

describe('DNA block phases on a real dna-small runtime', () => {
  let ra: EngineRuntime;
  let rb: EngineRuntime;
  const cfg = parseDnaConfig({ teacherSteps: 1, stepsPerBlock: 1, ratingBatches: 1 });
  let a: DnaStrategy;
  let b: DnaStrategy;
  const logs: StepLog[] = [];
  let recal: ReturnType<typeof recordingRecalibration>;
  const snaps: Map<string, Float32Array>[] = [];
  const ctx = (step: number): StepContext => ({ step, totalSteps: 8, stepsPerEpoch: 8 });

  before(async () => {
    ra = await makeRuntime();
    rb = await makeRuntime();
    a = new DnaStrategy(ra.space, cfg, 5, 8);
    b = new DnaStrategy(rb.space, cfg, 5, 8);
    // Create the teacher up front (the strategy gets the same network) so that step 0 has a baseline.
    ra.engine.auxNetwork('teacher', 'dna-small-teacher');
    recal = recordingRecalibration(ra.engine);
    // Steps 0 (teacher) and 1 (block 0) on both runtimes in lockstep; step 2 (block 1) on A only.
    for (let step = 0; step < 3; step++) {
      snaps.push(snapshot(ra.engine));
      const batch = ra.nextTrainBatch();
      logs.push(await a.trainStep(recal.engine, batch, ctx(step)));
      batch.x.dispose();
      batch.y.dispose();
      if (step < 2) {
        const bb = rb.nextTrainBatch();
        await b.trainStep(rb.engine, bb, ctx(step));
        bb.x.dispose();
        bb.y.dispose();
      }
    }
    snaps.push(snapshot(ra.engine));
  });
  after(() => {
    ra?.dispose();
    rb?.dispose();
  });

  const blockVars = (i: number) => new Set(ra.engine.supernet.variableNames([i]));
  const owner = (registered: string) => registered.slice(registered.indexOf('/') + 1);

  it('the teacher phase trains the teacher only', () => {
    assert.deepEqual(logs[0]?.archs, []);
    let teacherChanged = 0;
    for (const [name, before] of snaps[0] ?? []) {
      const now = snaps[1]?.get(name) as Float32Array;
      if (name.includes('/teacher/')) {
        if (!same(before, now)) teacherChanged++;
      } else {
        assert.ok(same(before, now), `${name} changed in the teacher phase`);
      }
    }
    assert.ok(teacherChanged > 0, 'the teacher did not train');
  });

  it('a block phase changes only that block\'s trainable variables; every other variable is bit-identical', () => {
    const trainable = blockVars(1);
    let changed = 0;
    for (const [name, before] of snaps[2] ?? []) {
      const now = snaps[3]?.get(name) as Float32Array;
      const n = owner(name);
      if (trainable.has(n)) {
        if (!same(before, now)) changed++;
      } else if (n.startsWith('teacher/') || !(n.endsWith('/bn/mean') || n.endsWith('/bn/variance'))) {
        // The student's running statistics are reset by the block rating's BN correction; all else is fixed.
        assert.ok(same(before, now), `${n} changed while training block 1`);
      }
    }
    assert.ok(changed > 0, 'block 1 did not train');
  });

  it('feeds the teacher\'s feature of block i-1 to student block i and regresses onto teacher feature i', () => {
    // Runtime B holds the same weights and data position as A had before step 2: recompute the loss.
    const arch = logs[2]?.archs[0];
    assert.ok(arch);
    const tf = rb.engine.tf;
    const teacher = rb.engine.auxNetwork('teacher', 'dna-small-teacher');
    const tArch = teacher.space.maxArch();
    const batch = rb.nextTrainBatch();
    const [viaTeacher, viaStudent] = tf.tidy(() => {
      const last = teacher.forward(tArch, batch.x, { training: false, toBlock: 0 }) as Tensor4D;
      const guide = teacher.forward(tArch, last, { training: false, fromBlock: 1, toBlock: 1 });
      const net = rb.engine.supernet;
      const y = net.forward(arch, last, { training: true, fromBlock: 1, toBlock: 1 });
      const own = net.forward(arch, batch.x, { training: true, toBlock: 1 });
      return [rb.engine.mse(y, guide).dataSync()[0] as number, rb.engine.mse(own, guide).dataSync()[0] as number];
    });
    batch.x.dispose();
    batch.y.dispose();
    const reported = logs[2]?.losses['mse'] as number;
    // Same backend, same weights, same batch: the recomputation is exact, and it tells the feeds apart.
    assert.equal(reported, viaTeacher, 'the reported loss is not the MSE of block 1 fed with the teacher feature');
    assert.notEqual(reported, viaStudent, "the student's own block-0 features give the same loss");
  });

  it('rates every candidate of a block after its phase, with finite normalised losses', () => {
    const st = a.state();
    const r0 = st.ratings[0];
    assert.ok(r0, 'block 0 was not rated');
    const ops = ra.space.blocks[0]?.layerIds.filter((id) => ra.space.opLayerIds.includes(id)) ?? [];
    const want = encodings(ops.map(() => 4));
    assert.equal(r0.candidates.length, want.length);
    assert.deepEqual(r0.candidates.map((c) => c.enc), want);
    for (const c of r0.candidates) assert.ok(Number.isFinite(c.loss) && c.loss > 0 && Number.isFinite(c.mse) && Number.isFinite(c.rel));
    assert.ok(st.ratings[1], 'block 1 was rated at the end of its one-step phase');
    assert.equal(st.ratings[2], null);
    assert.equal(st.installedPhase, 'block-1');
  });

  it("corrects batch norm of the rated block alone, on the teacher's feature map entering it", () => {
    const r0 = a.state().ratings[0]?.candidates.length ?? 0;
    const r1 = a.state().ratings[1]?.candidates.length ?? 0;
    assert.equal(recal.calls.length, r0 + r1, 'one BN correction per rated candidate');
    const images = recal.calls[0]?.shape ?? [];
    const teacher = ra.engine.auxNetwork('teacher', 'dna-small-teacher');
    const tf = ra.engine.tf;
    const feature1 = tf.tidy(() => [...teacher.forward(teacher.space.maxArch(), tf.zeros(images as [number, number, number, number]), { training: false, toBlock: 0 }).shape]);
    assert.notDeepEqual(feature1, images);
    for (const [k, c] of recal.calls.entries()) {
      const i = k < r0 ? 0 : 1;
      assert.deepEqual(c.range, { fromBlock: i, toBlock: i });
      assert.deepEqual(c.shape, i === 0 ? images : feature1, `block ${i} was corrected on the wrong input`);
    }
  });
});
