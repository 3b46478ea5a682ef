import { InvalidConfigError } from './errors.ts';

/** A JSON Schema document as plain JSON. */
export type JsonSchema = { [key: string]: unknown };

/** The JSON Schema dialect of the schemas `ConfigReader.schemaOf` derives. */
export const CONFIG_SCHEMA_DIALECT = 'https://json-schema.org/draft/2020-12/schema';

/** An object schema being filled while a parser runs under `ConfigReader.schemaOf`. */
interface ObjectSchemaDraft {
  type: 'object';
  properties: Record<string, JsonSchema>;
  additionalProperties: false;
  [key: string]: unknown;
}

const objectDraft = (): ObjectSchemaDraft => ({ type: 'object', properties: {}, additionalProperties: false });

/** The root schema the next top-level ConfigReader records into (set only inside `schemaOf`). */
let pendingSchema: ObjectSchemaDraft | undefined;

/** The JSON Schema of a number with these bounds. */
function numberSchema(b: NumberBounds): JsonSchema {
  return {
    type: b.integer ? 'integer' : 'number',
    ...(b.min !== undefined ? { minimum: b.min } : {}),
    ...(b.max !== undefined ? { maximum: b.max } : {}),
    ...(b.above !== undefined ? { exclusiveMinimum: b.above } : {}),
  };
}

/** Bounds for a numeric config value. */
export interface NumberBounds {
  min?: number;
  max?: number;
  /** Exclusive lower bound. */
  above?: number;
  integer?: boolean;
}

/**
 * Reads a strategy's raw JSON config key by key, filling defaults. Every getter throws
 * InvalidConfigError naming the key; `done()` throws on keys no getter asked for.
 *
 * The getters are also the config's schema: `ConfigReader.schemaOf(parse)` runs a parser on `{}`
 * and returns the JSON Schema of every key it read (type, bounds, allowed values, default), so a
 * strategy states each rule once. Rules between keys (`r.fail` after reading) stay in the parser.
 */
export class ConfigReader {
  private readonly raw: Record<string, unknown>;
  private readonly seen = new Set<string>();
  /** Where the getters record their keys' schemas; set only while `schemaOf` runs. */
  private schema: ObjectSchemaDraft | undefined;

  /**
   * The JSON Schema (draft 2020-12) of the config `parse` reads: `parse({})` runs once with its
   * readers recording each key they read. Throws when `parse` builds no ConfigReader or refuses
   * the empty config.
   */
  static schemaOf(parse: (raw: unknown) => unknown): JsonSchema {
    const root = objectDraft();
    pendingSchema = root;
    try {
      parse({});
    } finally {
      pendingSchema = undefined;
    }
    if (root['title'] === undefined) throw new Error('ConfigReader.schemaOf: the parser built no ConfigReader');
    return { $schema: CONFIG_SCHEMA_DIALECT, ...root };
  }

  constructor(
    private readonly strategyId: string,
    raw: unknown,
    private readonly prefix = '',
  ) {
    if (raw === undefined || raw === null) this.raw = {};
    else if (typeof raw === 'object' && !Array.isArray(raw)) this.raw = raw as Record<string, unknown>;
    else throw new InvalidConfigError(strategyId, `${prefix || 'config'}: must be an object`);
    if (pendingSchema !== undefined && prefix === '') {
      this.schema = pendingSchema;
      this.schema['title'] = `config of strategy '${strategyId}'`;
      pendingSchema = undefined;
    }
  }

  private note(key: string, schema: JsonSchema, def?: unknown): void {
    if (this.schema) this.schema.properties[key] = def === undefined ? schema : { ...schema, default: structuredClone(def) };
  }

  /** Throws InvalidConfigError naming `key`. */
  fail(key: string, message: string): never {
    throw new InvalidConfigError(this.strategyId, `${this.prefix}${key}: ${message}`);
  }

  private take(key: string): unknown {
    this.seen.add(key);
    return this.raw[key];
  }

  private checkNumber(key: string, v: unknown, b: NumberBounds): number {
    // NaN and the infinities are numbers JSON cannot write (JSON.stringify makes them null): name them.
    if (typeof v !== 'number' || !Number.isFinite(v)) this.fail(key, `must be a finite number, got ${typeof v === 'number' ? String(v) : JSON.stringify(v)}`);
    if (b.integer && !Number.isInteger(v)) this.fail(key, `must be an integer, got ${v}`);
    if (b.min !== undefined && v < b.min) this.fail(key, `must be >= ${b.min}, got ${v}`);
    if (b.max !== undefined && v > b.max) this.fail(key, `must be <= ${b.max}, got ${v}`);
    if (b.above !== undefined && !(v > b.above)) this.fail(key, `must be > ${b.above}, got ${v}`);
    return v;
  }

  number(key: string, def: number, bounds: NumberBounds = {}): number {
    this.note(key, numberSchema(bounds), def);
    const v = this.take(key);
    return v === undefined ? def : this.checkNumber(key, v, bounds);
  }

