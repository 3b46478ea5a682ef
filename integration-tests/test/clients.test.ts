// Every client against the container: the TypeScript client's test suite and each language's
// search-loop example (TypeScript, Python, Go, Java) run with SUPERNETD_ADDR pointing at a server
// container that requires a bearer token. A language whose toolchain is missing is skipped with a
// message; SUPERNETD_IT_LANGUAGES (comma-separated) picks a subset. Each example must write
// TF.js models that stock tf.loadLayersModel loads.
import assert from 'node:assert/strict';
import { access, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { loadExportedModel } from '@supernetd/engine';
import {
  makeDataDir,
  onPath,
  readExportDir,
  removeDataDir,
  REPO_ROOT,
  runCommand,
  SupernetdContainer,
  useCpuBackend,
} from '../src/index.ts';

const TOKEN = `integration-${process.pid}-${Date.now()}`;
const chosen = process.env['SUPERNETD_IT_LANGUAGES']?.split(',').map((s) => s.trim());

let dataDir: string;
let outRoot: string;
let server: SupernetdContainer;
let env: Record<string, string>;

before(async () => {
  dataDir = await makeDataDir('clients');
  outRoot = await makeDataDir('client-exports');
  server = await SupernetdContainer.start({ dataDir, env: { SUPERNETD_AUTH_TOKEN: TOKEN } });
  env = { SUPERNETD_ADDR: server.address, SUPERNETD_TOKEN: TOKEN, SUPERNETD_REQUIRE_SERVER: '1' };
});

after(async () => {
  await server?.remove();
  await removeDataDir(dataDir);
  await removeDataDir(outRoot);
});

async function exists(path: string): Promise<boolean> {
  return access(join(REPO_ROOT, path)).then(
    () => true,
    () => false,
  );
}

/** Why a language cannot run here, or false when it can. */
async function skipReason(language: string, tools: string[], files: string[]): Promise<string | false> {
  if (chosen && !chosen.includes(language)) return `not in SUPERNETD_IT_LANGUAGES=${chosen.join(',')}`;
  for (const t of tools) if (!(await onPath(t))) return `${t} is not installed`;
  for (const f of files) if (!(await exists(f))) return `${f} does not exist yet`;
  return false;
}

/** Loads every model an example wrote under `dir` (one sub-directory per budget). */
async function loadWrittenModels(dir: string): Promise<number> {
  const budgets = (await readdir(dir, { withFileTypes: true })).filter((d) => d.isDirectory());
  assert.ok(budgets.length > 0, `the example wrote models under ${dir}`);
  for (const b of budgets) {
    await useCpuBackend();
    const model = await loadExportedModel(await readExportDir(join(dir, b.name)));
    const before = tf.memory().numTensors;
    const shape = model.inputs[0]!.shape.map((d) => d ?? 1);
    const y = tf.tidy(() => model.predict(tf.zeros(shape)) as tf.Tensor);
    assert.equal(y.shape.length, 2, `${b.name}: one row of class scores`);
    y.dispose();
    assert.equal(tf.memory().numTensors, before);
    model.dispose();
  }
  return budgets.length;
}

async function runExample(language: string, command: string, args: (out: string) => string[], cwd: string): Promise<void> {
  const out = join(outRoot, language);
  const res = await runCommand(command, args(out), { cwd: join(REPO_ROOT, cwd), env, timeoutMs: 600_000 });
  assert.equal(res.code, 0, `${language} example failed (${res.code ?? res.signal}):\n${res.output.slice(-6000)}`);
  const models = await loadWrittenModels(out);
  console.log(`# ${language} example: ${models} model(s) written and loaded, ${res.seconds.toFixed(1)} s`);
}

test('TypeScript client test suite against the container', async (t) => {
  const why = await skipReason('typescript', [], ['clients/typescript/test/client.test.ts']);
  if (why) return void t.skip(why);
  const res = await runCommand(
    process.execPath,
    ['--import', 'tsx', '--test', '--test-reporter=tap', '--test-concurrency=1', 'clients/typescript/test/client.test.ts'],
    { cwd: REPO_ROOT, env, timeoutMs: 600_000 },
  );
  assert.equal(res.code, 0, `TypeScript client suite failed:\n${res.output.slice(-6000)}`);
  const summary = /# pass (\d+)[\s\S]*# fail (\d+)[\s\S]*# skipped (\d+)/.exec(res.output);
  assert.ok(summary, 'the suite printed a summary');
  assert.equal(summary[2], '0');
  assert.equal(summary[3], '0', 'nothing in the suite was skipped');
  console.log(`# TypeScript client suite: ${summary[1]} passed in ${res.seconds.toFixed(1)} s`);
});

test('TypeScript example', async (t) => {
  const why = await skipReason('typescript', [], ['clients/typescript/examples/search-loop.ts']);
  if (why) return void t.skip(why);
  await runExample('typescript', process.execPath, (out) => ['--import', 'tsx', 'clients/typescript/examples/search-loop.ts', out], '.');
});

test('Python example', async (t) => {
  const why = await skipReason('python', ['python3'], ['clients/python/examples/search_loop.py', 'clients/python/venv.sh']);
  if (why) return void t.skip(why);
  // venv.sh creates clients/python/.venv with the pinned dependencies, once per requirements change;
  // the client itself is imported from its source tree, as clients/run-tests.sh does.
  await runExample(
    'python',
    'bash',
    (out) => [
      '-c',
      'source clients/python/venv.sh && ensure_python_venv && PYTHONPATH=clients/python/src exec "$PYTHON_VENV/bin/python" clients/python/examples/search_loop.py "$1"',
      'python-example',
      out,
    ],
    '.',
  );
});

test('Go example', async (t) => {
  const why = await skipReason('go', ['go'], ['clients/go/examples/searchloop/cmd/search-loop/main.go']);
  if (why) return void t.skip(why);
  await runExample('go', 'go', (out) => ['run', './examples/searchloop/cmd/search-loop', out], 'clients/go');
});

test('Java example', async (t) => {
  const why = await skipReason('java', ['mvn', 'java'], ['clients/java/pom.xml', 'clients/java/examples']);
  if (why) return void t.skip(why);
  await runExample('java', 'mvn', (out) => ['-q', '-B', '-Dstyle.color=never', 'test-compile', 'exec:java', `-Dexec.args=${out}`], 'clients/java');
});
