// `supernetd trial`: the command a Katib trial container runs (docs/katib.md). It fetches the
// assigned subnet's export from the supernetd API, evaluates it, and prints `name=value` lines for
// Katib's StdOut metrics collector.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Command, CommanderError } from 'commander';
import { SupernetdClient } from '@supernetd/client';
import { loadExportedModel, npyValues, parseNpy } from '@supernetd/engine';
import type * as tfc from '@tensorflow/tfjs-core';

/** A labelled batch from `.npy` files: NHWC images in [0, 1], int labels. */
export interface NpyBatch {
  images: Float32Array;
  shape: [number, number, number, number];
  labels: Int32Array;
}

/** Deadline of each call of a trial, in milliseconds (a day: in effect none). */
const TRIAL_CALL_TIMEOUT_MS = 86_400_000;

/** What a trial measured. */
export interface TrialMetrics {
  accuracy: number;
  loss: number;
  examples: number;
  flops: number;
  params: number;
}

/**
 * `images.npy` (N,H,W[,C]; integers scaled by 1/255, floats as they are) and `labels.npy` (N
 * integers) of `dir`, read with the engine's NPY parser (`|u1`, `<i4`, `<i8`, `<f4`, `<f8`; it
 * throws naming the file for anything else).
 */
export async function readNpyBatch(dir: string): Promise<NpyBatch> {
  const img = parseNpy(await readFile(join(dir, 'images.npy')), 'images.npy');
  const lab = parseNpy(await readFile(join(dir, 'labels.npy')), 'labels.npy');
  if (img.shape.length !== 3 && img.shape.length !== 4) throw new Error(`images.npy: shape (${img.shape.join(', ')}) must be (N, H, W) or (N, H, W, C)`);
  const [n, h, w, c] = [img.shape[0] as number, img.shape[1] as number, img.shape[2] as number, img.shape[3] ?? 1];
  if (lab.shape.length !== 1 || lab.shape[0] !== n || lab.dtype.startsWith('f')) {
    throw new Error(`labels.npy: must hold ${n} integer labels, got shape (${lab.shape.join(', ')})`);
  }
  const float = img.dtype.startsWith('f');
  const images = Float32Array.from(npyValues(img), (v) => (float ? v : v / 255));
  return { images, shape: [n, h, w, c], labels: Int32Array.from(npyValues(lab)) };
}

/**
 * Accuracy and mean cross-entropy of an exported model (stock `tf.loadLayersModel`, cpu backend) on
 * a batch: images resized bilinearly (align corners) to the model's input side, as the supernet
 * does. Every tensor is disposed.
 */
export async function evaluateExport(files: ReadonlyMap<string, Uint8Array>, batch: NpyBatch): Promise<{ accuracy: number; loss: number }> {
  const tf = await import('@tensorflow/tfjs-core');
  await import('@tensorflow/tfjs-backend-cpu');
  tf.env().set('IS_TEST', true);
  await tf.setBackend('cpu');
  const model = await loadExportedModel(files);
  try {
    const [n, h, w, c] = batch.shape;
    const side = model.inputs[0]?.shape[1] ?? h;
    let correct = 0;
    let lossSum = 0;
    const step = 256;
    for (let at = 0; at < n; at += step) {
      const m = Math.min(step, n - at);
      const [hits, loss] = tf.tidy(() => {
        let x: tfc.Tensor4D = tf.tensor4d(batch.images.subarray(at * h * w * c, (at + m) * h * w * c), [m, h, w, c]);
        if (side !== h || side !== w) x = tf.image.resizeBilinear(x, [side, side], true);
        const logits = model.predict(x) as tfc.Tensor2D;
        const labels = tf.tensor1d(batch.labels.subarray(at, at + m), 'int32');
        const hitsT = tf.sum(tf.equal(tf.argMax(logits, 1), labels));
        const lossT = tf.neg(tf.sum(tf.mul(tf.oneHot(labels, logits.shape[1] as number), tf.logSoftmax(logits))));
        return [hitsT.dataSync()[0] as number, lossT.dataSync()[0] as number];
      });
      correct += hits;
      lossSum += loss;
    }
    return { accuracy: n === 0 ? 0 : correct / n, loss: n === 0 ? 0 : lossSum / n };
  } finally {
    model.dispose();
  }
}

