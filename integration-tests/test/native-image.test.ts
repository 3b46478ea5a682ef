// The image variant with the native TensorFlow backend (Dockerfile.native): it carries the binding
// built from the pinned tensorflow-cpu wheel and that wheel's two libraries (no headers or build
// tools), its server starts on `tensorflow` (the image's default) and, with `auto`, chooses it, and
// a small experiment trains on it over gRPC and reports backend `tensorflow` on the CPU.
//
// SUPERNETD_IT_NATIVE=0 skips the file (.ci/run sets it when the native backend is not built,
// since the image build then has no wheel and may have no PyPI).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import type { Experiment, SupernetdClient } from '@supernetd/client';
import {
  connectClient,
  followTrain,
  makeDataDir,
  nativeServerImage,
  removeDataDir,
  smallSpec,
  SupernetdContainer,
  waitForReady,
} from '../src/index.ts';

const run = promisify(execFile);
const EXPERIMENT = 'native-train';
const DEPS = '/app/node_modules/@tensorflow/tfjs-node/deps';

const skip = process.env['SUPERNETD_IT_NATIVE'] === '0' ? 'SUPERNETD_IT_NATIVE=0: the native image is not built in this run' : false;

/** The server's startup line saying which engine backend it checked and chose. */
interface BackendLine {
  msg: string;
  preference: string;
  backend: string;
  device: string;
  tensorflowVersion?: string;
  reason: string;
}

async function backendLine(server: SupernetdContainer): Promise<BackendLine> {
  const lines = (await server.logs()).split('\n').filter((l) => l.startsWith('{'));
  const found = lines.map((l) => JSON.parse(l) as Partial<BackendLine>).find((l) => l.msg?.startsWith('engine backend:'));
  assert.ok(found, `the server logs its engine backend at startup:\n${lines.join('\n')}`);
  return found as BackendLine;
}

function getExperiment(client: SupernetdClient): Promise<Experiment> {
  return client.getExperiment(EXPERIMENT);
}

/** Trains `steps` steps through a Train stream and checks each streamed step. */
async function train(client: SupernetdClient, steps: number): Promise<void> {
  const from = (await getExperiment(client)).step;
  const log = await followTrain(client.train({ experimentId: EXPERIMENT, steps, progressInterval: 1 }), () => false).done;
  assert.equal(log.error, undefined, `Train: ${log.error?.code} ${log.error?.details}`);
  const last = log.events.at(-1);
  assert.ok(last, 'Train streamed progress');
  assert.equal(last.done, true);
  assert.equal(last.step, from + BigInt(steps));
  for (const e of log.events) for (const [name, v] of Object.entries(e.losses)) assert.ok(Number.isFinite(v), `loss ${name} at step ${e.step} is ${v}`);
}

describe('native TensorFlow image', { skip }, () => {
  let image: string;
  let dataDir: string;
  const started: SupernetdContainer[] = [];

  before(async () => {
    image = await nativeServerImage();
    dataDir = await makeDataDir('native');
  });

  after(async () => {
    for (const s of started) await s.remove();
    if (dataDir) await removeDataDir(dataDir);
  });

  test('the image carries the built binding and two TensorFlow libraries, no headers or build tools, and defaults to tensorflow', async () => {
    const { stdout: env } = await run('docker', ['image', 'inspect', '--format', '{{json .Config.Env}}', image]);
    assert.ok((JSON.parse(env) as string[]).includes('SUPERNETD_BACKEND=tensorflow'), `image env: ${env}`);
    const { stdout: size } = await run('docker', ['image', 'inspect', '--format', '{{.Size}}', image]);
    console.log(`# ${image}: ${(Number(size) / 1e6).toFixed(0)} MB`);

    const probe = [
      `ls ${DEPS}`,
      `ls ${DEPS}/lib`,
      'ls /app/node_modules/@tensorflow/tfjs-node/lib/napi-v*/',
      'for t in g++ gcc make python3 pip3; do command -v $t || true; done',
    ].join('; echo ---; ');
    const { stdout } = await run('docker', ['run', '--rm', '--network', 'none', '--entrypoint', 'sh', image, '-c', probe]);
    const [deps, lib, binding, tools] = stdout.split('---\n').map((s) => s.split('\n').filter(Boolean));
    assert.deepEqual(deps, ['lib'], 'deps/ holds the libraries only (no include/)');
    assert.deepEqual(lib, ['libtensorflow.so.2', 'libtensorflow_cc.so.2', 'libtensorflow_framework.so.2']);
    assert.deepEqual(binding, ['tfjs_binding.node']);
    assert.deepEqual(tools, [], 'no compiler, make or Python in the runtime image');
  });

  test('the server starts on tensorflow and a small experiment trains on it over gRPC', async () => {
    const server = await SupernetdContainer.start({ dataDir, image });
    started.push(server);
    const line = await backendLine(server);
    assert.equal(line.preference, 'tensorflow');
    assert.equal(line.backend, 'tensorflow');
    assert.equal(line.device, 'CPU');
    assert.equal(line.tensorflowVersion, '2.21.0');

    const client = connectClient(server.address);
    try {
      await waitForReady(client);
      await client.createExperiment({ experimentId: EXPERIMENT, spec: smallSpec({ name: 'native image', checkpointInterval: 2 }) });
      await train(client, 3);
      const exp = await getExperiment(client);
      assert.equal(exp.backend, 'tensorflow');
      assert.equal(exp.device, 'CPU');
      assert.equal(exp.step, 3n);
    } finally {
      client.close();
    }
    assert.equal(await server.stop(), 0, 'SIGTERM stops the server cleanly');
  });

  test('with SUPERNETD_BACKEND=auto the server chooses tensorflow and training goes on there', async () => {
    const server = await SupernetdContainer.start({ dataDir, image, env: { SUPERNETD_BACKEND: 'auto' } });
    started.push(server);
    const line = await backendLine(server);
    assert.equal(line.preference, 'auto');
    assert.equal(line.backend, 'tensorflow', `auto chose ${line.backend}: ${line.reason}`);

    const client = connectClient(server.address);
    try {
      await waitForReady(client);
      await train(client, 2);
      const exp = await getExperiment(client);
      assert.equal(exp.backend, 'tensorflow');
      assert.equal(exp.device, 'CPU');
    } finally {
      client.close();
    }
  });
});
