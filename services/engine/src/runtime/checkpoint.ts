import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { InvalidArgumentError } from '@supernetd/sdk';
import type { OptimizerConfig } from '@supernetd/sdk';
import type { AuxSpec, Engine } from '../training/engine.ts';

const MANIFEST = 'checkpoint.json';

interface TensorEntry {
  name: string;
  shape: number[];
  /** Offset in float32 elements into the weights file. */
  offset: number;
}

interface CheckpointState {
  version: 1;
  step: number;
  optimizerStart: number;
  optimizer: OptimizerConfig;
  counters: Record<string, number>;
  variables: TensorEntry[];
  slots: TensorEntry[];
  aux: AuxSpec[];
  stream: unknown;
  extra: unknown;
}

interface Manifest {
  version: 1;
  step: number;
  weights: string;
  state: string;
  sha256: string;
}

/** Writes `data` to `file` atomically: temp file, fsync, rename. */
async function writeAtomic(file: string, data: Uint8Array | string): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}`;
  const h = await fs.open(tmp, 'w');
  try {
    await h.writeFile(data);
    await h.sync();
  } finally {
    await h.close();
  }
  await fs.rename(tmp, file);
}

async function syncDir(dir: string): Promise<void> {
  const h = await fs.open(dir, 'r');
  try {
    await h.sync();
  } finally {
    await h.close();
  }
}

/**
 * Saves every network's variables (trainable and BN statistics), the optimiser's slots and
 * counters, the step, the data-stream state and `extra` into `dir`. The weights and state files are
 * written first, then the manifest `checkpoint.json` that names them, each atomically; files of
 * older checkpoints are removed after the manifest is in place.
 */
export async function saveCheckpoint(dir: string, c: { engine: Engine; stream: unknown; extra: unknown }): Promise<void> {
  const { engine } = c;
  const tensors: { name: string; values: Float32Array; shape: number[] }[] = [];
  for (const net of engine.networks()) {
    for (const v of net.allVariables()) tensors.push({ name: v.name, values: v.variable.dataSync() as Float32Array, shape: v.variable.shape });
  }
  const nVars = tensors.length;
  const opt = engine.optimizerState();
  for (const s of opt.slotEntries()) tensors.push({ name: s.key, values: s.variable.dataSync() as Float32Array, shape: s.variable.shape });
  let total = 0;
  const entries: TensorEntry[] = tensors.map((t) => {
    const e = { name: t.name, shape: t.shape, offset: total };
    total += t.values.length;
    return e;
  });
  const weights = new Float32Array(total);
  tensors.forEach((t, i) => weights.set(t.values, (entries[i] as TensorEntry).offset));
  const bytes = new Uint8Array(weights.buffer);
  const state: CheckpointState = {
    version: 1,
    step: engine.stepCount,
    optimizerStart: engine.optimizerStart,
    optimizer: opt.cfg,
    counters: opt.counters(),
    variables: entries.slice(0, nVars),
    slots: entries.slice(nVars),
    aux: engine.auxSpecs(),
    stream: c.stream,
    extra: c.extra ?? null,
  };
  await fs.mkdir(dir, { recursive: true });
  const tag = `${engine.stepCount}-${Date.now().toString(36)}`;
  const manifest: Manifest = {
    version: 1,
    step: engine.stepCount,
    weights: `weights-${tag}.bin`,
    state: `state-${tag}.json`,
    sha256: createHash('sha256').update(bytes).digest('hex'),
  };
  await writeAtomic(path.join(dir, manifest.weights), bytes);
  await writeAtomic(path.join(dir, manifest.state), JSON.stringify(state));
  await writeAtomic(path.join(dir, MANIFEST), JSON.stringify(manifest));
  await syncDir(dir);
  for (const f of await fs.readdir(dir)) {
    if ((f.startsWith('weights-') || f.startsWith('state-')) && f !== manifest.weights && f !== manifest.state) {
      await fs.rm(path.join(dir, f), { force: true });
    }
  }
}

/**
 * Restores the checkpoint in `dir` into `engine` (recreating auxiliary networks) and returns the
 * stream state and `extra`, or undefined when `dir` holds no checkpoint. Throws
 * InvalidArgumentError when the checkpoint is corrupt or belongs to a different space.
 */
export async function loadCheckpoint(dir: string, engine: Engine): Promise<{ stream: unknown; extra: unknown } | undefined> {
  let manifest: Manifest;
  try {
    manifest = JSON.parse(await fs.readFile(path.join(dir, MANIFEST), 'utf8')) as Manifest;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new InvalidArgumentError(`checkpoint manifest in '${dir}' is unreadable: ${(e as Error).message}`);
  }
  const buf = await fs.readFile(path.join(dir, manifest.weights));
  if (createHash('sha256').update(buf).digest('hex') !== manifest.sha256) {
    throw new InvalidArgumentError(`checkpoint weights '${manifest.weights}' fail their checksum`);
  }
  const state = JSON.parse(await fs.readFile(path.join(dir, manifest.state), 'utf8')) as CheckpointState;
  const weights = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
  const tf = engine.tf;
  const slice = (e: TensorEntry) => weights.subarray(e.offset, e.offset + e.shape.reduce((a, b) => a * b, 1));
  for (const a of state.aux) engine.auxNetwork(a.id, a.preset);
  const byName = new Map(engine.networks().flatMap((n) => n.allVariables().map((v) => [v.name, v] as const)));
  if (byName.size !== state.variables.length) {
    throw new InvalidArgumentError(`checkpoint has ${state.variables.length} variables, the engine ${byName.size}`);
  }
  for (const e of state.variables) {
    const v = byName.get(e.name);
    if (!v || v.variable.shape.join() !== e.shape.join()) {
      throw new InvalidArgumentError(`checkpoint variable '${e.name}' [${e.shape.join(', ')}] does not fit this engine's space`);
    }
    tf.tidy(() => v.variable.assign(tf.tensor(slice(e), e.shape, 'float32')));
  }
  engine.setOptimizer(state.optimizer);
  const slots = state.slots.map((e) => ({ key: e.name, value: tf.tensor(slice(e), e.shape, 'float32') }));
  engine.optimizerState().restore(slots, state.counters);
  tf.dispose(slots.map((s) => s.value));
  engine.stepCount = state.step;
  engine.optimizerStart = state.optimizerStart;
  return { stream: state.stream, extra: state.extra ?? undefined };
}
