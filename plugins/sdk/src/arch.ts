import { createHash } from 'node:crypto';

/** Resource kinds a constraint can bound. FLOPs are multiply-accumulates per image. */
export type CostKind = 'flops' | 'params' | 'latency';

/** A subnet of a search space in canonical, JSON-serialisable form. */
export interface Arch {
  /** Input resolution (height = width). */
  resolution: number;
  /** Active output channels per width-choice id. */
  width: Record<string, number>;
  /** Explicit kept channel indices per width-choice id, ascending (CafeNet). Absent: leftmost. */
  channelIdx?: Record<string, number[]>;
  /** Candidate-op index per op-choice layer id (DNA). Absent: op 0. */
  op?: Record<string, number>;
}

/** A resource budget. `target` is an upper bound in the kind's unit. */
export interface Constraint {
  kind: CostKind;
  target: number;
  /** Relative slack below target a strategy may aim for; 0/undefined = strategy default. */
  tolerance?: number;
}

/** Measured resource use of a subnet. */
export interface Cost {
  flops: number;
  params: number;
  /** Milliseconds from a latency lookup table; 0 when none is configured. */
  latency: number;
}

export function costOf(cost: Cost, kind: CostKind): number {
  return kind === 'flops' ? cost.flops : kind === 'params' ? cost.params : cost.latency;
}

/** True when the cost fits the constraint's upper bound. */
export function fits(cost: Cost, c: Constraint): boolean {
  return costOf(cost, c.kind) <= c.target;
}

function stable(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stable).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stable(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** Canonical key of an architecture: equal architectures give equal keys (pool/dictionary key). */
export function archKey(a: Arch): string {
  const canon: Arch = { resolution: a.resolution, width: a.width };
  if (a.channelIdx && Object.keys(a.channelIdx).length > 0) canon.channelIdx = a.channelIdx;
  if (a.op && Object.keys(a.op).length > 0) canon.op = a.op;
  return stable(canon);
}

/** Stable public id of an architecture (`sn-` + 16 hex digits of SHA-256 of its key). */
export function subnetId(a: Arch): string {
  return `sn-${createHash('sha256').update(archKey(a)).digest('hex').slice(0, 16)}`;
}

/** PSS-Net's make_divisible: floor((v + d/2)/d)*d, at least min, never below 0.9 v. */
export function makeDivisible(v: number, d = 8, min = d): number {
  let n = Math.max(min, Math.floor((v + d / 2) / d) * d);
  if (n < 0.9 * v) n += d;
  return n;
}
