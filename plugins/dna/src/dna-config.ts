import { ConfigReader } from '@supernetd/sdk';

/** Share of the planned steps the teacher phase gets when neither teacherSteps nor teacherFraction is given. */
export const DEFAULT_TEACHER_FRACTION = 0.5;

/** Config of the `dna` strategy (DNA block-wise distillation, scaled down for small images). */
export interface DnaConfig {
  /**
   * Engine preset of the teacher. Default: the student space's name + `-teacher` (e.g.
   * `dna-small-teacher`) when that preset exists, else a teacher derived from the student's own
   * definition (see deriveTeacherDefinition).
   */
  teacherPreset?: string;
  /** A full space definition (as in preset `custom`'s overrides.definition) of the teacher, trained like a preset teacher. */
  teacherDefinition?: Record<string, unknown>;
  /** A pre-trained TF.js LayersModel (`model.json` path) used as teacher instead; needs `teacherTaps`. */
  teacherModel?: string;
  /** Names of the teacher's layers whose outputs end student blocks 0..B-1. */
  teacherTaps?: string[];
  /** Steps of the `teacher` phase (CE on the teacher preset); default `teacherFraction` of the run. */
  teacherSteps?: number;
  /** Share of the planned steps that trains the teacher before any block phase (default DEFAULT_TEACHER_FRACTION); not with teacherSteps. */
  teacherFraction?: number;
  /** Adam learning rate of the teacher phase (cosine over the phase, after the warm-up). */
  teacherLearningRate: number;
  /** Linear warm-up steps at the start of the teacher phase (default 0). */
  teacherWarmupSteps: number;
  /** Held-out images the teacher is evaluated on at the end of its phase (`teacher_val_accuracy`). */
  teacherValImages: number;
  /** Teacher batch norm in training mode, as DNA's code does; default inference mode (recommended). */
  teacherTrainMode: boolean;
  /** Steps per block phase; default: the rest of the run split evenly over the blocks. */
  stepsPerBlock?: number;
  /** Adam learning rate per block; default DNA's pattern 0.002 first and last, 0.005 between. */
  blockLearningRates?: number[];
  /** Step decay of each phase's learning rate: gamma every `lrDecaySteps` steps (default: an epoch). */
  lrDecay: number;
  lrDecaySteps?: number;
  /** Adam weight decay on conv and classifier weights (DNA 1e-4). */
  weightDecay: number;
  /** Validation batches each candidate is rated on (DNA: 19). */
  ratingBatches: number;
  sampleTries: number;
}

/** Parses the `dna` config; InvalidConfigError names the bad key. */
export function parseDnaConfig(raw: unknown): DnaConfig {
  const r = new ConfigReader('dna', raw);
  const teacherPreset = r.optionalString('teacherPreset');
  const teacherModel = r.optionalString('teacherModel');
  const teacherDefinition = r.optionalObject('teacherDefinition');
  const teacherTaps = r.stringList('teacherTaps', undefined);
  const teacherSteps = r.optionalNumber('teacherSteps', { min: 0, integer: true });
  const teacherFraction = r.optionalNumber('teacherFraction', { min: 0, max: 1 });
  const stepsPerBlock = r.optionalNumber('stepsPerBlock', { min: 1, integer: true });
  const blockLearningRates = r.numberList('blockLearningRates', undefined, { above: 0 }, { min: 1 });
  const lrDecaySteps = r.optionalNumber('lrDecaySteps', { min: 1, integer: true });
  const cfg: DnaConfig = {
    teacherLearningRate: r.number('teacherLearningRate', 0.002, { above: 0 }),
    teacherWarmupSteps: r.number('teacherWarmupSteps', 0, { min: 0, integer: true }),
    teacherValImages: r.number('teacherValImages', 1000, { min: 1, integer: true }),
    teacherTrainMode: r.boolean('teacherTrainMode', false),
    lrDecay: r.number('lrDecay', 0.9, { above: 0, max: 1 }),
    weightDecay: r.number('weightDecay', 1e-4, { min: 0 }),
    ratingBatches: r.number('ratingBatches', 19, { min: 1, integer: true }),
    sampleTries: r.number('sampleTries', 100, { min: 1, integer: true }),
  };
  if (teacherModel !== undefined && teacherPreset !== undefined) r.fail('teacherPreset', 'give either teacherPreset or teacherModel');
  if (teacherDefinition !== undefined && (teacherPreset !== undefined || teacherModel !== undefined)) {
    r.fail('teacherDefinition', 'give one of teacherPreset, teacherDefinition or teacherModel');
  }
  if (teacherModel !== undefined && teacherTaps === undefined) r.fail('teacherTaps', 'required with teacherModel');
  if (teacherModel === undefined && teacherTaps !== undefined) r.fail('teacherTaps', 'only used with teacherModel');
  if (teacherModel !== undefined && teacherSteps !== undefined && teacherSteps > 0) r.fail('teacherSteps', 'a teacherModel is not trained');
  if (teacherModel !== undefined && teacherFraction !== undefined && teacherFraction > 0) r.fail('teacherFraction', 'a teacherModel is not trained');
  if (teacherSteps !== undefined && teacherFraction !== undefined) r.fail('teacherFraction', 'give either teacherSteps or teacherFraction');
  if (teacherPreset !== undefined) cfg.teacherPreset = teacherPreset;
  if (teacherModel !== undefined) cfg.teacherModel = teacherModel;
  if (teacherDefinition !== undefined) cfg.teacherDefinition = teacherDefinition;
  if (teacherTaps !== undefined) cfg.teacherTaps = teacherTaps;
  if (teacherSteps !== undefined) cfg.teacherSteps = teacherSteps;
  if (teacherFraction !== undefined) cfg.teacherFraction = teacherFraction;
  if (stepsPerBlock !== undefined) cfg.stepsPerBlock = stepsPerBlock;
  if (blockLearningRates !== undefined) cfg.blockLearningRates = blockLearningRates;
  if (lrDecaySteps !== undefined) cfg.lrDecaySteps = lrDecaySteps;
  r.done();
  return cfg;
}
