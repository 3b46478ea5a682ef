import { ExperimentState, RetrainInit } from '@supernetd/client';
import type { SupernetdClient } from '@supernetd/client';
import type { Arch, SpaceSpec } from '@supernetd/sdk';
import { trainWithProgress } from './search-client.ts';

/** How a standalone architecture is trained: the same data and schedule as the supernet run. */
export interface TrainAloneSettings {
  /**
   * Experiment whose space `arch` belongs to (the supernet run), the retraining source. Without it,
   * a short-lived source experiment on `space` is created and deleted once the retraining exists.
   */
  sourceExperimentId?: string;
  /** The space `arch` belongs to; needed without `sourceExperimentId`. */
  space?: SpaceSpec;
  steps: number;
  batchSize: number;
  seed: number;
  /** `TrainingConfig.dataset` of the supernet run. */
  dataset: Record<string, unknown>;
  /** Test examples for Evaluate (0 = whole test split). */
  maxTestExamples: number;
  progressInterval?: number;
  onProgress?: (step: number, target: number) => void;
  signal?: AbortSignal;
  /** Delete the experiment after evaluating it (frees its worker; a benchmark trains many). */
  deleteAfter?: boolean;
}

/** What training one architecture alone gave. */
export interface TrainAloneResult {
  experimentId: string;
  accuracy: number;
  loss: number;
  examples: number;
  flops: number;
  params: number;
  /** Wall time of the Train call alone (no creation, no evaluation), seconds. */
  trainSeconds: number;
  finalLosses: Record<string, number>;
}

/**
 * Trains `arch` from scratch, alone, through the service's retraining (ExperimentSpec.retrain with
 * RETRAIN_INIT_SCRATCH): the server derives the space whose only subnet is `arch` and trains it with
 * the `uniform` strategy on the same dataset, batch size, seed and number of steps; then Evaluate on
 * the test split after BN recalibration. The experiment is kept (its checkpoint stays inspectable in
 * the server's data directory) unless `deleteAfter` is set.
 */
export async function trainAlone(api: SupernetdClient, arch: Arch, s: TrainAloneSettings): Promise<TrainAloneResult> {
  const training = { dataset: s.dataset, batchSize: s.batchSize, totalSteps: BigInt(s.steps), seed: s.seed };
  let source = s.sourceExperimentId;
  let temporary: string | undefined;
  if (source === undefined) {
    if (!s.space) throw new Error('trainAlone needs sourceExperimentId or space');
    // the retraining only reads the source's space at creation: a source that never trains will do
    const src = await api.createExperiment({
      spec: {
        displayName: 'train-alone source (temporary)',
        searchSpace: { preset: s.space.preset, ...(s.space.overrides ? { overrides: s.space.overrides as never } : {}) },
        strategy: { id: 'uniform' },
        training,
      },
    });
    source = temporary = src.id;
  }
  let experiment;
  try {
    experiment = await api.createExperiment({
      spec: {
        displayName: `trained alone: ${JSON.stringify(arch.width)} @${arch.resolution}`,
        retrain: {
          sourceExperimentId: source,
          subnet: {
            case: 'architecture',
            value: {
              resolution: arch.resolution,
              widths: { ...arch.width },
              ops: { ...(arch.op ?? {}) },
              channelIndices: Object.fromEntries(Object.entries(arch.channelIdx ?? {}).map(([k, v]) => [k, { indices: [...v] }])),
            },
          },
          init: RetrainInit.SCRATCH,
        },
        training,
      },
    });
  } finally {
    if (temporary !== undefined) await api.deleteExperiment(temporary);
  }
  const started = performance.now();
  const outcome = await trainWithProgress(
    api,
    { experimentId: experiment.id, steps: s.steps, progressInterval: s.progressInterval ?? 10 },
    (e) => s.onProgress?.(Number(e.step), Number(e.targetStep)),
    s.signal,
  );
  const trainSeconds = (performance.now() - started) / 1000;
  if (outcome === 'cancelled') throw new Error('training alone was cancelled');
  const after = await api.getExperiment(experiment.id);
  if (after.state === ExperimentState.FAILED) throw new Error(`standalone experiment ${after.id} failed: ${after.error}`);
  const ev = await api.evaluate({
    experimentId: experiment.id,
    // The one-subnet space keeps only the chosen op per layer, at index 0: no ops means op 0.
    target: { case: 'architecture', value: { resolution: arch.resolution, widths: { ...arch.width } } },
    maxExamples: s.maxTestExamples,
  });
  if (s.deleteAfter) await api.deleteExperiment(experiment.id);
  return {
    experimentId: experiment.id,
    accuracy: ev.accuracy,
    loss: ev.loss,
    examples: ev.examples,
    flops: ev.subnet?.cost?.flops ?? 0,
    params: ev.subnet?.cost?.params ?? 0,
    trainSeconds,
    finalLosses: Object.fromEntries(Object.entries(after.lastLosses).map(([k, v]) => [k, Number(v)])),
  };
}
