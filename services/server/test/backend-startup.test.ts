// The engine backend is checked at startup: a choice that cannot load stops the server with the
// reason, `auto` logs what it chose and why, and GetExperiment and /metrics report the backend and
// its device. With the native binding built (npm run setup:tensorflow), a tiny experiment trains a
// step on `tensorflow` over gRPC; SUPERNETD_REQUIRE_TENSORFLOW=1 (CI) turns that skip into a failure.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { pino } from 'pino';
import { BackendUnavailableError, startServer } from '../src/index.ts';
import { probeBackend } from '../src/worker/probe-backend.ts';
import { connectClient, scrape, tempDir, tinySpec } from './helpers.ts';

const BIN = fileURLToPath(new URL('../src/bin/supernetd.mjs', import.meta.url));

/** Whether `tensorflow` loads here; with SUPERNETD_REQUIRE_TENSORFLOW=1 it must. */
async function tensorflowLoads(): Promise<boolean> {
  try {
    await probeBackend('tensorflow');
    return true;
  } catch (err) {
    if (process.env.SUPERNETD_REQUIRE_TENSORFLOW === '1') throw err;
    return false;
  }
}

/** Runs `supernetd serve` with `args` until it exits or prints that it listens (then stops it). */
function serve(args: string[], dataDir: string): Promise<{ code: number | null; stdout: string; stderr: string; listened: boolean }> {
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--data-dir', dataDir, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let listened = false;
    proc.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (!listened && stdout.includes('listening on')) {
        listened = true;
        proc.kill('SIGTERM');
      }
    });
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    proc.on('exit', (code) => resolve({ code, stdout, stderr, listened }));
  });
}

test("`supernetd serve --backend gpu` without a usable GPU stops at startup with the reason", async (t) => {
  const data = tempDir();
  try {
    const r = await serve(['--backend', 'gpu', '--log-level', 'warn'], data.dir);
    if (r.listened) {
      t.skip('tfjs-node-gpu runs on a GPU here');
      return;
    }
    assert.equal(r.code, 1, `exit code; stderr: ${r.stderr}`);
    assert.match(
      r.stderr,
      /supernetd: backend 'gpu' cannot be used, so the server does not start: backend 'gpu' (needs @tensorflow\/tfjs-node-gpu|: @tensorflow\/tfjs-node-gpu loads but TensorFlow found no usable GPU)/,
    );
    assert.doesNotMatch(r.stdout, /listening/);
  } finally {
    data.remove();
  }
});

test("startServer with backend 'tensorflow' that cannot load rejects with the reason", async (t) => {
  if (await tensorflowLoads()) {
    t.skip('the tensorflow backend loads here');
    return;
  }
  const data = tempDir();
  try {
    await assert.rejects(
      startServer({ port: 0, dataDir: data.dir, logLevel: 'warn', backend: 'tensorflow' }),
      (err: Error) =>
        err instanceof BackendUnavailableError && /backend 'tensorflow' cannot be used.*neither loads: .*@tensorflow\/tfjs-node: /.test(err.message),
    );
  } finally {
    data.remove();
  }
});

test("'auto' logs what it chose and why, and the workers run on that", async () => {
  const data = tempDir();
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n')) if (l.trim()) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  const server = await startServer({ port: 0, dataDir: data.dir, backend: 'auto' }, { logger: pino({ level: 'info' }, sink) });
  try {
    const chosen = lines.find((l) => typeof l.msg === 'string' && l.msg.startsWith('engine backend: '));
    assert.ok(chosen, 'a log line says which backend');
    assert.equal(chosen.preference, 'auto');
    assert.match(String(chosen.reason), /^auto: (@tensorflow\/tfjs-node(-gpu)? loads|wasm, because no native binding loads)/);
    assert.equal(chosen.backend, server.backend.backend);
    assert.equal(server.backend.workerPreference, server.backend.backend === 'tensorflow' ? 'tensorflow' : 'wasm');
  } finally {
    await server.stop();
    data.remove();
  }
});

test("with the native binding built, a tiny experiment trains a step on 'tensorflow' and GetExperiment and /metrics report it", async (t) => {
  if (!(await tensorflowLoads())) {
    t.skip('no native binding here; npm run setup:tensorflow builds one');
    return;
  }
  const data = tempDir();
  const server = await startServer({ port: 0, dataDir: data.dir, logLevel: 'warn', metricsPort: 0, backend: 'tensorflow' });
  const client = connectClient(server.address);
  try {
    assert.equal(server.backend.backend, 'tensorflow');
    assert.match(server.backend.tensorflowVersion ?? '', /^2\./);
    await client.createExperiment({ experimentId: 'tf', spec: tinySpec() });
    const step = await client.trainStep({ experimentId: 'tf', input: { case: 'steps', value: 1 } });
    assert.ok(step.subnets.length >= 1);
    const got = await client.getExperiment('tf');
    assert.equal(got.step, 1n);
    assert.equal(got.backend, 'tensorflow');
    assert.equal(got.device, server.backend.device);
    assert.match(got.device, /^(CPU|GPU.*)$/);
    const port = server.metricsPort as number;
    assert.equal(await scrape(port, 'supernetd_backend_info', { preference: 'tensorflow', backend: 'tensorflow', device: got.device }), 1);
    assert.equal(await scrape(port, 'supernetd_experiment_backend_info', { experiment: 'tf', backend: 'tensorflow', device: got.device }), 1);
  } finally {
    client.close();
    await server.stop();
    data.remove();
  }
});
