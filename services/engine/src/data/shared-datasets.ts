// One copy of each dataset per process. A dataset source's raw splits are read once, into
// SharedArrayBuffer memory, and every thread on that source reads the same memory. Within a thread
// `loadDataset` keeps the sources it used; across threads the server's RPC thread keeps a shelf of
// the sources its live experiment workers use, hands them to each new worker (`shareDatasets`),
// and a worker that reads a new source reports it back.
import { readdir, realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { DatasetSpec } from '../runtime-types.ts';
import type { RawSplit } from './dataset.ts';

/** The raw train and test splits of one dataset source, in SharedArrayBuffer memory (read-only). */
export interface SharedDataset {
  /** Identifies the source: the built-in name, or format, directory and its files' inodes, sizes and times. */
  key: string;
  train: RawSplit;
  test: RawSplit;
  numClasses: number;
}

// This thread's sources by key; the promise dedupes concurrent loads of one source.
const local = new Map<string, Promise<SharedDataset>>();
let onUse: ((ds: SharedDataset, loaded: boolean) => void) | undefined;
let loads = 0;

/**
 * Makes `given` (sources another thread loaded) available to this thread's `loadDataset`, and has
 * `use` called with each source `loadDataset` uses from then on and whether this thread read it
 * (`loaded`) or reused one it was given or had read before (an experiment worker reports it to the
 * RPC thread's shelf).
 */
export function shareDatasets(given: readonly SharedDataset[], use: (ds: SharedDataset, loaded: boolean) => void): void {
  for (const ds of given) if (!local.has(ds.key)) local.set(ds.key, Promise.resolve(ds));
  onUse = use;
}

/** Sources this thread has read from files or the built-in package (not counting given ones). */
export function datasetLoads(): number {
  return loads;
}

/**
 * The source `key` from this thread's sources, else from `load` (its result copied into shared
 * memory unless it already is, and kept for the next call; a failed load is not kept). Without a
 * key (a source that cannot be identified), loads it every time.
 */
export async function sharedSource(key: string | undefined, load: () => Promise<Omit<SharedDataset, 'key'>>): Promise<SharedDataset> {
  if (key === undefined) return { key: '', ...toShared(await load()) };
  let p = local.get(key);
  const loaded = !p;
  if (!p) {
    p = load().then((raw) => {
      loads++;
      return { key, ...toShared(raw) };
    });
    local.set(key, p);
    p.catch(() => local.delete(key));
  }
  const ds = await p;
  onUse?.(ds, loaded);
  return ds;
}

/**
 * The key of `spec`'s source: the built-in name, or the format and real path of the directory with
 * the name, inode, size and change times of each file in it, so a changed file is a new source.
 * Undefined when the directory cannot be listed (the reader then reports why).
 */
export async function sourceKey(spec: DatasetSpec): Promise<string | undefined> {
  if (spec.format === undefined) return `builtin:${spec.name ?? ''}`;
  if (!spec.path) return undefined;
  try {
    const dir = await realpath(spec.path);
    const files: string[] = [];
    for (const name of (await readdir(dir)).sort()) {
      const st = await stat(join(dir, name));
      if (st.isFile()) files.push(`${name}:${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`);
    }
    return `${spec.format}:${dir}:${files.join('|')}`;
  } catch {
    return undefined;
  }
}

function shared<T extends Uint8Array | Float32Array | Int32Array>(a: T): T {
  if (a.buffer instanceof SharedArrayBuffer) return a;
  const Ctor = a.constructor as new (b: SharedArrayBuffer) => T;
  const out = new Ctor(new SharedArrayBuffer(a.byteLength));
  out.set(a as never);
  return out;
}

function toShared(raw: Omit<SharedDataset, 'key'>): Omit<SharedDataset, 'key'> {
  const split = (s: RawSplit): RawSplit => ({ ...s, pixels: shared(s.pixels), labels: shared(s.labels) });
  return { train: split(raw.train), test: split(raw.test), numClasses: raw.numClasses };
}
