import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { loadLayersModel } from '@tensorflow/tfjs-layers';
import type { LayersModel } from '@tensorflow/tfjs-layers';

/** Reads an exported model directory (model.json and the files beside it) into memory. */
export async function readExportDir(dir: string): Promise<Map<string, Uint8Array>> {
  const files = new Map<string, Uint8Array>();
  for (const name of await readdir(dir)) files.set(name, await readFile(join(dir, name)));
  return files;
}

/**
 * Loads an exported TF.js LayersModel with stock `tf.loadLayersModel` from memory (model.json plus
 * the weight files its manifest names) on the cpu backend.
 */
export async function loadExportedModel(files: ReadonlyMap<string, Uint8Array>): Promise<LayersModel> {
  // IS_TEST silences the cpu backend's "install tfjs-node" banner.
  tf.env().set('IS_TEST', true);
  await tf.setBackend('cpu');
  const modelJsonBytes = files.get('model.json');
  if (!modelJsonBytes) throw new Error('export has no model.json');
  const modelJson = JSON.parse(Buffer.from(modelJsonBytes).toString('utf8')) as {
    modelTopology: object;
    weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
  };
  const specs: tf.io.WeightsManifestEntry[] = [];
  const buffers: Buffer[] = [];
  for (const group of modelJson.weightsManifest) {
    specs.push(...group.weights);
    for (const p of group.paths) {
      const bytes = files.get(p);
      if (!bytes) throw new Error(`model.json names weight file ${p}, not in the export`);
      buffers.push(Buffer.from(bytes));
    }
  }
  const all = Buffer.concat(buffers);
  const weightData = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength);
  return loadLayersModel(tf.io.fromMemory({ modelTopology: modelJson.modelTopology, weightSpecs: specs, weightData }));
}
