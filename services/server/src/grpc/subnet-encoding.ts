// The binary encoding of a SampleSubnetResponse written directly from the domain subnets: the bytes
// protobuf-es's create + toBinary give for the same subnets (test/subnet-encoding.test.ts compares
// them on random subnets of every preset), at a fraction of the CPU and garbage, since SampleSubnet
// encodes a subnet never handed out before on almost every call.
import type { Arch, Cost } from '@supernetd/sdk';

/** What SampleSubnet hands out of a subnet (the domain Subnet's fields). */
export interface EncodableSubnet {
  id: string;
  arch: Arch;
  cost: Cost;
  source: string;
  score: number;
}

/** UTF-8 bytes of map keys (width-choice and layer ids: a space has few), bounded. */
const keyBytes = new Map<string, Buffer>();

function keyOf(k: string): Buffer {
  let b = keyBytes.get(k);
  if (b === undefined) {
    b = Buffer.from(k, 'utf8');
    if (keyBytes.size < 4096) keyBytes.set(k, b);
  }
  return b;
}

const isInt32 = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= -0x80000000 && v <= 0x7fffffff;

/** Bytes of a uint32 varint. */
function varintSize(n: number): number {
  return n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x200000 ? 3 : n < 0x10000000 ? 4 : 5;
}

/** Bytes of an int32 as protobuf writes it (a negative one sign-extended to 10 bytes). */
function int32Size(n: number): number {
  return n < 0 ? 10 : varintSize(n);
}

/** Size of one map<string, int32> entry's content. */
function intEntrySize(key: Buffer, v: number): number {
  return 1 + varintSize(key.length) + key.length + 1 + int32Size(v);
}

/** Size of a ChannelIndices message (one packed repeated int32, left out when empty). */
function indicesSize(indices: readonly number[]): number {
  if (indices.length === 0) return 0;
  const n = packedSize(indices);
  return 1 + varintSize(n) + n;
}

/** Bytes of the packed int32 values. */
function packedSize(list: readonly number[]): number {
  let n = 0;
  for (const v of list) n += int32Size(v);
  return n;
}

/**
 * The sizes of one subnet's nested messages, computed once and used again while writing (in the
 * order they are written): [subnet, architecture, cost, then one per map entry of the
 * architecture, and for a channel-index entry its ChannelIndices too].
 */
function sizeSubnet(s: EncodableSubnet, sizes: number[]): boolean {
  const a = s.arch;
  if (typeof s.id !== 'string' || typeof s.source !== 'string' || typeof a !== 'object' || a === null || !isInt32(a.resolution)) return false;
  const c = s.cost;
  if (typeof c !== 'object' || c === null || typeof c.flops !== 'number' || typeof c.params !== 'number' || typeof c.latency !== 'number') return false;
  const at = sizes.length;
  sizes.push(0, 0, 0);
  let arch = a.resolution === 0 ? 0 : 1 + int32Size(a.resolution);
  const width = a.width ?? {};
  for (const k in width) {
    if (!Object.hasOwn(width, k)) continue;
    const v = width[k];
    if (!isInt32(v)) return false;
    const e = intEntrySize(keyOf(k), v);
    sizes.push(e);
    arch += 1 + varintSize(e) + e;
  }
  const idx = a.channelIdx ?? {};
  for (const k in idx) {
    if (!Object.hasOwn(idx, k)) continue;
    const list = idx[k];
    if (!Array.isArray(list) || !list.every(isInt32)) return false;
    const key = keyOf(k);
    const ci = indicesSize(list);
    const e = 1 + varintSize(key.length) + key.length + 1 + varintSize(ci) + ci;
    sizes.push(e, ci);
    arch += 1 + varintSize(e) + e;
  }
  const op = a.op ?? {};
  for (const k in op) {
    if (!Object.hasOwn(op, k)) continue;
    const v = op[k];
    if (!isInt32(v)) return false;
    const e = intEntrySize(keyOf(k), v);
    sizes.push(e);
    arch += 1 + varintSize(e) + e;
  }
  const cost = (Object.is(c.flops, 0) ? 0 : 9) + (Object.is(c.params, 0) ? 0 : 9) + (Object.is(c.latency, 0) ? 0 : 9);
  const idLen = Buffer.byteLength(s.id, 'utf8');
  const sourceLen = Buffer.byteLength(s.source, 'utf8');
  const score = Number.isFinite(s.score) ? s.score : 0;
  const subnet =
    (idLen === 0 ? 0 : 1 + varintSize(idLen) + idLen) +
    (1 + varintSize(arch) + arch) +
    (1 + varintSize(cost) + cost) +
    (sourceLen === 0 ? 0 : 1 + varintSize(sourceLen) + sourceLen) +
    (Object.is(score, 0) ? 0 : 9);
  sizes[at] = subnet;
  sizes[at + 1] = arch;
  sizes[at + 2] = cost;
  return true;
}

