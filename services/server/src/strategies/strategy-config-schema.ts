import { Ajv } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { InvalidArgumentError, InvalidConfigError } from '@supernetd/sdk';
import type { JsonSchema, StrategyFactory } from '@supernetd/sdk';

/** Checks a raw strategy config against the strategy's JSON Schema. */
export type ConfigSchemaCheck = (raw: unknown) => void;

// one compiler per dialect; strict mode refuses schemas with unknown keywords at registration
const compilers = {
  draft07: new Ajv({ strict: true, allErrors: false, verbose: true }),
  draft2020: new Ajv2020({ strict: true, allErrors: false, verbose: true }),
};

/**
 * Compiles a strategy's `configSchema` (draft 2020-12, or draft-07 when its `$schema` names
 * draft-07) into a check that throws InvalidConfigError naming the JSON path and the rule.
 * Throws InvalidArgumentError naming the strategy when the schema itself is not valid.
 */
export function compileConfigSchema(factory: StrategyFactory, origin: string): ConfigSchemaCheck {
  const schema: JsonSchema | undefined = factory.configSchema;
  if (schema === undefined) return () => undefined;
  let validate: ValidateFunction;
  try {
    if (schema === null || typeof schema !== 'object' || Array.isArray(schema)) throw new Error('must be a JSON object');
    const dialect = typeof schema['$schema'] === 'string' && schema['$schema'].includes('draft-07') ? 'draft07' : 'draft2020';
    validate = compilers[dialect].compile(schema);
  } catch (e) {
    throw new InvalidArgumentError(`strategy '${factory.id}' from '${origin}' has an invalid configSchema: ${(e as Error).message}`);
  }
  return (raw) => {
    if (validate(raw)) return;
    const err = (validate.errors ?? [])[0];
    if (err === undefined) throw new InvalidConfigError(factory.id, 'config: does not match the schema');
    const { path, pointer, message } = describeError(raw, err);
    throw new InvalidConfigError(factory.id, `${path}: ${message} (schema rule '${err.keyword}' at ${pointer || '/'})`)
      .with({ configPath: pointer || '/', schemaRule: err.keyword });
  };
}

/** The value at a JSON pointer's segments. */
function valueAt(root: unknown, segments: readonly string[]): unknown {
  let v = root;
  for (const s of segments) v = v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[s] : undefined;
  return v;
}

/** `a.b[0]` for the pointer segments ['a', 'b', '0'] (indices where the parent is a list); `config` for the root. */
function readablePath(root: unknown, segments: readonly string[]): string {
  let out = '';
  for (const [i, s] of segments.entries()) {
    const parent = valueAt(root, segments.slice(0, i));
    out += Array.isArray(parent) ? `[${s}]` : out === '' ? s : `.${s}`;
  }
  return out === '' ? 'config' : out;
}

const unescape = (s: string): string => s.replace(/~1/g, '/').replace(/~0/g, '~');
const show = (v: unknown): string => (typeof v === 'number' ? String(v) : JSON.stringify(v) ?? String(v));

/** The error in the ConfigReader's words, so a config is refused the same way by either. */
function describeError(raw: unknown, err: ErrorObject): { path: string; pointer: string; message: string } {
  const segments = err.instancePath === '' ? [] : err.instancePath.slice(1).split('/').map(unescape);
  const v = valueAt(raw, segments);
  const p = err.params as Record<string, unknown>;
  const node = (err.parentSchema ?? {}) as JsonSchema;
  const items = (node['items'] ?? {}) as JsonSchema;
  const stringList = node['type'] === 'array' && items['type'] === 'string';
  // a list entry is named without its value, as the reader does
  const inList = segments.length > 0 && Array.isArray(valueAt(raw, segments.slice(0, -1)));
  const at = (segs: string[]) => ({ path: readablePath(raw, segs), pointer: segs.map((s) => `/${s.replace(/~/g, '~0').replace(/\//g, '~1')}`).join('') });
  switch (err.keyword) {
    case 'additionalProperties':
      return { ...at([...segments, String(p['additionalProperty'])]), message: 'unknown key' };
    case 'type': {
      const want = String(p['type']);
      let message = `must be of type ${want}, got ${show(v)}`;
      if (want === 'integer' && typeof v === 'number') message = `must be an integer, got ${v}`;
      else if (want === 'integer' || want === 'number') message = `must be a finite number, got ${show(v)}`;
      else if (want === 'boolean') message = `must be true or false, got ${show(v)}`;
      else if (want === 'object') message = node['properties'] !== undefined ? 'must be an object' : `must be an object, got ${show(v)}`;
      else if (want === 'array') message = stringList ? `must be a non-empty list, got ${show(v)}` : `must be a list of numbers, got ${show(v)}`;
      else if (want === 'string') message = inList ? 'must be a non-empty string' : `must be a non-empty string, got ${show(v)}`;
      return { ...at(segments), message };
    }
    case 'minimum':
      return { ...at(segments), message: `must be >= ${show(p['limit'])}, got ${show(v)}` };
    case 'maximum':
      return { ...at(segments), message: `must be <= ${show(p['limit'])}, got ${show(v)}` };
    case 'exclusiveMinimum':
      return { ...at(segments), message: `must be > ${show(p['limit'])}, got ${show(v)}` };
    case 'exclusiveMaximum':
      return { ...at(segments), message: `must be < ${show(p['limit'])}, got ${show(v)}` };
    case 'enum':
      return { ...at(segments), message: `must be one of ${(p['allowedValues'] as unknown[]).map(String).join(', ')}, got ${show(v)}` };
    case 'minItems':
      return { ...at(segments), message: stringList && p['limit'] === 1 ? `must be a non-empty list, got ${show(v)}` : `needs at least ${show(p['limit'])} entries` };
    case 'maxItems':
      return { ...at(segments), message: `allows at most ${show(p['limit'])} entries` };
    case 'uniqueItems': {
      const later = String(Math.max(Number(p['i']), Number(p['j'])));
      return { ...at([...segments, later]), message: `duplicate ${show(valueAt(raw, [...segments, later]))}` };
    }
    case 'minLength':
      if (p['limit'] !== 1) return { ...at(segments), message: `must have at least ${show(p['limit'])} characters` };
      return { ...at(segments), message: inList ? 'must be a non-empty string' : `must be a non-empty string, got ${show(v)}` };
    case 'required':
      return { ...at([...segments, String(p['missingProperty'])]), message: 'required' };
    default:
      return { ...at(segments), message: err.message ?? 'does not match the schema' };
  }
}
