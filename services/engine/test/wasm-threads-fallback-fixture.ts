// Worker-thread fixture of wasm-threads.test.ts: a host where the threaded build cannot start (here
// without SharedArrayBuffer while the backend starts) still gets a working wasm backend on 1 thread.
import { parentPort } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import { backendInfo, initBackend } from '../src/backend/select-backend.ts';

const g = globalThis as { SharedArrayBuffer?: unknown };
const sab = g.SharedArrayBuffer;
delete g.SharedArrayBuffer;
try {
  await initBackend('wasm', { threads: 2 });
} finally {
  g.SharedArrayBuffer = sab;
}
const product = await tf.matMul(tf.ones([4, 3]), tf.ones([3, 2])).data();
parentPort!.postMessage({ info: backendInfo(), product: Array.from(product) });
