import * as tf from '@tensorflow/tfjs-core';
import type { Arch, Batch } from '@supernetd/sdk';
import { makeDivisible } from '@supernetd/sdk';
import { createEngineRuntime } from '../src/index.ts';
import type { EngineRuntime } from '../src/index.ts';
import type { ResolvedLayer, ResolvedSpace } from '../src/space/index.ts';
import type { BackendName } from '../src/backend/select-backend.ts';
import type { CaseSpec, LayerSpec, PassSpec } from './net-spec.ts';
import type { BenchCase, EngineSide } from './run.ts';

/**
 * Cases (b)-(d): the engine's own supernet (`mbv2-small` on Fashion-MNIST, batch 128 of 28x28x1),
 * trained through `createEngineRuntime` exactly as strategies train it, against the same supernet in
 * PyTorch (weights sliced per subnet).
 */

const BATCH = 128;

async function runtime(backend: BackendName): Promise<EngineRuntime> {
  return createEngineRuntime({
    space: { preset: 'mbv2-small' },
    training: {
      dataset: { name: 'fashion-mnist', maxTrainExamples: 4 * BATCH, maxTestExamples: BATCH },
      batchSize: BATCH,
      totalSteps: 1000,
      optimizer: { kind: 'sgd', learningRate: 0.05, momentum: 0.9, nesterov: false, weightDecay: 0, schedule: 'constant' },
      labelSmoothing: 0,
      seed: 1,
    },
    backend,
  });
}

/** A middle subnet: the middle width candidate everywhere and the middle resolution. */
function middleArch(space: ResolvedSpace): Arch {
  const width: Record<string, number> = {};
  for (const w of space.widthChoices) width[w.id] = w.candidates[Math.floor(w.candidates.length / 2)]!;
  return { resolution: space.resolutions[Math.floor(space.resolutions.length / 2)]!, width };
}

function widthOf(slot: ResolvedLayer['output'], arch: Arch): number {
  return slot.choice === undefined ? slot.max : arch.width[slot.choice]!;
}

/** The supernet's layers at max width, in the benchmark's spec form (op 0 of every MBConv). */
function layerSpecs(space: ResolvedSpace): LayerSpec[] {
  const out: LayerSpec[] = [];
  for (const l of space.resolvedLayers) {
    const act = l.act !== 'none';
    switch (l.kind) {
      case 'conv':
        out.push(l.kernel === 1 ? { op: 'pw', maxOut: l.output.max, act } : { op: 'conv', k: l.kernel, stride: l.stride, maxOut: l.output.max, act });
        break;
      case 'dwconv':
        out.push({ op: 'dw', k: l.kernel, stride: l.stride, act });
        break;
      case 'mbconv': {
        const op = l.ops[0]!;
        const inner: LayerSpec[] = [];
        if (op.expand !== 1) inner.push({ op: 'pw', maxOut: op.hiddenMax });
        inner.push({ op: 'dw', k: op.kernel, stride: l.stride }, { op: 'pw', maxOut: l.output.max, act: false });
        out.push({ op: 'block', residual: l.residual, layers: inner });
        break;
      }
      case 'pool':
        out.push({ op: 'pool' });
        break;
      case 'linear':
        out.push({ op: 'fc', out: space.numClasses });
        break;
    }
  }
  return out;
}

/** Active widths of the spec's conv/pw layers for `arch`, in order. */
function passWidths(space: ResolvedSpace, arch: Arch): number[] {
  const widths: number[] = [];
  let cin = space.inputShape[2];
  for (const l of space.resolvedLayers) {
    if (l.kind === 'conv') {
      cin = widthOf(l.output, arch);
      widths.push(cin);
    } else if (l.kind === 'mbconv') {
      const op = l.ops[0]!;
      if (op.expand !== 1) widths.push(makeDivisible(cin * op.expand));
      cin = widthOf(l.output, arch);
      widths.push(cin);
    }
  }
  return widths;
}

function pass(space: ResolvedSpace, arch: Arch, loss: PassSpec['loss']): PassSpec {
  return { widths: passWidths(space, arch), resolution: arch.resolution, loss };
}

function spec(space: ResolvedSpace, passes: PassSpec[]): CaseSpec {
  const [h, w, c] = space.inputShape;
  return { input: [h, w, c], batch: BATCH, classes: space.numClasses, layers: layerSpecs(space), passes };
}

function engineSide(rt: EngineRuntime, loss: (batch: Batch) => tf.Scalar): EngineSide {
  const batch = rt.nextTrainBatch();
  return {
    step: () => void rt.engine.step(() => loss(batch)),
    dispose: () => tf.dispose([batch.x, batch.y]),
  };
}

/** The cases; each builds its TF.js side on the backend it is given. */
export function engineCases(): BenchCase[] {
  return [
    {
      id: 'b',
      name: 'b-mbv2-small-max-b128-28x28x1',
      build: async (backend) => {
        const rt = await runtime(backend);
        const space = rt.space as ResolvedSpace;
        const arch = space.maxArch();
        const { engine } = rt;
        const side = engineSide(rt, (b) => engine.ce(engine.supernet.forward(arch, b.x, { training: true }), b.y));
        return { engine: side, spec: spec(space, [pass(space, arch, 'ce')]) };
      },
    },
    {
      id: 'c',
      name: 'c-mbv2-small-min-b128-28x28x1',
      build: async (backend) => {
        const rt = await runtime(backend);
        const space = rt.space as ResolvedSpace;
        const arch = space.minArch();
        const { engine } = rt;
        const side = engineSide(rt, (b) => engine.ce(engine.supernet.forward(arch, b.x, { training: true }), b.y));
        return { engine: side, spec: spec(space, [pass(space, arch, 'ce')]) };
      },
    },
    {
      id: 'd',
      name: 'd-mbv2-small-pss-max-ce+sampled-kl+min-kl-b128',
      build: async (backend) => {
        const rt = await runtime(backend);
        const space = rt.space as ResolvedSpace;
        const max = space.maxArch();
        const mid = middleArch(space);
        const min = space.minArch();
        const { engine } = rt;
        const net = engine.supernet;
        // PSS-Net's training step: the max net on the labels, the sampled and min nets
        // distilled in place from the max net's predictions.
        const side = engineSide(rt, (b) => {
          const teacher = net.forward(max, b.x, { training: true });
          const ce = engine.ce(teacher, b.y);
          const klMid = engine.kl(net.forward(mid, b.x, { training: true }), teacher);
          const klMin = engine.kl(net.forward(min, b.x, { training: true }), teacher);
          return tf.add(tf.add(ce, klMid), klMin) as tf.Scalar;
        });
        return { engine: side, spec: spec(space, [pass(space, max, 'ce'), pass(space, mid, 'kl'), pass(space, min, 'kl')]) };
      },
    },
  ];
}
