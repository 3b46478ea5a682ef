import * as crypto from 'node:crypto';

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
  /** Relative slack below target a strategy may aim for, in [0, 1): 0 asks for none; undefined = the strategy's default. */
  tolerance?: number;
}

/**
 * Key of a constraint in a strategy's remembered search results (`kind:target`, e.g.
 * `flops:4000000`). Persisted in checkpoints, so the text is pinned. `tolerance` is not part of it.
 */
export function constraintKey(c: Constraint): string {
  return `${c.kind}:${c.target}`;
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

/** JSON strings of object keys seen so far (a bounded cache: the keys of a space are few). */
const quotedKeys = new Map<string, string>();

function quoteKey(k: string): string {
  let q = quotedKeys.get(k);
  if (q === undefined) {
    q = JSON.stringify(k);
    if (quotedKeys.size < 4096) quotedKeys.set(k, q);
  }
  return q;
}

/** An object's keys as Object.keys lists them, sorted, and each sorted key's JSON with its colon. */
interface Shape {
  keys: string[];
  sorted: string[];
  prefixes: string[];
}

/** The shapes of the objects seen last (an arch's width, op and channelIdx maps recur). */
const shapes: Shape[] = [];
let nextShape = 0;

/**
 * The shape of an object with `keys`: one seen recently when its keys are the same in the same
 * order, else made (the sort is the default one, by UTF-16 code units) and kept in place of the
 * oldest of 8.
 */
function shapeOf(keys: string[]): Shape {
  next: for (const shape of shapes) {
    const known = shape.keys;
    if (known.length !== keys.length) continue;
    for (let i = 0; i < keys.length; i++) if (known[i] !== keys[i]) continue next;
    return shape;
  }
  const sorted = [...keys].sort();
  const shape = { keys, sorted, prefixes: sorted.map((k) => `${quoteKey(k)}:`) };
  shapes[nextShape] = shape;
  nextShape = (nextShape + 1) % 8;
  return shape;
}

/**
 * JSON with object keys sorted by UTF-16 code units and undefined members left out. Built by
 * string concatenation with the sorted order and the keys' JSON of recent object shapes cached,
 * since this runs for every id of every sampled subnet; the text equals the one the tests pin.
 */
function stable(value: unknown): string {
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : 'null';
  if (Array.isArray(value)) {
    let s = '[';
    for (let i = 0; i < value.length; i++) {
      if (i > 0) s += ',';
      // as Array.prototype.join: an element with no JSON form (undefined, a hole) adds nothing
      const e = stable(value[i]) as string | undefined;
      if (e !== undefined) s += e;
    }
    return `${s}]`;
  }
  if (value !== null && typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    const shape = shapeOf(Object.keys(obj));
    const sorted = shape.sorted;
    let s = '{';
    for (let i = 0; i < sorted.length; i++) {
      const v = obj[sorted[i] as string];
      if (v === undefined) continue;
      if (s.length > 1) s += ',';
      s += shape.prefixes[i] as string;
      s += stable(v);
    }
    return `${s}}`;
  }
  return JSON.stringify(value);
}

/** Canonical key of an architecture: equal architectures give equal keys (pool/dictionary key). */
export function archKey(a: Arch): string {
  const channelIdx = a.channelIdx && Object.keys(a.channelIdx).length > 0 ? a.channelIdx : undefined;
  const op = a.op && Object.keys(a.op).length > 0 ? a.op : undefined;
  if (a.resolution === undefined || a.width === undefined) {
    const canon = { resolution: a.resolution, width: a.width, channelIdx, op };
    return stable(canon);
  }
  // the members in sorted order: channelIdx, op, resolution, width
  let s = '{';
  if (channelIdx !== undefined) s += `"channelIdx":${stable(channelIdx)},`;
  if (op !== undefined) s += `"op":${stable(op)},`;
  return `${s}"resolution":${stable(a.resolution)},"width":${stable(a.width)}}`;
}

/** SHA-256 in hex: the one-shot `crypto.hash` where Node has it (20.12+), else a Hash object. */
const sha256Hex: (text: string) => string =
  typeof crypto.hash === 'function' ? (text) => crypto.hash('sha256', text, 'hex') : (text) => crypto.createHash('sha256').update(text).digest('hex');

/** Stable public id of an architecture (`sn-` + 16 hex digits of SHA-256 of its key). */
export function subnetId(a: Arch): string {
  return subnetIdOfKey(archKey(a));
}

/**
 * `subnetId` of the architecture whose `archKey` is `key`: for a caller that needs the key too (the
 * server writes it as the architecture of the subnet's subnets.jsonl line), so it is built once.
 */
export function subnetIdOfKey(key: string): string {
  return `sn-${sha256Hex(key).slice(0, 16)}`;
}

/** PSS-Net's make_divisible: floor((v + d/2)/d)*d, at least min, never below 0.9 v. */
export function makeDivisible(v: number, d = 8, min = d): number {
  let n = Math.max(min, Math.floor((v + d / 2) / d) * d);
  if (n < 0.9 * v) n += d;
  return n;
}
