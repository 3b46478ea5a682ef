import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { loadLayersModel } from '@tensorflow/tfjs-layers';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import type { ExportHeader, ExportSubnetResponse } from '@supernetd/api';
import type { ClientReadableStream } from '@grpc/grpc-js';

/** The files of one ExportSubnet stream, reassembled and checked against the header. */
export interface ExportedFiles {
  header: ExportHeader;
  files: Map<string, Uint8Array>;
}

/**
 * Reads an ExportSubnet stream: a header first, then chunks at increasing offsets. Throws when the
 * header is missing, a chunk names an unknown file or a gap, or a file's size or SHA-256 differs
 * from the header's.
 */
export async function collectExport(stream: ClientReadableStream<ExportSubnetResponse>): Promise<ExportedFiles> {
  let header: ExportHeader | undefined;
  const parts = new Map<string, Buffer[]>();
  const written = new Map<string, number>();
  for await (const msg of stream as AsyncIterable<ExportSubnetResponse>) {
    const p = msg.payload;
    if (p.case === 'header') {
      if (header) throw new Error('second export header');
      header = p.value;
      for (const f of header.files) {
        parts.set(f.path, []);
        written.set(f.path, 0);
      }
    } else if (p.case === 'chunk') {
      if (!header) throw new Error('export chunk before the header');
      const list = parts.get(p.value.path);
      if (!list) throw new Error(`export chunk for unknown file ${p.value.path}`);
      if (Number(p.value.offset) !== written.get(p.value.path)) throw new Error(`export chunk of ${p.value.path} at ${p.value.offset}: gap`);
      list.push(Buffer.from(p.value.data));
      written.set(p.value.path, written.get(p.value.path)! + p.value.data.length);
    }
  }
  if (!header) throw new Error('export stream without a header');
  const files = new Map<string, Uint8Array>();
  for (const f of header.files) {
    const bytes = Buffer.concat(parts.get(f.path)!);
    if (bytes.length !== Number(f.size)) throw new Error(`${f.path}: ${bytes.length} bytes, header says ${f.size}`);
    const sha = createHash('sha256').update(bytes).digest('hex');
    if (sha !== f.sha256) throw new Error(`${f.path}: sha256 ${sha}, header says ${f.sha256}`);
    files.set(f.path, bytes);
  }
  return { header, files };
}

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
export async function loadExportedModel(files: Map<string, Uint8Array>): Promise<LayersModel> {
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
