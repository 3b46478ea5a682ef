// Several checkpoints are kept; a damaged newest one falls back to the next valid one, and no
// message names the directory.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { InvalidArgumentError } from '@supernetd/sdk';
import { CHECKPOINTS_KEPT, loadCheckpoint, saveCheckpoint } from '../src/runtime/checkpoint.ts';
import { describeBackends } from './describe-backends.ts';
import { bareEngine, tinySpace } from './helpers.ts';

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function savedSteps(n: number): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'engine-ckpt-fallback-'));
  dirs.push(dir);
  const engine = bareEngine(tinySpace());
  for (let step = 1; step <= n; step++) {
    engine.stepCount = step;
    await saveCheckpoint(dir, { engine, stream: null, extra: { step } });
    await new Promise((r) => setTimeout(r, 5)); // distinct write times
  }
  engine.dispose();
  return dir;
}

async function manifestOf(dir: string, step: number): Promise<{ weights: string; state: string }> {
  const name = (await readdir(dir)).find((f) => f.startsWith(`manifest-${step}-`));
  assert.ok(name, `manifest of step ${step}`);
  return JSON.parse(await readFile(path.join(dir, name), 'utf8')) as { weights: string; state: string };
}

describeBackends('checkpoint fallback', () => {
  test(`only the newest ${CHECKPOINTS_KEPT} checkpoints are kept`, async () => {
    const dir = await savedSteps(5);
    const files = await readdir(dir);
    assert.equal(files.filter((f) => f.startsWith('manifest-')).length, CHECKPOINTS_KEPT, files.join(', '));
    assert.equal(files.filter((f) => f.startsWith('weights-')).length, CHECKPOINTS_KEPT, files.join(', '));
    assert.ok(!files.some((f) => f.startsWith('manifest-1-') || f.startsWith('manifest-2-')), files.join(', '));
  });

  test('a newest checkpoint with corrupt weights falls back to the previous one', async () => {
    const dir = await savedSteps(3);
    const m = await manifestOf(dir, 3);
    const w = await readFile(path.join(dir, m.weights));
    w[0] = (w[0] ?? 0) ^ 0xff;
    await writeFile(path.join(dir, m.weights), w);
    const engine = bareEngine(tinySpace());
    const skipped: string[] = [];
    const loaded = await loadCheckpoint(dir, engine, (r) => skipped.push(r));
    assert.deepEqual(loaded?.extra, { step: 2 });
    assert.equal(engine.stepCount, 2);
    assert.ok(skipped.length >= 1 && skipped.every((r) => /checksum/.test(r) && !r.includes(dir)), skipped.join(' | '));
    engine.dispose();
  });

  test('a garbled checkpoint.json and a truncated state file fall back too; all damaged is an error without paths', async () => {
    const dir = await savedSteps(3);
    await writeFile(path.join(dir, 'checkpoint.json'), '{"version":1,"st');
    await writeFile(path.join(dir, (await manifestOf(dir, 3)).state), '{"version"');
    const engine = bareEngine(tinySpace());
    assert.deepEqual((await loadCheckpoint(dir, engine))?.extra, { step: 2 });
    for (const step of [1, 2]) await writeFile(path.join(dir, (await manifestOf(dir, step).catch(() => ({ weights: 'none', state: '' }))).weights), 'x');
    await assert.rejects(loadCheckpoint(dir, bareEngine(tinySpace())), (e: unknown) => {
      assert.ok(e instanceof InvalidArgumentError);
      assert.match(e.message, /no valid checkpoint/);
      assert.ok(!e.message.includes(dir) && !e.message.includes(tmpdir()), e.message);
      return true;
    });
    engine.dispose();
  });
});
