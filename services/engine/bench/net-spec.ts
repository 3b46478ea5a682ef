/**
 * The benchmark's description of a net and of the training step to time, shared with the PyTorch
 * side (torch_bench.py) as JSON so both frameworks build the same architecture.
 */

/** One layer at max width. Every conv is followed by BN (batch statistics) and, if `act`, ReLU6. */
export type LayerSpec =
  | { op: 'conv'; k: number; stride: number; maxOut: number; act?: boolean }
  | { op: 'dw'; k: number; stride: number; act?: boolean }
  | { op: 'pw'; maxOut: number; act?: boolean }
  | { op: 'block'; residual: boolean; layers: LayerSpec[] }
  | { op: 'pool' }
  | { op: 'fc'; out: number };

/** One forward/backward pass of a training step: a subnet, its input resolution and its loss. */
export interface PassSpec {
  /** Active output width of every `conv` and `pw` layer, in order. */
  widths: number[];
  resolution: number;
  /** `ce`: cross-entropy with the labels; `kl`: KL to the first pass's detached predictions. */
  loss: 'ce' | 'kl';
}

export interface CaseSpec {
  /** [height, width, channels] of the input images. */
  input: [number, number, number];
  batch: number;
  classes: number;
  layers: LayerSpec[];
  passes: PassSpec[];
}

/** Output widths of the `conv`/`pw` layers at max width. */
export function maxWidths(layers: LayerSpec[]): number[] {
  const out: number[] = [];
  for (const l of layers) {
    if (l.op === 'conv' || l.op === 'pw') out.push(l.maxOut);
    else if (l.op === 'block') out.push(...maxWidths(l.layers));
  }
  return out;
}

/**
 * Case (a), a small MobileNet-style net: conv3x3 s2 32, dw, pw 64, dw s2, pw 128,
 * pool, fc; batch 64 of 32x32x3; one SGD step.
 */
export function smallNetCase(): CaseSpec {
  const layers: LayerSpec[] = [
    { op: 'conv', k: 3, stride: 2, maxOut: 32 },
    { op: 'dw', k: 3, stride: 1 },
    { op: 'pw', maxOut: 64 },
    { op: 'dw', k: 3, stride: 2 },
    { op: 'pw', maxOut: 128 },
    { op: 'pool' },
    { op: 'fc', out: 10 },
  ];
  return { input: [32, 32, 3], batch: 64, classes: 10, layers, passes: [{ widths: maxWidths(layers), resolution: 32, loss: 'ce' }] };
}

/**
 * Floating-point operations of one training step of `spec`, counted from the definition the same way
 * for every side: 2 per multiply-accumulate of convolutions (kxk, depthwise, 1x1) and the FC layer,
 * 'same' padding (output size ceil(in / stride)); each such layer counted 3 times (forward, input
 * gradient, weight gradient), except that the first layer's input gradient (the images') is not
 * computed by either side. Batch norm, activations, pooling, residual adds, resizes, losses and the
 * optimiser are not counted, so achieved GFLOP/s understate the work done a little.
 */
export function stepFlops(spec: CaseSpec): number {
  let total = 0;
  for (const pass of spec.passes) {
    const widths = pass.widths[Symbol.iterator]();
    const nextWidth = (): number => {
      const w = widths.next();
      if (w.done) throw new Error('stepFlops: the pass has fewer widths than the net has conv/pw layers');
      return w.value;
    };
    let size = pass.resolution;
    let cin = spec.input[2];
    let first = true;
    const count = (macs: number) => {
      total += 2 * macs * spec.batch * (first ? 2 : 3);
      first = false;
    };
    const walk = (layers: LayerSpec[]): void => {
      for (const l of layers) {
        switch (l.op) {
          case 'conv': {
            const cout = nextWidth();
            size = Math.ceil(size / l.stride);
            count(size * size * cout * l.k * l.k * cin);
            cin = cout;
            break;
          }
          case 'dw':
            size = Math.ceil(size / l.stride);
            count(size * size * cin * l.k * l.k);
            break;
          case 'pw': {
            const cout = nextWidth();
            count(size * size * cin * cout);
            cin = cout;
            break;
          }
          case 'block':
            walk(l.layers);
            break;
          case 'pool':
            size = 1;
            break;
          case 'fc':
            count(cin * l.out);
            cin = l.out;
            break;
        }
      }
    };
    walk(spec.layers);
  }
  return total;
}
