// `supernetd trial` against a real server over gRPC: the export it fetches, evaluated here with
// stock tfjs, scores the same batch as the server's own Evaluate of that subnet.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { ElementType } from '@supernetd/api';
import { startServer } from '../src/index.ts';
import type { RunningServer } from '../src/index.ts';
import { evaluateExport, readNpyBatch, runTrialCommand } from '../src/katib/katib-trial.ts';
import { connectClient, tempDir, tinySpec } from './helpers.ts';
import type { SupernetdClient } from '@supernetd/client';

/** A `.npy` file (format 1.0) of `data` with `descr` and `shape`. */
function npy(descr: string, shape: number[], data: Uint8Array): Buffer {
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  header += ' '.repeat(63 - ((10 + header.length) % 64)) + '\n';
  const head = Buffer.alloc(10);
  head.writeUInt8(0x93, 0);
  head.write('NUMPY', 1, 'latin1');
  head.writeUInt8(1, 6);
  head.writeUInt8(0, 7);
  head.writeUInt16LE(header.length, 8);
  return Buffer.concat([head, Buffer.from(header, 'latin1'), Buffer.from(data)]);
}

const N = 24;
let server: RunningServer;
let client: SupernetdClient;
let subnet: { id: string; flops: number; params: number };
let images: Uint8Array;
let labels: Int32Array;
const tmp = tempDir('supernetd-katib-trial-');

before(async () => {
  server = await startServer({ port: 0, dataDir: path.join(tmp.dir, 'data'), logLevel: 'warn', backend: 'wasm' });
  client = connectClient(server.address);
  await client.createExperiment({ experimentId: 'trial', spec: tinySpec() });
  await client.trainStep({ experimentId: 'trial', input: { case: 'steps', value: 4 } });
  const [s] = await client.sampleSubnet({ experimentId: 'trial' });
  assert.ok(s?.cost);
  subnet = { id: s.id, flops: s.cost.flops, params: s.cost.params };
  // a fixed pseudo-random batch: what matters is that both sides score the same pixels
  images = new Uint8Array(N * 28 * 28);
  let x = 12345;
  for (let i = 0; i < images.length; i++) images[i] = (x = (x * 1103515245 + 12345) >>> 0) >>> 24;
  labels = Int32Array.from({ length: N }, (_, i) => (i * 7) % 10);
  writeFileSync(path.join(tmp.dir, 'images.npy'), npy('|u1', [N, 28, 28, 1], images));
  writeFileSync(path.join(tmp.dir, 'labels.npy'), npy('<i8', [N], new Uint8Array(BigInt64Array.from(labels, (v) => BigInt(v)).buffer)));
});

after(async () => {
  client?.close();
  await server?.stop();
  tmp.remove();
});

async function trial(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runTrialCommand(args, { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) } });
  return { code, out, err };
}

function metrics(out: string): Record<string, number> {
  return Object.fromEntries(out.trim().split('\n').map((l) => {
    const [k, v] = l.split('=');
    return [k, Number(v)];
  }));
}

test('the trial evaluates the fetched export on its own data as the server scores that batch, and prints name=value lines', async () => {
  const outDir = path.join(tmp.dir, 'export');
  const r = await trial(['--server', server.address, '--experiment', 'trial', '--subnet', subnet.id, '--data', tmp.dir, '--out', outDir]);
  assert.equal(r.code, 0, r.err);
  const m = metrics(r.out);
  assert.deepEqual(Object.keys(m), ['accuracy', 'loss', 'flops', 'params', 'examples']);
  assert.equal(m.flops, subnet.flops);
  assert.equal(m.params, subnet.params);
  assert.equal(m.examples, N);
  const served = await client.evaluate({
    experimentId: 'trial',
    target: { case: 'subnetId', value: subnet.id },
    batch: {
      images: { dtype: ElementType.UINT8, shape: [N, 28, 28, 1], data: images },
      labels: { dtype: ElementType.INT32, shape: [N], data: new Uint8Array(labels.buffer) },
    },
  });
  assert.equal(served.examples, N);
  assert.ok(Math.abs((m.loss as number) - served.loss) < 1e-3 * Math.max(1, served.loss), `trial loss ${m.loss}, server loss ${served.loss}`);
  assert.ok(Math.abs((m.accuracy as number) - served.accuracy) <= 1 / N + 1e-9, `trial accuracy ${m.accuracy}, server ${served.accuracy}`);
});

