import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { EngineRuntime } from '@supernetd/engine';
import { resolveSpace } from '@supernetd/engine/space';
import type { StepLog, SupernetEngine } from '@supernetd/sdk';
import { smallTrainingRuntime } from '@supernetd/server/testing';
import { DEFAULT_TEACHER_FRACTION, DnaStrategy, opCostTable, parseDnaConfig } from '../src/index.ts';

const TOTAL = 12;

/** Values of the teacher's variables (weights and BN statistics), by registered name. */
function teacherSnapshot(engine: SupernetEngine): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  for (const [name, v] of Object.entries(engine.tf.engine().registeredVariables)) {
    if (/^sn\d+\/teacher\//.test(name)) out.set(name, (v.dataSync() as Float32Array).slice());
  }
  return out;
}

const same = (a: Float32Array, b: Float32Array) => a.length === b.length && a.every((x, i) => Object.is(x, b[i]));

describe('DNA default teacher phase on a real dna-small runtime', () => {
  let rt: EngineRuntime;
  // Defaults except what keeps the test fast: one rating batch, 64 images for the teacher's accuracy.
  const cfg = parseDnaConfig({ ratingBatches: 1, teacherValImages: 64 });
  let s: DnaStrategy;
  const logs: StepLog[] = [];
  const phases: string[] = [];
  const rates: number[] = [];
  let atStart: Map<string, Float32Array>;
  let afterTeacher: Map<string, Float32Array>;
  let atEnd: Map<string, Float32Array>;

  before(async () => {
    rt = await smallTrainingRuntime({ preset: 'dna-small' }, { maxTrainExamples: 128, maxTestExamples: 32, totalSteps: TOTAL, seed: 4 });
    s = new DnaStrategy(rt.space, cfg, 6, TOTAL);
    rt.engine.auxNetwork('teacher', 'dna-small-teacher');
    atStart = teacherSnapshot(rt.engine);
    for (let step = 0; step < TOTAL; step++) {
      const ctx = { step, totalSteps: TOTAL, stepsPerEpoch: 8 };
      phases.push(s.phase(ctx));
      const batch = rt.nextTrainBatch();
      logs.push(await s.trainStep(rt.engine, batch, ctx));
      rates.push(rt.engine.learningRate());
      batch.x.dispose();
      batch.y.dispose();
      if (step === s.teacherSteps - 1) afterTeacher = teacherSnapshot(rt.engine);
    }
    atEnd = teacherSnapshot(rt.engine);
  });
  after(() => rt?.dispose());

  it('gives the teacher half of the planned steps by default, in its own phase before block-0', () => {
    assert.equal(DEFAULT_TEACHER_FRACTION, 0.5);
    assert.equal(cfg.teacherFraction, undefined);
    assert.equal(s.teacherSteps, TOTAL / 2);
    assert.deepEqual(phases, ['teacher', 'teacher', 'teacher', 'teacher', 'teacher', 'teacher', 'block-0', 'block-1', 'block-2', 'block-3', 'block-3', 'block-3']);
    for (const log of logs.slice(0, 6)) {
      assert.deepEqual(log.archs, [], 'a teacher step ran the student');
      assert.ok(Number.isFinite(log.losses['teacher_ce']));
    }
  });

  it('trains the teacher with its own learning rate, cosine over the teacher phase', () => {
    // rates[t] is the rate of step t + 1 under the schedule installed by step t.
    const teacherRates = rates.slice(0, 5);
    teacherRates.forEach((r, t) => {
      const want = 0.5 * cfg.teacherLearningRate * (1 + Math.cos((Math.PI * (t + 1)) / 6));
      assert.ok(Math.abs(r - want) < 1e-9, `teacher step ${t + 1}: rate ${r}, cosine gives ${want}`);
    });
  });

  it("records the teacher's held-out accuracy at the end of its phase, in the step log and in state()", () => {
    for (const log of logs.slice(0, 5)) assert.equal(log.losses['teacher_val_accuracy'], undefined);
    const acc = logs[5]?.losses['teacher_val_accuracy'];
    assert.ok(acc !== undefined && acc >= 0 && acc <= 1, `teacher_val_accuracy ${acc}`);
    const rec = s.state().teacher;
    assert.ok(rec);
    assert.equal(rec.step, 5);
    assert.equal(rec.accuracy, acc);
    assert.ok(rec.examples >= 64);
    assert.equal(s.teacherEvaluation(), rec);
    for (const log of logs.slice(6)) assert.equal(log.losses['teacher_val_accuracy'], undefined, 'measured again in a block phase');
  });

  it("the teacher's weights change in the teacher phase and not at all during the block phases", () => {
    let changed = 0;
    for (const [name, v] of atStart) if (!same(v, afterTeacher.get(name) as Float32Array)) changed++;
    assert.ok(changed > 0, 'the teacher did not train');
    assert.equal(atEnd.size, afterTeacher.size);
    for (const [name, v] of afterTeacher) assert.ok(same(v, atEnd.get(name) as Float32Array), `${name} changed during the block phases`);
  });

  it('rates every block, the last one at the end of the run', () => {
    const st = s.state();
    assert.deepEqual(st.ratings.map((r) => r?.step), [6, 7, 8, 11]);
  });
});

describe('DNA teacher preset', () => {
  it("dna-small-teacher is larger than the student's largest candidate (FLOPs and params)", () => {
    const student = resolveSpace({ preset: 'dna-small' });
    const teacher = resolveSpace({ preset: 'dna-small-teacher' });
    for (const kind of ['flops', 'params'] as const) {
      const table = opCostTable(student, kind);
      const largest = table.fixed + Object.values(table.perOp).reduce((sum, row) => sum + Math.max(...row), 0);
      const t = teacher.cost(teacher.maxArch())[kind];
      assert.ok(t > 1.5 * largest, `${kind}: teacher ${t} vs largest candidate ${largest}`);
    }
  });
});