/** Writes protobuf fields into one buffer, front to back. */
class Out {
  pos = 0;
  constructor(readonly buf: Buffer) {}

  byte(b: number): void {
    this.buf[this.pos++] = b;
  }

  varint(n: number): void {
    while (n > 0x7f) {
      this.buf[this.pos++] = (n & 0x7f) | 0x80;
      n >>>= 7;
    }
    this.buf[this.pos++] = n;
  }

  int32(n: number): void {
    if (n >= 0) {
      this.varint(n);
      return;
    }
    // sign-extended to 64 bits: the low 32 bits in 5 groups, then 1s
    let lo = n >>> 0;
    for (let i = 0; i < 4; i++) {
      this.buf[this.pos++] = (lo & 0x7f) | 0x80;
      lo >>>= 7;
    }
    this.buf[this.pos++] = lo | 0xf0;
    for (let i = 0; i < 4; i++) this.buf[this.pos++] = 0xff;
    this.buf[this.pos++] = 0x01;
  }

  double(tag: number, v: number): void {
    if (Object.is(v, 0)) return;
    this.buf[this.pos++] = tag;
    this.buf.writeDoubleLE(v, this.pos);
    this.pos += 8;
  }

  bytes(b: Buffer): void {
    this.varint(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  string(tag: number, s: string): void {
    if (s === '') return;
    this.buf[this.pos++] = tag;
    const len = Buffer.byteLength(s, 'utf8');
    this.varint(len);
    this.pos += this.buf.write(s, this.pos, 'utf8');
  }
}

function writeIntEntries(out: Out, tag: number, record: Record<string, number>, sizes: number[], at: number): number {
  for (const k in record) {
    if (!Object.hasOwn(record, k)) continue;
    out.byte(tag);
    out.varint(sizes[at++] as number);
    out.byte(0x0a);
    out.bytes(keyOf(k));
    out.byte(0x10);
    out.int32(record[k] as number);
  }
  return at;
}

function writeSubnet(out: Out, s: EncodableSubnet, sizes: number[], at: number): number {
  const a = s.arch;
  out.byte(0x0a); // SampleSubnetResponse.subnets
  out.varint(sizes[at] as number);
  out.string(0x0a, s.id);
  out.byte(0x12); // Subnet.architecture
  out.varint(sizes[at + 1] as number);
  const cost = sizes[at + 2] as number;
  at += 3;
  if (a.resolution !== 0) {
    out.byte(0x08);
    out.int32(a.resolution);
  }
  at = writeIntEntries(out, 0x12, a.width ?? {}, sizes, at);
  const idx = a.channelIdx ?? {};
  for (const k in idx) {
    if (!Object.hasOwn(idx, k)) continue;
    const list = idx[k] as number[];
    out.byte(0x1a);
    out.varint(sizes[at++] as number);
    out.byte(0x0a);
    out.bytes(keyOf(k));
    out.byte(0x12);
    const ci = sizes[at++] as number;
    out.varint(ci);
    if (list.length > 0) {
      out.byte(0x0a);
      out.varint(packedSize(list));
      for (const v of list) out.int32(v);
    }
  }
  at = writeIntEntries(out, 0x22, a.op ?? {}, sizes, at);
  out.byte(0x1a); // Subnet.cost
  out.varint(cost);
  out.double(0x09, s.cost.flops);
  out.double(0x11, s.cost.params);
  out.double(0x19, s.cost.latency);
  out.string(0x22, s.source);
  out.double(0x29, Number.isFinite(s.score) ? s.score : 0);
  return at;
}

/**
 * The SampleSubnetResponse of `subnets`, encoded; undefined when a subnet holds something the
 * protobuf encoder has to judge itself (a width that is not an int32, a cost that is not a number):
 * then the caller encodes it the usual way, which reports the problem as before.
 */
export function encodeSampleSubnetResponse(subnets: readonly EncodableSubnet[]): Buffer | undefined {
  const sizes: number[] = [];
  let total = 0;
  for (const s of subnets) {
    const at = sizes.length;
    if (!sizeSubnet(s, sizes)) return undefined;
    const n = sizes[at] as number;
    total += 1 + varintSize(n) + n;
  }
  const out = new Out(Buffer.allocUnsafe(total));
  let at = 0;
  for (const s of subnets) at = writeSubnet(out, s, sizes, at);
  if (out.pos !== total) throw new Error(`SampleSubnetResponse encoding wrote ${out.pos} bytes of ${total}`);
  return out.buf;
}
