import { Worker } from 'node:worker_threads';
import type { BackendInfo } from '@supernetd/engine';
import type { BackendPreference } from '../config.ts';

const BOOTSTRAP = new URL('./worker-bootstrap.mjs', import.meta.url);
const ENTRY = new URL('./backend-probe.ts', import.meta.url).href;

/** What the server's experiment workers will run on. */
export interface ChosenBackend extends BackendInfo {
  /** The configured preference (`auto`, `tensorflow`, `gpu`, `wasm`, `cpu`). */
  preference: BackendPreference;
  /**
   * The preference the workers are started with: `auto` resolved to what it chose (`tensorflow` or
   * `wasm`), so every worker runs on the backend checked here; others unchanged.
   */
  workerPreference: BackendPreference;
}

/** The configured backend cannot be used; the server does not start. */
export class BackendUnavailableError extends Error {
  constructor(preference: BackendPreference, reason: string) {
    super(`backend '${preference}' cannot be used, so the server does not start: ${reason}`);
    this.name = 'BackendUnavailableError';
  }
}

/**
 * Checks that `preference` loads, in a worker thread as the experiment workers load it, and says
 * what it chose and why. `wasm` and `cpu` ship with the engine and are not probed (that would cost
 * every start a worker); `auto`, `tensorflow` and `gpu` are, since a native binding may be missing,
 * unbuilt, or (for `gpu`) find no GPU. Rejects with BackendUnavailableError when it cannot be used.
 */
export async function probeBackend(preference: BackendPreference, timeoutMs = 120_000): Promise<ChosenBackend> {
  if (preference === 'wasm' || preference === 'cpu') {
    return { backend: preference, device: 'CPU', reason: `backend '${preference}' was asked for`, preference, workerPreference: preference };
  }
  // Set here, on the main thread, so that it reaches TensorFlow's C++ logging in every worker (a
  // worker's process.env is its own copy): TF's INFO lines are noise in the server's log.
  process.env.TF_CPP_MIN_LOG_LEVEL ??= '1';
  const answer = await new Promise<{ ok: true; info: BackendInfo } | { ok: false; message: string }>((resolve, reject) => {
    const worker = new Worker(BOOTSTRAP, { workerData: { backend: preference, entry: ENTRY } });
    const timer = setTimeout(() => {
      void worker.terminate();
      reject(new BackendUnavailableError(preference, `loading it took over ${timeoutMs / 1000} s`));
    }, timeoutMs);
    let settled = false;
    worker.once('message', (m: { ok: true; info: BackendInfo } | { ok: false; message: string }) => {
      settled = true;
      clearTimeout(timer);
      resolve(m);
      void worker.terminate();
    });
    worker.once('error', (err) => {
      clearTimeout(timer);
      if (!settled) reject(new BackendUnavailableError(preference, err.message));
    });
    worker.once('exit', (code) => {
      clearTimeout(timer);
      if (!settled) reject(new BackendUnavailableError(preference, `the probe thread exited with code ${code}`));
    });
  });
  if (!answer.ok) throw new BackendUnavailableError(preference, answer.message);
  const info = answer.info;
  const workerPreference: BackendPreference = preference === 'auto' ? (info.backend === 'tensorflow' ? 'tensorflow' : 'wasm') : preference;
  return { ...info, preference, workerPreference };
}
