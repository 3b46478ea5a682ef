// Configuration (flags, environment, file), the strategy registry and third-party strategy modules.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { configFromArgs } from '../src/cli-config.ts';
import { DEFAULT_CONFIG, resolveConfig, startServer } from '../src/index.ts';
import { connectClient, tempDir, tinySpec } from './helpers.ts';

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

test('precedence: flag > environment > config file > default', () => {
  const dir = tempDir();
  try {
    const file = path.join(dir.dir, 'supernetd.json');
    writeFileSync(file, JSON.stringify({ port: 6000, dataDir: '/from/file', logLevel: 'debug', maxConcurrentTrainingPerExperiment: 2 }));
    const { config } = configFromArgs(['serve', '--config', file, '--port', '7000'], { SUPERNETD_PORT: '6500', SUPERNETD_DATA_DIR: '/from/env', SUPERNETD_AUTH_TOKEN: 't' });
    assert.equal(config.port, 7000);
    assert.equal(config.dataDir, '/from/env');
    assert.equal(config.logLevel, 'debug');
    assert.equal(config.maxConcurrentTrainingPerExperiment, 2);
    assert.equal(config.authToken, 't');
    assert.equal(config.host, DEFAULT_CONFIG.host);
    assert.equal(config.maxMessageBytes, 64 * 1024 * 1024);
    const strategies = configFromArgs(['serve', '--strategy', 'a', '--strategy', './b.ts'], { SUPERNETD_STRATEGIES: 'x,y' }).config.strategies;
    assert.deepEqual(strategies, ['a', './b.ts']);
    assert.deepEqual(configFromArgs(['serve'], { SUPERNETD_STRATEGIES: 'x, y' }).config.strategies, ['x', 'y']);
    writeFileSync(file, JSON.stringify({ prot: 1 }));
    assert.throws(() => configFromArgs(['serve', '--config', file], {}), /unknown setting 'prot'/);
  } finally {
    dir.remove();
  }
});

test('engineThreads: flag and environment; default 0 (every core)', () => {
  assert.equal(configFromArgs(['serve'], {}).config.engineThreads, 0);
  assert.equal(configFromArgs(['serve'], { SUPERNETD_ENGINE_THREADS: '1' }).config.engineThreads, 1);
  assert.equal(configFromArgs(['serve', '--engine-threads', '2'], { SUPERNETD_ENGINE_THREADS: '1' }).config.engineThreads, 2);
});

test('workerIdleSeconds: flag, environment and file; default 600; 0 allowed, negatives refused', () => {
  const dir = tempDir();
  try {
    assert.equal(configFromArgs(['serve'], {}).config.workerIdleSeconds, 600);
    const file = path.join(dir.dir, 'supernetd.json');
    writeFileSync(file, JSON.stringify({ workerIdleSeconds: 30 }));
    assert.equal(configFromArgs(['serve', '--config', file], {}).config.workerIdleSeconds, 30);
    assert.equal(configFromArgs(['serve', '--config', file], { SUPERNETD_WORKER_IDLE_SECONDS: '0' }).config.workerIdleSeconds, 0);
    assert.equal(
      configFromArgs(['serve', '--config', file, '--worker-idle-seconds', '5'], { SUPERNETD_WORKER_IDLE_SECONDS: '0' }).config.workerIdleSeconds,
      5,
    );
    assert.throws(() => configFromArgs(['serve', '--worker-idle-seconds=-1'], {}), /workerIdleSeconds must be an integer in \[0, /);
    assert.throws(() => configFromArgs(['serve', '--worker-idle-seconds', '1.5'], {}), /--worker-idle-seconds must be an integer/);
  } finally {
    dir.remove();
  }
});

test('bad settings are refused with the setting named', () => {
  assert.throws(() => configFromArgs(['serve', '--port', 'x'], {}), /--port must be an integer/);
  assert.throws(() => configFromArgs(['serve', '--backend', 'tpu'], {}), /backend must be auto, wasm, cpu, tensorflow or gpu/);
  assert.throws(() => configFromArgs(['start'], {}), /expected the command 'serve'/);
  assert.throws(() => configFromArgs(['serve', '--bogus'], {}), /bogus/);
  assert.throws(() => resolveConfig({ port: 70000 }), /port must be an integer in \[0, 65535\]/);
  assert.throws(() => resolveConfig({ tlsCertPath: '/c.pem' }), /tlsCertPath and tlsKeyPath must be set together/);
  assert.throws(() => resolveConfig({ engineThreads: -1 }), /engineThreads must be an integer in \[0, 1024\]/);
  assert.equal(configFromArgs(['--help'], {}).help, true);
});

test('a strategy module named by path is registered, listed and trains in a worker', async () => {
  const data = tempDir();
  const server = await startServer({ port: 0, dataDir: data.dir, logLevel: 'silent', strategies: [fixture('renamed-uniform-strategy.ts')] });
  const client = connectClient(server.address);
  try {
    const list = await client.listStrategies();
    const entry = list.find((s) => s.id === 'uniform-copy');
    assert.equal(entry?.origin, fixture('renamed-uniform-strategy.ts'));
    assert.deepEqual(list.map((s) => s.id), [...list.map((s) => s.id)].sort(), 'ordered by id');
    await client.createExperiment({ experimentId: 'plug', spec: tinySpec({ strategy: 'uniform-copy' }) });
    const r = await client.trainStep({ experimentId: 'plug', input: { case: 'steps', value: 1 } });
    assert.equal(r.step, 1n);
  } finally {
    client.close();
    await server.stop();
    data.remove();
  }
});

test('duplicate strategy ids and modules without strategies refuse to start', async () => {
  const data = tempDir();
  try {
    await assert.rejects(
      startServer({ port: 0, dataDir: data.dir, logLevel: 'silent', strategies: [fixture('duplicate-uniform-strategy.ts')] }),
      /strategy id 'uniform' from '.*duplicate-uniform-strategy\.ts' is already registered by 'builtin'/,
    );
    await assert.rejects(
      startServer({ port: 0, dataDir: data.dir, logLevel: 'silent', strategies: [fixture('not-a-strategy.ts')] }),
      /exports neither 'strategy' nor 'strategies'/,
    );
    await assert.rejects(startServer({ port: 0, dataDir: data.dir, logLevel: 'silent', strategies: ['@supernetd/no-such-strategy'] }), /cannot load strategy module '@supernetd\/no-such-strategy'/);
  } finally {
    data.remove();
  }
});
