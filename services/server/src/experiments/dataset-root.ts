import { realpath } from 'node:fs/promises';
import path from 'node:path';
import { BUILTIN_DATASETS } from '@supernetd/engine/space';
import { InvalidArgumentError } from '@supernetd/sdk';
import { quote } from '../errors/to-status.ts';

/** Whether `name` is one of the engine's built-in datasets (named without format and path). */
export function isBuiltinDataset(name: string): boolean {
  return (BUILTIN_DATASETS as readonly string[]).includes(name);
}

/** The dataset of a spec that names none: the engine's first built-in dataset. */
export const DEFAULT_DATASET: string = BUILTIN_DATASETS[0];

/** The engine's built-in dataset names, for messages. */
export function builtinDatasetList(): string {
  return BUILTIN_DATASETS.join(', ');
}

/**
 * The real path of a dataset file or directory named by a client, confined to `root` (the
 * configured datasetRoot): a relative path is taken from the root, an absolute one must lie inside
 * it, and the real path (symbolic links followed) must too. Every path outside the root gets the
 * same INVALID_DATASET message whether or not it exists, so the API cannot probe the server's file
 * system; only inside the root does "no such dataset" differ.
 */
export async function confineDatasetPath(root: string, given: string): Promise<string> {
  const outside = () =>
    new InvalidArgumentError(
      `spec.training.dataset.path ${quote(given)} is outside the server's dataset directory (setting datasetRoot); give a path relative to it`,
      'INVALID_DATASET',
    );
  const absRoot = path.resolve(root);
  const wanted = path.resolve(absRoot, given);
  if (!isInside(absRoot, wanted) || given.includes('\0')) throw outside();
  let realRoot: string;
  try {
    realRoot = await realpath(absRoot);
  } catch {
    throw new InvalidArgumentError(
      `no dataset ${quote(given)}: the server's dataset directory (setting datasetRoot) does not exist`,
      'INVALID_DATASET',
    );
  }
  let real: string;
  try {
    real = await realpath(wanted);
  } catch {
    // the deepest existing ancestor must not lead out of the root (a link to elsewhere)
    if (!isInside(realRoot, await deepestReal(wanted, absRoot, realRoot))) throw outside();
    throw new InvalidArgumentError(`no dataset ${quote(given)} in the server's dataset directory`, 'INVALID_DATASET');
  }
  if (!isInside(realRoot, real)) throw outside();
  return real;
}

function isInside(root: string, p: string): boolean {
  const rel = path.relative(root, p);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/** The real path of the deepest existing ancestor of `p` below `stop` (else `realStop`). */
async function deepestReal(p: string, stop: string, realStop: string): Promise<string> {
  let cur = path.dirname(p);
  for (;;) {
    try {
      return await realpath(cur);
    } catch {
      const up = path.dirname(cur);
      if (up === cur || !isInside(stop, up)) return realStop;
      cur = up;
    }
  }
}