  /** A number or undefined when absent. */
  optionalNumber(key: string, bounds: NumberBounds = {}): number | undefined {
    this.note(key, numberSchema(bounds));
    const v = this.take(key);
    return v === undefined ? undefined : this.checkNumber(key, v, bounds);
  }

  boolean(key: string, def: boolean): boolean {
    this.note(key, { type: 'boolean' }, def);
    const v = this.take(key);
    if (v === undefined) return def;
    if (typeof v !== 'boolean') this.fail(key, `must be true or false, got ${JSON.stringify(v)}`);
    return v;
  }

  /** One of `allowed`. */
  oneOf<T extends string>(key: string, def: T, allowed: readonly T[]): T {
    // no `type`: a wrong type is refused by `enum`, naming the allowed values as the reader does
    this.note(key, { enum: [...allowed] }, def);
    const v = this.take(key);
    if (v === undefined) return def;
    if (typeof v !== 'string' || !allowed.includes(v as T)) {
      this.fail(key, `must be one of ${allowed.join(', ')}, got ${JSON.stringify(v)}`);
    }
    return v as T;
  }

  /** A string or undefined when absent. */
  optionalString(key: string): string | undefined {
    this.note(key, { type: 'string', minLength: 1 });
    const v = this.take(key);
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || v === '') this.fail(key, `must be a non-empty string, got ${JSON.stringify(v)}`);
    return v;
  }

  /** A JSON object (a copy; its keys are not checked here) or undefined when absent. */
  optionalObject(key: string): Record<string, unknown> | undefined {
    this.note(key, { type: 'object' });
    const v = this.take(key);
    if (v === undefined) return undefined;
    if (v === null || typeof v !== 'object' || Array.isArray(v)) this.fail(key, `must be an object, got ${JSON.stringify(v)}`);
    return structuredClone(v) as Record<string, unknown>;
  }

  /** A list of numbers, each within bounds; `length` fixes its size when given. */
  numberList(key: string, def: number[] | undefined, bounds: NumberBounds = {}, length?: { min?: number; max?: number }): number[] | undefined {
    this.note(key, {
      type: 'array',
      items: numberSchema(bounds),
      ...(length?.min !== undefined ? { minItems: length.min } : {}),
      ...(length?.max !== undefined ? { maxItems: length.max } : {}),
    }, def);
    const v = this.take(key);
    if (v === undefined) return def;
    if (!Array.isArray(v)) this.fail(key, `must be a list of numbers, got ${JSON.stringify(v)}`);
    if (length?.min !== undefined && v.length < length.min) this.fail(key, `needs at least ${length.min} entries`);
    if (length?.max !== undefined && v.length > length.max) this.fail(key, `allows at most ${length.max} entries`);
    return v.map((x, i) => this.checkNumber(`${key}[${i}]`, x, bounds));
  }

  /** A list of distinct strings from `allowed` (any non-empty strings when `allowed` is undefined). */
  stringList<T extends string>(key: string, def: T[] | undefined, allowed?: readonly T[]): T[] | undefined {
    const item: JsonSchema = allowed ? { type: 'string', enum: [...allowed] } : { type: 'string', minLength: 1 };
    this.note(key, { type: 'array', minItems: 1, uniqueItems: true, items: item }, def);
    const v = this.take(key);
    if (v === undefined) return def;
    if (!Array.isArray(v) || v.length === 0) this.fail(key, `must be a non-empty list, got ${JSON.stringify(v)}`);
    const seen = new Set<string>();
    for (const [i, x] of v.entries()) {
      if (typeof x !== 'string' || x === '') this.fail(`${key}[${i}]`, 'must be a non-empty string');
      if (allowed && !allowed.includes(x as T)) this.fail(`${key}[${i}]`, `must be one of ${allowed.join(', ')}, got ${JSON.stringify(x)}`);
      if (seen.has(x)) this.fail(`${key}[${i}]`, `duplicate ${JSON.stringify(x)}`);
      seen.add(x);
    }
    return v as T[];
  }

  /** A nested object read by its own reader (unknown nested keys are refused by `read`). */
  object<T>(key: string, read: (r: ConfigReader) => T): T {
    const v = this.take(key);
    if (v !== undefined && (v === null || typeof v !== 'object' || Array.isArray(v))) this.fail(key, 'must be an object');
    const inner = new ConfigReader(this.strategyId, v, `${this.prefix}${key}.`);
    if (this.schema) {
      inner.schema = objectDraft();
      this.note(key, inner.schema);
    }
    const out = read(inner);
    inner.done();
    return out;
  }

  /** Throws InvalidConfigError naming the first key no getter read. */
  done(): void {
    for (const k of Object.keys(this.raw)) {
      if (!this.seen.has(k)) throw new InvalidConfigError(this.strategyId, `${this.prefix}${k}: unknown key`);
    }
  }
}
