// The package layering of this repository (docs/architecture.md, "Packages and their imports") and
// its check: which workspace package may import which, read from every package's package.json
// dependencies and from the import specifiers of its src/ files. scripts/test/layering.test.ts runs
// the check over the repository in `npm test`.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';

/** The strategy packages: the built-in ones and the example of a third-party one. */
const STRATEGIES = [
  '@supernetd/strategy-uniform',
  '@supernetd/strategy-sandwich',
  '@supernetd/strategy-pss',
  '@supernetd/strategy-cafenet',
  '@supernetd/strategy-dna',
  'supernetd-strategy-example',
] as const;

/**
 * The workspace packages each package may import from src/ and list in `dependencies`. A package
 * missing here fails the check, so a new package must take its place in the graph.
 */
export const ALLOWED_IMPORTS: Readonly<Record<string, readonly string[]>> = {
  '@supernetd/client': [],
  '@supernetd/api': ['@supernetd/client'],
  '@supernetd/sdk': [],
  '@supernetd/engine': ['@supernetd/sdk'],
  ...Object.fromEntries(STRATEGIES.map((s) => [s, ['@supernetd/sdk']])),
  '@supernetd/server': ['@supernetd/api', '@supernetd/client', '@supernetd/engine', '@supernetd/sdk', ...STRATEGIES.filter((s) => s.startsWith('@'))],
  '@supernetd/runner': ['@supernetd/client', '@supernetd/sdk'],
  '@supernetd/integration-tests': ['@supernetd/api', '@supernetd/client'],
};

/** Third-party packages a package must not import from src/ nor list in `dependencies` (prefixes). */
export const FORBIDDEN_EXTERNAL: Readonly<Record<string, readonly string[]>> = {
  // installed by applications: the generated contract and the gRPC glue only
  '@supernetd/client': ['@tensorflow/', 'tsx'],
  '@supernetd/api': ['@tensorflow/', 'tsx'],
  // below the wire: protos stay at the server's edge
  '@supernetd/sdk': ['@grpc/', '@bufbuild/'],
  '@supernetd/engine': ['@grpc/', '@bufbuild/'],
  ...Object.fromEntries(STRATEGIES.map((s) => [s, ['@grpc/', '@bufbuild/']])),
};

/** An import against the graph that stays until the code is changed, with why. */
export interface KnownException {
  from: string;
  to: string;
  reason: string;
}

/** The imports against the graph that remain; the check fails when one of them no longer occurs. */
export const KNOWN_EXCEPTIONS: readonly KnownException[] = [];

/** One import (or dependency) against the graph. */
export interface Violation {
  from: string;
  to: string;
  /** `package.json dependencies` or `<file>:<line>`, relative to the repository root. */
  where: string;
  why: string;
}

interface WorkspacePackage {
  name: string;
  dir: string;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
}

function readJson(path: string): Record<string, unknown> {
  return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
}

/** The workspace packages named by the root package.json's `workspaces`. */
export function workspacePackages(root: string): WorkspacePackage[] {
  const workspaces = readJson(join(root, 'package.json')).workspaces as string[];
  return workspaces.map((w) => {
    const dir = join(root, w);
    const pkg = readJson(join(dir, 'package.json'));
    return {
      name: pkg.name as string,
      dir,
      dependencies: (pkg.dependencies ?? {}) as Record<string, string>,
      devDependencies: (pkg.devDependencies ?? {}) as Record<string, string>,
    };
  });
}

function sourceFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir).sort()) {
    if (name === 'node_modules' || name === 'dist') continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) sourceFiles(p, out);
    else if (/\.(ts|mts|cts|js|mjs|cjs)$/.test(name) && !name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/** An import specifier of a file, with whether only types are imported (erased at run time). */
export interface ImportRef {
  specifier: string;
  line: number;
  typeOnly: boolean;
}

/** Every literal import/export/require/import() specifier of a source text. */
export function importsOf(fileName: string, text: string): ImportRef[] {
  const sf = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true);
  const out: ImportRef[] = [];
  const add = (lit: ts.Expression | undefined, typeOnly: boolean, at: ts.Node): void => {
    if (lit && ts.isStringLiteralLike(lit)) {
      out.push({ specifier: lit.text, typeOnly, line: sf.getLineAndCharacterOfPosition(at.getStart(sf)).line + 1 });
    }
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node)) {
      const clause = node.importClause;
      const named = clause?.namedBindings;
      const allTypes =
        clause !== undefined &&
        (clause.isTypeOnly ||
          (clause.name === undefined && named !== undefined && ts.isNamedImports(named) && named.elements.length > 0 && named.elements.every((e) => e.isTypeOnly)));
      add(node.moduleSpecifier, allTypes, node);
    } else if (ts.isExportDeclaration(node)) {
      add(node.moduleSpecifier, node.isTypeOnly, node);
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      add(node.moduleReference.expression, node.isTypeOnly, node);
    } else if (ts.isCallExpression(node)) {
      const isDynamic = node.expression.kind === ts.SyntaxKind.ImportKeyword;
      const isRequire = ts.isIdentifier(node.expression) && node.expression.text === 'require';
      if (isDynamic || isRequire) add(node.arguments[0], false, node);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      add(node.argument.literal as ts.Expression, true, node);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

/** The package a bare specifier names (`@scope/name/sub` -> `@scope/name`); undefined for relative and node: specifiers. */
export function packageOf(specifier: string): string | undefined {
  if (specifier.startsWith('.') || specifier.startsWith('/') || specifier.startsWith('node:')) return undefined;
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

/** Checks every workspace package under `root` against `allowed` and `forbidden`; returns what goes against them. */
export function checkLayering(
  root: string,
  allowed: Readonly<Record<string, readonly string[]>> = ALLOWED_IMPORTS,
  forbidden: Readonly<Record<string, readonly string[]>> = FORBIDDEN_EXTERNAL,
): Violation[] {
  const packages = workspacePackages(root);
  const names = new Set(packages.map((p) => p.name));
  const out: Violation[] = [];
  for (const pkg of packages) {
    const may = allowed[pkg.name];
    if (may === undefined) {
      out.push({ from: pkg.name, to: '', where: relative(root, join(pkg.dir, 'package.json')), why: 'the package has no place in the layering graph' });
      continue;
    }
    const banned = forbidden[pkg.name] ?? [];
    // src/testing/ is a kit for other packages' tests, which carry its devDependencies themselves
    const judge = (to: string, where: string, runtime: boolean, declared: boolean): void => {
      if (to === pkg.name) return;
      if (names.has(to) && !may.includes(to)) out.push({ from: pkg.name, to, where, why: `${pkg.name} may import only ${may.join(', ') || 'no workspace package'}` });
      else if (runtime && banned.some((b) => to === b || to.startsWith(b))) out.push({ from: pkg.name, to, where, why: `${pkg.name} must not depend on ${to}` });
      else if (runtime && !declared && names.has(to)) out.push({ from: pkg.name, to, where, why: `imported at run time but not in ${pkg.name}'s dependencies` });
    };
    for (const dep of Object.keys(pkg.dependencies)) judge(dep, relative(root, join(pkg.dir, 'package.json')) + ' dependencies', true, true);
    const src = join(pkg.dir, 'src');
    let files: string[] = [];
    try {
      files = sourceFiles(src);
    } catch {
      files = [];
    }
    for (const file of files) {
      for (const ref of importsOf(file, readFileSync(file, 'utf8'))) {
        const where = `${relative(root, file)}:${ref.line}`;
        const to = packageOf(ref.specifier);
        if (to === undefined) {
          if (ref.specifier.startsWith('.')) {
            const target = resolve(file, '..', ref.specifier);
            if (target !== pkg.dir && !target.startsWith(pkg.dir + sep)) {
              out.push({ from: pkg.name, to: ref.specifier, where, why: 'a relative import leaves the package; import the other package by name' });
            }
          }
          continue;
        }
        const testingKit = file.startsWith(join(src, 'testing') + sep) && to in pkg.devDependencies;
        judge(to, where, !ref.typeOnly, to in pkg.dependencies || testingKit);
      }
    }
  }
  return out;
}

/** The violations that no known exception covers, and the known exceptions that nothing needs any more. */
export function judgeAgainstExceptions(
  violations: readonly Violation[],
  exceptions: readonly KnownException[] = KNOWN_EXCEPTIONS,
): { unexpected: Violation[]; stale: KnownException[] } {
  const covered = (v: Violation, e: KnownException): boolean => v.from === e.from && v.to === e.to;
  return {
    unexpected: violations.filter((v) => !exceptions.some((e) => covered(v, e))),
    stale: exceptions.filter((e) => !violations.some((v) => covered(v, e))),
  };
}
