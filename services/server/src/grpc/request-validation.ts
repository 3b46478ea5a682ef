// The static bounds of every request, checked once at the service edge: the `buf.validate` rules in
// proto/supernetd/v1, evaluated by @bufbuild/protovalidate. What depends on the server's
// configuration or state stays in the converters and the experiment manager.
import { getOption } from '@bufbuild/protobuf';
import type { DescField, DescMessage, Message, MessageShape } from '@bufbuild/protobuf';
import type { Path } from '@bufbuild/protobuf/reflect';
import { createValidator } from '@bufbuild/protovalidate';
import type { Violation } from '@bufbuild/protovalidate';
import { field as fieldRules, message as messageRules } from '@bufbuild/protovalidate/gen/buf/validate/validate_pb.js';
import { SupernetService, requestBytesOf } from '@supernetd/api';
import { InvalidArgumentError } from '@supernetd/sdk';
import type { ErrorReason } from '@supernetd/sdk';
import { MAX_ECHO_CHARS } from '../errors/to-status.ts';

const validator = createValidator();

/** The request messages of SupernetService by type name. */
const REQUEST_SCHEMAS: ReadonlyMap<string, DescMessage> = new Map(SupernetService.methods.map((m) => [m.input.typeName, m.input]));

/** The ErrorReason of a violation whose field path starts with one of these (longest first). */
const REASON_BY_PATH: readonly (readonly [RegExp, ErrorReason])[] = [
  [/^spec\.training\.dataset\.(name|path|format)$/, 'INVALID_DATASET'],
  [/^spec\.search_space\./, 'INVALID_SEARCH_SPACE'],
  [/^spec\.strategy\.id$/, 'UNKNOWN_STRATEGY'],
  [/(^|\.)constraint\./, 'INVALID_CONSTRAINT'],
];

/** A map key as a path segment, cut like any echoed value. */
function keySegment(key: string | number | bigint | boolean): string {
  const s = String(key);
  const cut = s.length <= MAX_ECHO_CHARS ? s : `${[...s.slice(0, MAX_ECHO_CHARS)].slice(0, -1).join('')}…`;
  return `[${JSON.stringify(cut)}]`;
}

/** The proto path of a violated field (`spec.training.batch_size`, `metrics["loss"]`). */
function fieldPath(path: Path): string {
  let out = '';
  for (const item of path) {
    if (item.kind === 'list_sub') out += `[${item.index}]`;
    else if (item.kind === 'map_sub') out += keySegment(item.key);
    else if (item.kind === 'field') out += (out === '' ? '' : '.') + item.name;
  }
  return out;
}

/** Follows a path of fields, list indices and map keys through a message; undefined where unset. */
function valueAt(root: unknown, path: Path): unknown {
  let v: unknown = root;
  for (const item of path) {
    if (v === undefined || v === null) return undefined;
    const o = v as Record<string, unknown>;
    if (item.kind === 'list_sub') v = (o as unknown as unknown[])[item.index];
    else if (item.kind === 'map_sub') v = o[String(item.key)];
    else if (item.kind === 'field') {
      if (item.oneof) {
        const sel = o[item.oneof.localName] as { case?: string; value?: unknown } | undefined;
        v = sel?.case === item.localName ? sel.value : undefined;
      } else v = o[item.localName];
    } else return undefined;
  }
  return v;
}

/** The value a rule sets (`lte: 64` -> 64n), read from the violated field's rules. */
function ruleValue(field: DescField, rule: Path): unknown {
  return valueAt(getOption(field, fieldRules), rule);
}

/** The bound a violated rule names, as ErrorInfo's `limitValue`: of a range, the side crossed. */
function limitOf(field: DescField | undefined, v: Violation, value: unknown): string | undefined {
  if (!field || v.rule.length === 0) return undefined;
  const last = v.rule[v.rule.length - 1]!;
  if (last.kind !== 'field') return undefined;
  const bounds = ['gt', 'gte', 'lt', 'lte'];
  if (bounds.includes(last.name)) {
    // a range (`gte_lte`) names one side in its path: report the side the value is beyond
    const parent = v.rule.slice(0, -1);
    const lowerPath = siblings(last, ['gte', 'gt'], field, parent);
    const upperPath = siblings(last, ['lte', 'lt'], field, parent);
    const lower = ruleValue(field, [...parent, ...lowerPath]);
    const upper = ruleValue(field, [...parent, ...upperPath]);
    const n = typeof value === 'bigint' || typeof value === 'number' ? Number(value) : Number.NaN;
    const above = upper !== undefined && (upperPath[0]!.name === 'lt' ? n >= Number(upper) : n > Number(upper));
    const below = lower !== undefined && (lowerPath[0]!.name === 'gt' ? n <= Number(lower) : n < Number(lower));
    const crossed = above ? upper : below ? lower : ruleValue(field, v.rule);
    return crossed === undefined ? undefined : String(crossed);
  }
  if (/^(max|min)_(bytes|len|pairs|items)$/.test(last.name)) {
    const r = ruleValue(field, v.rule);
    return r === undefined ? undefined : String(r);
  }
  return undefined;
}

