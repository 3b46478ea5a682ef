// Entry of the short-lived worker thread that checks, at server startup, that the configured engine
// backend loads where the experiment workers will load it (a worker thread of this process), and
// reports what it chose, on which device, and why.
import { parentPort, workerData } from 'node:worker_threads';
import { backendInfo, initBackend } from '@supernetd/engine';
import type { BackendPreference } from '@supernetd/engine';

const { backend } = workerData as { backend: BackendPreference; entry: string };
try {
  await initBackend(backend);
  parentPort!.postMessage({ ok: true, info: backendInfo() });
} catch (err) {
  parentPort!.postMessage({ ok: false, message: err instanceof Error ? err.message : String(err) });
}
