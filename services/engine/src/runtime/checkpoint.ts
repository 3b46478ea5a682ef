import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { InvalidArgumentError, syncDir, writeFileAtomic } from '@supernetd/sdk';
import type { OptimizerConfig } from '@supernetd/sdk';
import type { AuxSpec, Engine } from '../training/engine.ts';

const MANIFEST = 'checkpoint.json';
/** Checkpoints kept in a directory; loading falls back to an older one when the newest is damaged. */
export const CHECKPOINTS_KEPT = 3;
const manifestName = (tag: string) => `manifest-${tag}.json`;

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

/**
 * Saves every network's variables (trainable and BN statistics), the optimiser's slots and
 * counters, the step, the data-stream state and `extra` into `dir`. The weights and state files are
 * written first, then the manifest that names them (`manifest-<step>-<time>.json`, copied to
 * `checkpoint.json` for the newest), each atomically. The newest CHECKPOINTS_KEPT checkpoints are
 * kept; files of older ones are removed after the new manifest is in place.
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
  await writeFileAtomic(path.join(dir, manifest.weights), bytes);
  await writeFileAtomic(path.join(dir, manifest.state), JSON.stringify(state));
  await writeFileAtomic(path.join(dir, manifestName(tag)), JSON.stringify(manifest));
  await writeFileAtomic(path.join(dir, MANIFEST), JSON.stringify(manifest));
  await syncDir(dir);
  const kept = (await manifestsNewestFirst(dir)).slice(0, CHECKPOINTS_KEPT);
  const keep = new Set(kept.flatMap((m) => [m, `weights-${m.slice(9, -5)}.bin`, `state-${m.slice(9, -5)}.json`]));
  for (const f of await fs.readdir(dir)) {
    if ((f.startsWith('weights-') || f.startsWith('state-') || f.startsWith('manifest-')) && !keep.has(f)) {
      await fs.rm(path.join(dir, f), { force: true });
    }
  }
}

/** `manifest-<step>-<time36>.json` names in `dir`, newest write first. */
async function manifestsNewestFirst(dir: string): Promise<string[]> {
  const part = (f: string, i: number, radix: number) => parseInt(f.slice(9, -5).split('-')[i] ?? '', radix) || 0;
  return (await fs.readdir(dir))
    .filter((f) => /^manifest-\d+-[0-9a-z]+\.json$/.test(f))
    .sort((a, b) => part(b, 1, 36) - part(a, 1, 36) || part(b, 0, 10) - part(a, 0, 10));
}

/** A checkpoint read and verified from its manifest (checksum, state JSON), not yet applied. */
async function readVerified(dir: string, name: string): Promise<{ state: CheckpointState; weights: Float32Array }> {
  const read = async (file: string, what: string): Promise<Buffer> => {
    try {
      return await fs.readFile(path.join(dir, file));
    } catch (e) {
      throw new Error(`${what} '${file}' cannot be read (${(e as NodeJS.ErrnoException).code ?? 'I/O error'})`);
    }
  };
  let manifest: Manifest;
  try {
    manifest = JSON.parse((await read(name, 'manifest')).toString('utf8')) as Manifest;
  } catch (e) {
    throw new Error(e instanceof SyntaxError ? `manifest '${name}' is not valid JSON` : (e as Error).message);
  }
  if (manifest === null || typeof manifest !== 'object' || typeof manifest.weights !== 'string' || typeof manifest.state !== 'string') {
    throw new Error(`manifest '${name}' does not name a checkpoint`);
  }
  if (path.basename(manifest.weights) !== manifest.weights || path.basename(manifest.state) !== manifest.state) {
    throw new Error(`manifest '${name}' names files outside its directory`);
  }
  const buf = await read(manifest.weights, 'checkpoint weights');
  if (createHash('sha256').update(buf).digest('hex') !== manifest.sha256) {
    throw new Error(`checkpoint weights '${manifest.weights}' fail their checksum`);
  }
  let state: CheckpointState;
  try {
    state = JSON.parse((await read(manifest.state, 'checkpoint state')).toString('utf8')) as CheckpointState;
  } catch (e) {
    throw new Error(e instanceof SyntaxError ? `checkpoint state '${manifest.state}' is not valid JSON` : (e as Error).message);
  }
  if (state === null || typeof state !== 'object' || !Array.isArray(state.variables) || !Array.isArray(state.slots) || !Array.isArray(state.aux)) {
    throw new Error(`checkpoint state '${manifest.state}' is incomplete`);
  }
  const weights = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
  const size = (e: TensorEntry) => e.shape.reduce((a, b) => a * b, 1);
  for (const e of [...state.variables, ...state.slots]) {
    if (!Number.isInteger(e?.offset) || !Array.isArray(e?.shape) || e.offset < 0 || e.offset + size(e) > weights.length) {
      throw new Error(`checkpoint state '${manifest.state}' points outside its weights`);
    }
  }
  return { state, weights };
}

/**
 * Restores the newest valid checkpoint in `dir` into `engine` (recreating auxiliary networks) and
 * returns the stream state and `extra`, or undefined when `dir` holds no checkpoint. A damaged
 * checkpoint (unreadable manifest, failed checksum, bad state file) is passed over for the next
 * older one (`onSkipped` hears why). Throws InvalidArgumentError when every checkpoint is damaged
 * or they belong to a different space; messages name files, never the directory.
 */
export async function loadCheckpoint(
  dir: string,
  engine: Engine,
  onSkipped?: (reason: string) => void,
): Promise<{ stream: unknown; extra: unknown } | undefined> {
  let names: string[];
  try {
    names = [MANIFEST, ...(await manifestsNewestFirst(dir))];
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new InvalidArgumentError(`checkpoint directory cannot be read (${(e as NodeJS.ErrnoException).code ?? 'I/O error'})`);
  }
  const problems: string[] = [];
  let found: { state: CheckpointState; weights: Float32Array } | undefined;
  for (const name of names) {
    try {
      found = await readVerified(dir, name);
      break;
    } catch (e) {
      if (name === MANIFEST && (e as Error).message.includes('(ENOENT)')) continue;
      problems.push((e as Error).message);
      onSkipped?.((e as Error).message);
    }
  }
  if (!found) {
    if (problems.length === 0) return undefined;
    throw new InvalidArgumentError(`no valid checkpoint: ${problems.join('; ')}`);
  }
  const { state, weights } = found;
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
