import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { StrategyModule } from '@supernetd/sdk';

/** A third-party strategy module, imported. */
export interface LoadedStrategyModule {
  module: StrategyModule;
  /** The name as configured. */
  origin: string;
  /** A specifier that imports the same module from any thread (absolute file URL or package name). */
  specifier: string;
}

/**
 * Imports a configured strategy module: an npm package name (resolved from the working directory
 * first, then from the server package) or a file path (absolute, or relative to `baseDir`).
 * Throws Error naming the module when it cannot be imported.
 */
export async function loadStrategyModule(name: string, baseDir: string = process.cwd()): Promise<LoadedStrategyModule> {
  const isPath = name.startsWith('.') || path.isAbsolute(name) || name.startsWith('file:');
  let specifier: string;
  if (isPath) {
    specifier = name.startsWith('file:') ? name : pathToFileURL(path.resolve(baseDir, name)).href;
  } else {
    specifier = resolvePackage(name, baseDir);
  }
  try {
    const mod = (await import(specifier)) as StrategyModule;
    return { module: mod, origin: name, specifier };
  } catch (err) {
    throw new Error(`cannot load strategy module '${name}': ${(err as Error).message}`, { cause: err });
  }
}

function resolvePackage(name: string, baseDir: string): string {
  for (const from of [path.join(baseDir, 'noop.js'), import.meta.url]) {
    try {
      return pathToFileURL(createRequire(from).resolve(name)).href;
    } catch {
      // try the next base; ESM-only packages without a require condition fall through to the name
    }
  }
  return name;
}
