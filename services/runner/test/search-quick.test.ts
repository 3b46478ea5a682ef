import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { loadExportedModel } from '@supernetd/engine';
import { spaceFlopsRange, startInProcessServer } from '@supernetd/server';
import { RUN_FILES } from '../src/run-dir.ts';
import type { RunManifest, RunSummary } from '../src/run-dir.ts';
import { parseSearchArgs } from '../src/search-args.ts';
import type { SearchOptions } from '../src/search-args.ts';
import { EXIT_INTERRUPTED, runSearch } from '../src/search-run.ts';
import { parseXml } from './xml-check.ts';

function quickOptions(out: string): SearchOptions {
  const c = parseSearchArgs([
    '--quick', '--strategy', 'uniform', '--steps', '6', '--budgets', '3e6,8e6', '--out', out,
    '--max-train', '256', '--max-test', '64', '--batch-size', '16', '--progress-interval', '2',
  ]);
  assert.equal(c.kind, 'run');
  return c.kind === 'run' ? c.options : assert.fail();
}

const quiet = { write: () => true };

/** Loads an exported model with stock tfjs-layers from memory (the engine's loadExportedModel) and runs one prediction. */
async function loadAndPredict(dir: string): Promise<number[]> {
  const files = new Map(await Promise.all((await readdir(dir)).map(async (name) => [name, await readFile(join(dir, name))] as const)));
  await tf.setBackend('cpu');
  const before = tf.memory().numTensors;
  const model = await loadExportedModel(files);
  const shape = model.inputs[0]!.shape.slice(1) as number[];
  const out = tf.tidy(() => model.predict(tf.zeros([2, ...shape])) as tf.Tensor);
  const outShape = out.shape;
  out.dispose();
  model.dispose();
  assert.equal(tf.memory().numTensors, before, 'no tensors leak from loading and predicting');
  return outShape;
}

const host = { startServer: startInProcessServer, spaceFlopsRange };

test('search --quick end to end in-process: interrupt, resume, exports, summary, report', async () => {
  await tf.setBackend('cpu');
  const out = await mkdtemp(join(tmpdir(), 'search-quick-'));
  try {
    // First invocation: stopped after the first progress event, as Ctrl-C would.
    const controller = new AbortController();
    const first = await runSearch(
      quickOptions(out),
      { stderr: quiet, stdout: quiet, signal: controller.signal, onTrainEvent: () => controller.abort() },
      host,
    );
    assert.equal(first, EXIT_INTERRUPTED);
    const manifest = JSON.parse(await readFile(join(out, RUN_FILES.manifest), 'utf8')) as RunManifest;
    assert.equal(manifest.status, 'interrupted');
    await assert.rejects(stat(join(out, RUN_FILES.summary)), 'no summary before the run finishes');
    await assert.rejects(runSearch(quickOptions(out), { stderr: quiet, stdout: quiet }, host), /--resume/);

    // --resume re-attaches to the same experiment and continues to the target step.
    const resumed = await runSearch({ ...quickOptions(out), resume: true }, { stderr: quiet, stdout: quiet }, host);
    assert.equal(resumed, 0);

    const summary = JSON.parse(await readFile(join(out, RUN_FILES.summary), 'utf8')) as RunSummary;
    assert.equal(summary.experimentId, manifest.experimentId);
    assert.equal(summary.strategy, 'uniform');
    assert.equal(summary.targetStep, 6);
    assert.equal(summary.stepsDone, 6);
    assert.equal(summary.quick, true);
    assert.ok(summary.spaceCost.minFlops > 0 && summary.spaceCost.maxFlops > summary.spaceCost.minFlops);
    assert.deepEqual(summary.budgets.map((b) => b.target), [3e6, 8e6]);
    for (const b of summary.budgets) {
      assert.ok(b.cost.flops > 0 && b.cost.flops <= b.target, `subnet fits ${b.target}`);
      assert.ok(b.accuracy >= 0 && b.accuracy <= 1);
      assert.equal(b.examples, 64);
      assert.match(b.subnetId, /^sn-/);
      assert.equal(b.exportDir, `budget-${b.target}`);
      for (const f of ['model.json', 'weights.bin', 'arch.json']) {
        assert.ok((await stat(join(out, b.exportDir, f))).size > 0, `${b.exportDir}/${f}`);
      }
      assert.deepEqual(await loadAndPredict(join(out, b.exportDir)), [2, 10]);
    }

    const progress = (await readFile(join(out, RUN_FILES.progress), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { step: number });
    assert.equal(progress[progress.length - 1]!.step, 6);
    const metrics = (await readFile(join(out, RUN_FILES.metrics), 'utf8')).trim().split('\n');
    assert.ok(metrics.length >= 2, 'one reported metric per budget at least');

    const md = await readFile(join(out, RUN_FILES.report), 'utf8');
    const svgs = [...md.matchAll(/!\[[^\]]*\]\(([^)]+\.svg)\)/g)].map((m) => m[1]!);
    assert.ok(svgs.includes('plots/accuracy-vs-flops.svg') && svgs.includes('plots/training-loss.svg'));
    for (const s of svgs) assert.equal(parseXml(await readFile(join(out, s), 'utf8')).name, 'svg', s);
  } finally {
    await rm(out, { recursive: true, force: true });
  }
});