/**
 * One trial: the export of `subnet` (written to `out` when given), then its accuracy and loss on
 * `data` (`images.npy` + `labels.npy`, evaluated here), or, without `data`, on the experiment's own
 * test split by the server's Evaluate (at most `maxExamples` images).
 */
export async function runTrial(opts: {
  server: string;
  experiment: string;
  subnet: string;
  token?: string;
  tlsCa?: string;
  data?: string;
  out?: string;
  maxExamples: number;
}): Promise<TrialMetrics> {
  const client = new SupernetdClient({
    address: opts.server,
    token: opts.token ?? '',
    tls: opts.tlsCa ? { rootCerts: await readFile(opts.tlsCa) } : false,
    // Katib bounds a trial's time itself
    timeoutMs: TRIAL_CALL_TIMEOUT_MS,
  });
  try {
    const exported = await client.exportSubnet({ experimentId: opts.experiment, target: { case: 'subnetId', value: opts.subnet } });
    if (opts.out) await exported.writeTo(opts.out);
    let accuracy: number;
    let loss: number;
    let examples: number;
    if (opts.data) {
      const batch = await readNpyBatch(opts.data);
      const limit = Math.min(batch.shape[0], opts.maxExamples);
      const [, h, w, c] = batch.shape;
      const cut: NpyBatch = { images: batch.images.subarray(0, limit * h * w * c), shape: [limit, h, w, c], labels: batch.labels.subarray(0, limit) };
      ({ accuracy, loss } = await evaluateExport(exported.files, cut));
      examples = limit;
    } else {
      ({ accuracy, loss, examples } = await client.evaluate({ experimentId: opts.experiment, target: { case: 'subnetId', value: opts.subnet }, maxExamples: opts.maxExamples }));
    }
    const cost = exported.header.subnet?.cost;
    return { accuracy, loss, examples, flops: cost?.flops ?? 0, params: cost?.params ?? 0 };
  } finally {
    client.close();
  }
}

/** `supernetd trial` with its arguments; returns the exit code (2 for a usage error). */
export async function runTrialCommand(argv: string[], io: { stdout: { write(s: string): unknown }; stderr: { write(s: string): unknown } } = process): Promise<number> {
  const cmd = new Command('supernetd trial')
    .description("a Katib trial: fetch one subnet's export from the supernetd API, evaluate it, print name=value metrics")
    .requiredOption('--server <host:port>', 'supernetd API address')
    .requiredOption('--experiment <id>', 'supernetd experiment id (the experiment_id parameter)')
    .requiredOption('--subnet <id>', 'subnet id (the subnet_id parameter)')
    .option('--token <token>', 'bearer token of the API (or SUPERNETD_TOKEN)')
    .option('--tls-ca <file>', 'PEM CA certificate of a TLS server')
    .option('--data <dir>', "images.npy and labels.npy evaluated here; without it the server evaluates on the experiment's test split")
    .option('--max-examples <n>', 'images evaluated at most', '1000')
    .option('--out <dir>', 'also write the export (model.json, weights.bin, arch.json) here')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) });
  try {
    cmd.parse(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) return err.code === 'commander.helpDisplayed' ? 0 : 2;
    throw err;
  }
  const o = cmd.opts<{ server: string; experiment: string; subnet: string; token?: string; tlsCa?: string; data?: string; maxExamples: string; out?: string }>();
  const maxExamples = Number(o.maxExamples);
  if (!Number.isInteger(maxExamples) || maxExamples <= 0) {
    io.stderr.write(`supernetd trial: --max-examples must be a positive integer, got '${o.maxExamples}'\n`);
    return 2;
  }
  const token = o.token ?? process.env.SUPERNETD_TOKEN;
  try {
    const m = await runTrial({
      server: o.server,
      experiment: o.experiment,
      subnet: o.subnet,
      maxExamples,
      ...(token ? { token } : {}),
      ...(o.tlsCa ? { tlsCa: o.tlsCa } : {}),
      ...(o.data ? { data: o.data } : {}),
      ...(o.out ? { out: o.out } : {}),
    });
    // Katib's StdOut collector reads `name=value` lines
    io.stdout.write(`accuracy=${m.accuracy}\nloss=${m.loss}\nflops=${m.flops}\nparams=${m.params}\nexamples=${m.examples}\n`);
    return 0;
  } catch (err) {
    io.stderr.write(`supernetd trial: ${(err as Error).message}\n`);
    return 1;
  }
}