/** Of the named bound fields beside `f` (gte or gt, lte or lt), the one the rules set. */
function siblings(f: DescField, names: string[], rulesOf?: DescField, parent?: Path): [DescField] {
  for (const n of names) {
    const s = f.parent.fields.find((x) => x.name === n);
    if (s && (!rulesOf || ruleValue(rulesOf, [...(parent ?? []), s]) !== undefined)) return [s];
  }
  return [f];
}

/** What the request held, for the message: sizes of strings and maps rather than their contents. */
function shown(value: unknown, ruleName: string | undefined): string {
  if (typeof value === 'string') {
    return /bytes/.test(ruleName ?? '') ? `${Buffer.byteLength(value, 'utf8')} bytes` : /len/.test(ruleName ?? '') ? `${[...value].length} characters` : JSON.stringify(value.slice(0, MAX_ECHO_CHARS));
  }
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return String(value);
  if (value && typeof value === 'object') return `${Object.keys(value).length} entries`;
  return 'nothing';
}

/** An InvalidArgumentError for a violation: the field path, the rule's message and what was sent. */
export function violationError(req: Message, v: Violation): InvalidArgumentError {
  const field = fieldPath(v.field);
  const lastField = [...v.field].reverse().find((i): i is DescField => i.kind === 'field');
  const value = v.forKey ? (v.field[v.field.length - 1] as { key?: unknown }).key : valueAt(req, v.field);
  const last = v.rule[v.rule.length - 1];
  const ruleName = last?.kind === 'field' ? last.name : undefined;
  let reason = REASON_BY_PATH.find(([re]) => re.test(field))?.[1] ?? 'INVALID_ARGUMENT';
  if (v.ruleId === 'double.finite' && /^metrics\[/.test(field)) reason = 'NON_FINITE_VALUE';
  const what = v.forKey ? `${field} key` : field;
  const got = v.ruleId === 'required' ? '' : `, got ${shown(value, ruleName)}`;
  const err = new InvalidArgumentError(`${what} ${v.message}${got} [${v.ruleId}]`, reason);
  const limitValue = limitOf(lastField, v, value);
  return err.with({ field, ...(limitValue !== undefined ? { limitValue } : {}) });
}

/**
 * Whether the rules of every request (and of every message inside one) depend on the message alone:
 * no CEL expressions and no timestamp rules relative to now. Only then can a result be reused.
 */
function rulesArePure(roots: Iterable<DescMessage>): boolean {
  const seen = new Set<DescMessage>();
  const todo = [...roots];
  for (let m = todo.pop(); m !== undefined; m = todo.pop()) {
    if (seen.has(m)) continue;
    seen.add(m);
    const mr = getOption(m, messageRules);
    if (mr.cel.length > 0 || mr.celExpression.length > 0) return false;
    for (const f of m.fields) {
      const fr = getOption(f, fieldRules);
      if (fr.cel.length > 0 || fr.celExpression.length > 0) return false;
      if (fr.type.case === 'timestamp' && (fr.type.value.lessThan.case === 'ltNow' || fr.type.value.greaterThan.case === 'gtNow' || fr.type.value.within !== undefined)) return false;
      if (f.message) todo.push(f.message);
    }
  }
  return true;
}

/** Requests (type name and wire bytes) that passed their rules, so the same bytes are not checked again. */
const knownValid = new Set<string>();
/** False if some rule could judge equal bytes differently at another time: then every request is checked. */
const REUSE_RESULTS = rulesArePure(REQUEST_SCHEMAS.values());
const MAX_KNOWN_VALID = 1024;
/** How many requests were let through as known valid without evaluating the rules again (tests, benchmarks). */
export const validationStats = { skipped: 0 };

/**
 * Checks a SupernetService request against its `buf.validate` rules; throws InvalidArgumentError
 * for the first violation (field path and bound in its message and ErrorInfo metadata). Messages
 * of other services pass unchecked. A small request whose wire bytes (`requestBytesOf`) passed
 * before passes at once: the rules are evaluated once per distinct request, not once per call.
 */
export function validateRequest(req: unknown): void {
  const msg = req as Message | undefined;
  const schema = msg?.$typeName === undefined ? undefined : REQUEST_SCHEMAS.get(msg.$typeName);
  if (!schema || !msg) return;
  // the rules depend on the message alone (REUSE_RESULTS), and equal bytes decode to equal
  // messages: bytes seen valid before are valid again (a client repeating one SampleSubnet call)
  const bytes = requestBytesOf(msg);
  const key = bytes === undefined || !REUSE_RESULTS ? undefined : `${msg.$typeName}\n${bytes.toString('latin1')}`;
  if (key !== undefined && knownValid.has(key)) {
    validationStats.skipped++;
    return;
  }
  validateMessage(schema, msg);
  if (key !== undefined) {
    // bounded, the oldest forgotten first
    if (knownValid.size >= MAX_KNOWN_VALID) knownValid.delete(knownValid.values().next().value as string);
    knownValid.add(key);
  }
}

/** Checks any message of this API against its `buf.validate` rules, as validateRequest does. */
export function validateMessage<D extends DescMessage>(schema: D, msg: MessageShape<D>): void {
  const result = validator.validate(schema, msg);
  if (result.kind === 'invalid') throw violationError(msg, result.violations[0]!);
  if (result.kind === 'error') throw result.error;
}
