// Retraining one subnet of an experiment alone (ExperimentSpec.retrain): the derived space and the
// inherited weights. Kept apart from ExperimentManager, which calls it from `create`.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { singleArchDefinition } from '@supernetd/engine/space';
import { FailedPreconditionError, InvalidArgumentError, NotFoundError, syncDir, writeFileAtomic } from '@supernetd/sdk';
import type { Arch } from '@supernetd/sdk';
import type { ExperimentSpec, RetrainSpec } from '../domain/experiment-spec.ts';
import type { ExperimentSession } from './experiment-session.ts';

/** Subdirectory of the checkpoint directory the engine inherits from (engine's INHERIT_DIR). */
export const INHERIT_DIR = 'inherit';

/** The source checkpoint's files, read into memory: written into the new experiment's INHERIT_DIR. */
export interface InheritFiles {
  step: number;
  files: { name: string; data: Uint8Array | string }[];
}

/** A retraining spec with its space derived, and what its supernet inherits (INHERITED only). */
export interface PreparedRetrain {
  spec: ExperimentSpec;
  inherit?: InheritFiles;
}

/**
 * Resolves `spec.retrain` against its source experiment: the subnet (SUBNET_NOT_FOUND for an id the
 * source never handed out, INVALID_ARGUMENT for an architecture outside the source space), the
 * derived one-architecture space (singleArchDefinition), a default display name and, for INHERITED,
 * the source's latest checkpoint (the source's running worker is checkpointed first, so it holds the
 * current weights). `source` is undefined when no experiment has the id: NOT_FOUND
 * (EXPERIMENT_NOT_FOUND).
 */
export async function prepareRetrain(spec: ExperimentSpec, source: ExperimentSession | undefined, checkpointDir: (id: string) => string): Promise<PreparedRetrain> {
  const r = spec.retrain as RetrainSpec;
  if (!source) {
    throw new NotFoundError('EXPERIMENT_NOT_FOUND', `spec.retrain.source_experiment_id: experiment '${r.sourceExperimentId}' not found`);
  }
  let arch: Arch;
  if (r.subnetId !== undefined) {
    const a = source.subnets.get(r.subnetId);
    if (!a) {
      throw new NotFoundError('SUBNET_NOT_FOUND', `spec.retrain.subnet_id: experiment '${source.id}' has never handed out subnet '${r.subnetId}'`);
    }
    arch = a;
  } else {
    arch = r.arch as Arch;
    try {
      source.space.validateArch(arch);
    } catch (e) {
      throw new InvalidArgumentError(`spec.retrain.architecture is not a subnet of experiment '${source.id}': ${(e as Error).message}`);
    }
  }
  const sourceSpace = source.record.spec.space;
  let definition;
  try {
    definition = singleArchDefinition(sourceSpace, arch);
  } catch (e) {
    throw new InvalidArgumentError(`spec.retrain: cannot derive a space for the subnet: ${(e as Error).message}`);
  }
  const retrain: RetrainSpec = { ...r, arch };
  const inherit = r.init === 'inherited' ? await sourceCheckpoint(source, checkpointDir(source.id)) : undefined;
  if (inherit) retrain.sourceCheckpointStep = inherit.step;
  const what = r.subnetId !== undefined ? `subnet ${r.subnetId}` : 'an architecture';
  return {
    spec: {
      ...spec,
      displayName: spec.displayName !== '' ? spec.displayName : `retrain (${r.init}) of ${what} of ${source.id}`,
      space: { preset: 'custom', overrides: { definition } },
      retrain,
    },
    ...(inherit
      ? {
          inherit: {
            step: inherit.step,
            // the engine's InheritSource: the source space and the subnet in it
            files: [...inherit.files, { name: 'subnet.json', data: JSON.stringify({ space: sourceSpace, arch }) }],
          },
        }
      : {}),
  };
}

/** The source's latest checkpoint files; checkpoints a running (or never checkpointed) source first. */
async function sourceCheckpoint(source: ExperimentSession, dir: string): Promise<InheritFiles> {
  const onDisk = await exists(path.join(dir, 'checkpoint.json'));
  if (source.state !== 'failed' && (source.workerRunning || !onDisk)) {
    await source.withWorker((worker) => worker.call('checkpoint', {}));
  } else if (!onDisk) {
    throw new FailedPreconditionError('EXPERIMENT_FAILED', `retrain source experiment '${source.id}' failed and has no checkpoint: ${source.failureReason ?? ''}`);
  }
  // a checkpoint written meanwhile removes the files the previous manifest named: read again
  for (let attempt = 0; ; attempt++) {
    try {
      const manifestText = await fs.readFile(path.join(dir, 'checkpoint.json'), 'utf8');
      const manifest = JSON.parse(manifestText) as { step: number; weights: string; state: string };
      const weights = await fs.readFile(path.join(dir, manifest.weights));
      const state = await fs.readFile(path.join(dir, manifest.state));
      return {
        step: manifest.step,
        files: [
          { name: manifest.weights, data: weights },
          { name: manifest.state, data: state },
          { name: 'checkpoint.json', data: manifestText },
        ],
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT' || attempt >= 4) throw e;
    }
  }
}

/**
 * Writes the inherited files into `<checkpointDir>/inherit`, where the new worker reads them (also a
 * worker started again after a crash): each file atomically and durably, the manifest
 * (`checkpoint.json`, last in `files`) after the files it names, and the directory's own entry synced.
 */
export async function writeInheritFiles(checkpointDir: string, inherit: InheritFiles): Promise<void> {
  const dir = path.join(checkpointDir, INHERIT_DIR);
  await fs.mkdir(dir, { recursive: true });
  await syncDir(checkpointDir);
  for (const f of inherit.files) await writeFileAtomic(path.join(dir, f.name), f.data);
}

/** Removes the inherited files once the new experiment's own step-0 checkpoint holds the weights. */
export async function removeInheritFiles(checkpointDir: string): Promise<void> {
  await fs.rm(path.join(checkpointDir, INHERIT_DIR), { recursive: true, force: true });
}

async function exists(file: string): Promise<boolean> {
  try {
    await fs.access(file);
    return true;
  } catch {
    return false;
  }
}
