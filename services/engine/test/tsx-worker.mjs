// Entry of a worker thread that runs a TypeScript test fixture: worker threads do not inherit the
// tsx loader of the thread that starts them, so this registers it before importing the fixture.
import { register } from 'tsx/esm/api';
import { workerData } from 'node:worker_threads';

register();
await import(workerData.entry);
