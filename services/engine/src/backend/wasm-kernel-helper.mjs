// A helper thread of the wasm kernel pool (wasm-kernel-pool.ts): it instantiates the engine's SIMD
// module over the backend's shared memory, then waits for dispatches on the control block and runs
// the parts it claims. It blocks in Atomics.wait between dispatches and never returns to its event
// loop; the pool ends it with STOP and Worker.terminate().
import { parentPort, workerData } from 'node:worker_threads';
import { CONTROL, runParts } from './wasm-kernel-tasks.mjs';

const { memory, module, control } = workerData;
const simd = new WebAssembly.Instance(module, { env: { memory } }).exports;
const ctl = new Int32Array(control, 0, CONTROL.ARGS_BYTE_OFFSET / 4);
const args = new Float64Array(control, CONTROL.ARGS_BYTE_OFFSET, CONTROL.MAX_ARGS);
parentPort.postMessage({ ready: true });

let seen = Atomics.load(ctl, CONTROL.GEN);
for (;;) {
  Atomics.wait(ctl, CONTROL.GEN, seen);
  if (Atomics.load(ctl, CONTROL.STOP) !== 0) break;
  const gen = Atomics.load(ctl, CONTROL.GEN);
  if (gen === seen) continue;
  seen = gen;
  const { error } = runParts(ctl, args, simd, memory, gen);
  if (error !== undefined) parentPort.postMessage({ error: error instanceof Error ? error.stack ?? error.message : String(error) });
}
