// `supernetd export` end to end: the real `supernetd` binary fetches an export from a live
// in-process server and writes it to a directory, and stock tfjs loads the written model.json.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { loadExportedModel } from '@supernetd/engine';
import { startServer } from '@supernetd/server';
import { ConstraintKind } from '@supernetd/client';
import { parseExportArgs, runExportCommand } from '../src/export-command.ts';
import { searchClient } from '../src/search-client.ts';
import { UsageError } from '../src/search-args.ts';

const BIN = fileURLToPath(new URL('../../server/src/bin/supernetd.mjs', import.meta.url));
const run = promisify(execFile);

/** Loads the files written to `dir` with stock tfjs-layers from memory (the engine's loadExportedModel); returns the output shape. */
async function loadWithStockTfjs(dir: string): Promise<number[]> {
  const files = new Map(await Promise.all((await readdir(dir)).map(async (name) => [name, await readFile(join(dir, name))] as const)));
  await tf.setBackend('cpu');
  const model = await loadExportedModel(files);
  const shape = model.inputs[0]!.shape.slice(1) as number[];
  const out = tf.tidy(() => model.predict(tf.zeros([2, ...shape])) as tf.Tensor);
  const outShape = out.shape;
  out.dispose();
  model.dispose();
  return outShape;
}

test('export arguments: exactly one target, and the required flags', () => {
  const base = ['--server', 'h:1', '--experiment', 'e', '--out', 'd'];
  const flops = parseExportArgs([...base, '--flops', '5e6'], {});
  assert.ok(flops !== 'help');
  assert.deepEqual(flops.target, { case: 'constraint', value: { kind: ConstraintKind.FLOPS, target: 5e6 } });
  const sub = parseExportArgs([...base, '--subnet', 's1', '--token', 't'], {});
  assert.ok(sub !== 'help');
  assert.deepEqual([sub.target, sub.token], [{ case: 'subnetId', value: 's1' }, 't']);
  assert.equal(parseExportArgs(['-h'], {}), 'help');
  assert.throws(() => parseExportArgs(base, {}), UsageError);
  assert.throws(() => parseExportArgs([...base, '--subnet', 's', '--flops', '1'], {}), /exactly one of/);
  assert.throws(() => parseExportArgs([...base, '--params=-3'], {}), /--params must be a positive number/);
  assert.throws(() => parseExportArgs(['--experiment', 'e', '--out', 'd', '--flops', '1'], {}), /--server/);
});

test('supernetd --help lists serve, search, report and export', async () => {
  const { stdout } = await run(process.execPath, [BIN, '--help']);
  for (const c of ['serve', 'search', 'report', 'export']) assert.match(stdout, new RegExp(`^  ${c} `, 'm'));
  await assert.rejects(run(process.execPath, [BIN, 'frobnicate']), (e: { code: number; stderr: string }) => e.code === 2 && /unknown command 'frobnicate'/.test(e.stderr));
});

test('supernetd export writes a verified export that stock tfjs loads', async () => {
  await tf.setBackend('cpu');
  const data = await mkdtemp(join(tmpdir(), 'export-cmd-data-'));
  const out = await mkdtemp(join(tmpdir(), 'export-cmd-out-'));
  const server = await startServer({ host: '127.0.0.1', port: 0, dataDir: data, logLevel: 'silent', backend: 'wasm' });
  const api = searchClient(server.address);
  try {
    const exp = await api.createExperiment({
      experimentId: 'export-cli',
      spec: {
        searchSpace: { preset: 'mbv1-small' },
        strategy: { id: 'uniform' },
        training: { dataset: { name: 'fashion-mnist', maxTrainExamples: 256, maxTestExamples: 64 }, batchSize: 16, totalSteps: 10n },
      },
    });
    const [subnet] = await api.sampleSubnet({ experimentId: exp.id });

    // the real binary, as a user runs it
    const bySubnet = join(out, 'by-subnet');
    const { stdout } = await run(process.execPath, [BIN, 'export', '--server', server.address, '--experiment', exp.id, '--subnet', subnet!.id, '--out', bySubnet]);
    assert.match(stdout, /model\.json/);
    assert.deepEqual((await readdir(bySubnet)).sort(), ['arch.json', 'model.json', 'weights.bin']);
    const shape = await loadWithStockTfjs(bySubnet);
    assert.deepEqual(shape, [2, 10]);

    // a server error is exit 1 with the status and reason
    const errs: string[] = [];
    const failed = await runExportCommand(['--server', server.address, '--experiment', 'nope', '--subnet', 'x', '--out', join(out, 'none')], {
      stdout: { write: () => true },
      stderr: { write: (s: string) => errs.push(s) },
    });
    assert.equal(failed, 1);
    assert.match(errs.join(''), /NOT_FOUND.*EXPERIMENT_NOT_FOUND/);
  } finally {
    api.close();
    await server.stop();
    await rm(data, { recursive: true, force: true });
    await rm(out, { recursive: true, force: true });
  }
});
