// Worker threads do not inherit the tsx loader of the thread that starts them, so each experiment
// worker registers it before importing its TypeScript entry.
import { register } from 'tsx/esm/api';
import { workerData } from 'node:worker_threads';

register();
await import(workerData.entry);
