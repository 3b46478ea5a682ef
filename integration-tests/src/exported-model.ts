import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';

/** Reads an exported model directory (model.json and the files beside it) into memory. */
export async function readExportDir(dir: string): Promise<Map<string, Uint8Array>> {
  const files = new Map<string, Uint8Array>();
  for (const name of await readdir(dir)) files.set(name, await readFile(join(dir, name)));
  return files;
}

/**
 * Puts TensorFlow.js on the cpu backend, where the tests load exports (with `loadExportedModel` of
 * `@supernetd/engine`), without the cpu backend's "install tfjs-node" banner.
 */
export async function useCpuBackend(): Promise<void> {
  tf.env().set('IS_TEST', true);
  await tf.setBackend('cpu');
}