test('without data the server evaluates the subnet on the experiment test split', async () => {
  const r = await trial(['--server', server.address, '--experiment', 'trial', '--subnet', subnet.id, '--max-examples', '16']);
  assert.equal(r.code, 0, r.err);
  const m = metrics(r.out);
  assert.equal(m.examples, 16);
  assert.ok((m.accuracy as number) >= 0 && (m.accuracy as number) <= 1);
});

test('evaluating an export disposes every tensor', async () => {
  const r = await trial(['--server', server.address, '--experiment', 'trial', '--subnet', subnet.id, '--data', tmp.dir]);
  assert.equal(r.code, 0, r.err);
  const { readdirSync, readFileSync } = await import('node:fs');
  const dir = path.join(tmp.dir, 'export');
  const files = new Map(readdirSync(dir).map((f) => [f, readFileSync(path.join(dir, f))]));
  await tf.setBackend('cpu');
  const tensorsBefore = tf.memory().numTensors;
  await evaluateExport(files, { images: Float32Array.from(images, (v) => v / 255), shape: [N, 28, 28, 1], labels });
  assert.equal(tf.memory().numTensors, tensorsBefore);
});

test('usage errors exit 2; a subnet the experiment never handed out exits 1 naming it', async () => {
  assert.equal((await trial(['--server', server.address, '--experiment', 'trial'])).code, 2);
  assert.equal((await trial(['--server', server.address, '--experiment', 'trial', '--subnet', subnet.id, '--max-examples', '0'])).code, 2);
  const r = await trial(['--server', server.address, '--experiment', 'trial', '--subnet', 'sn-0000000000000000']);
  assert.equal(r.code, 1);
  assert.match(r.err, /sn-0000000000000000/);
});

test('readNpyBatch scales integer images by 1/255, keeps float ones, and refuses bad files by name', async () => {
  const dir = path.join(tmp.dir, 'npy-batch');
  mkdirSync(dir, { recursive: true });
  const write = (file: string, descr: string, shape: number[], data: ArrayBufferView) =>
    writeFileSync(path.join(dir, file), npy(descr, shape, new Uint8Array(data.buffer, data.byteOffset, data.byteLength)));
  write('images.npy', '<f4', [2, 1, 1], new Float32Array([0.5, 1]));
  write('labels.npy', '<i8', [2], new BigInt64Array([3n, 1n]));
  let b = await readNpyBatch(dir);
  assert.deepEqual([...b.images], [0.5, 1]);
  assert.deepEqual(b.shape, [2, 1, 1, 1]);
  assert.deepEqual([...b.labels], [3, 1]);
  write('images.npy', '|u1', [2, 1, 1, 1], new Uint8Array([255, 51]));
  write('labels.npy', '<i4', [2], new Int32Array([0, 9]));
  b = await readNpyBatch(dir);
  assert.deepEqual([...b.images], [1, Math.fround(0.2)]);
  assert.deepEqual([...b.labels], [0, 9]);
  write('labels.npy', '<f4', [2], new Float32Array([0, 1]));
  await assert.rejects(readNpyBatch(dir), /labels\.npy: must hold 2 integer labels/);
  write('labels.npy', '<i4', [3], new Int32Array([0, 1, 2]));
  await assert.rejects(readNpyBatch(dir), /labels\.npy: must hold 2 integer labels, got shape \(3\)/);
  write('labels.npy', '>i4', [2], new Int32Array([0, 1]));
  await assert.rejects(readNpyBatch(dir), /'labels\.npy' has unsupported dtype '>i4'/);
  writeFileSync(path.join(dir, 'images.npy'), 'nope');
  await assert.rejects(readNpyBatch(dir), /'images\.npy' is not an NPY file/);
});
