import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { DescMessage } from '@bufbuild/protobuf';
import { ERROR_DOMAIN, STATUS_DETAILS_KEY, SupernetService, encodeStatusDetails } from '@supernetd/api';
import { SupernetdError } from '@supernetd/sdk';
import type { ErrorReason, StatusName } from '@supernetd/sdk';

/**
 * Trailing-metadata key echoing the ErrorReason enum name of every failed call: kept for clients
 * written before the standard `google.rpc.Status` details (`grpc-status-details-bin`).
 */
export const ERROR_REASON_KEY = 'supernetd-error-reason';

const CODES: Record<StatusName, grpc.status> = {
  INVALID_ARGUMENT: grpc.status.INVALID_ARGUMENT,
  NOT_FOUND: grpc.status.NOT_FOUND,
  ALREADY_EXISTS: grpc.status.ALREADY_EXISTS,
  FAILED_PRECONDITION: grpc.status.FAILED_PRECONDITION,
  ABORTED: grpc.status.ABORTED,
  RESOURCE_EXHAUSTED: grpc.status.RESOURCE_EXHAUSTED,
  UNAUTHENTICATED: grpc.status.UNAUTHENTICATED,
  UNAVAILABLE: grpc.status.UNAVAILABLE,
  CANCELLED: grpc.status.CANCELLED,
  INTERNAL: grpc.status.INTERNAL,
};

/** Longest echoed value (an id, a name) in an error message, in characters. */
export const MAX_ECHO_CHARS = 64;
/** Longest status message, in bytes once percent-encoded into the grpc-message trailer. */
export const MAX_DETAILS_BYTES = 2048;

/**
 * A client-supplied value for an error message: cut to `max` characters with the original length
 * noted, so an absurd input never makes an absurd message.
 */
export function quote(value: string, max = MAX_ECHO_CHARS): string {
  if (value.length <= max) return `'${value}'`;
  return `'${[...value.slice(0, max)].slice(0, -1).join('')}…' (${value.length} characters)`;
}

/** Cuts a status message so its encoded trailer stays within MAX_DETAILS_BYTES. */
export function boundDetails(details: string): string {
  if (Buffer.byteLength(details, 'utf8') <= MAX_DETAILS_BYTES / 3) return details;
  // grpc-js percent-encodes non-ASCII bytes (3 bytes each): bound the encoded form
  let cut = details.slice(0, MAX_DETAILS_BYTES);
  while (encodeURIComponent(cut).length > MAX_DETAILS_BYTES - 32) cut = cut.slice(0, Math.floor(cut.length * 0.8));
  if (/[\uD800-\uDBFF]$/.test(cut)) cut = cut.slice(0, -1);
  return cut.length === details.length ? details : `${cut}… (message truncated)`;
}

/** A status ready for grpc-js callbacks and `call.destroy`/`emit('error')`. */
export interface MappedStatus extends Partial<grpc.StatusObject> {
  code: grpc.status;
  details: string;
  metadata: grpc.Metadata;
}

/** Every field name of the request messages and the types they hold: what a field path may use. */
const FIELD_NAMES: ReadonlySet<string> = (() => {
  const names = new Set<string>();
  const seen = new Set<DescMessage>();
  const visit = (m: DescMessage): void => {
    if (seen.has(m)) return;
    seen.add(m);
    for (const f of m.fields) {
      names.add(f.name);
      if (f.message) visit(f.message);
    }
  };
  for (const method of SupernetService.methods) visit(method.input);
  return names;
})();

/** The request field an error is about when its message does not start with one. */
const REASON_FIELDS: Partial<Record<ErrorReason, string>> = {
  EXPERIMENT_NOT_FOUND: 'experiment_id',
  EXPERIMENT_ALREADY_EXISTS: 'experiment_id',
  SUBNET_NOT_FOUND: 'subnet_id',
  UNKNOWN_STRATEGY: 'spec.strategy.id',
  INVALID_STRATEGY_CONFIG: 'spec.strategy.config',
  INVALID_SEARCH_SPACE: 'spec.search_space',
  INVALID_DATASET: 'spec.training.dataset',
  INVALID_CONSTRAINT: 'constraint',
};

/**
 * The request field a message names first, as a proto path (`count`, `spec.training.batch_size`,
 * `spec.search_space.overrides[2]`): messages lead with the field they are about, and only a path
 * whose every segment is a field of this API counts, so prose never passes for a field.
 */
export function leadingField(message: string): string | undefined {
  const m = /^([a-z][a-z0-9_]*(?:\[[^\]\s]{0,64}\])?(?:\.[a-z][a-z0-9_]*(?:\[[^\]\s]{0,64}\])?)*)(?=[\s:,;]|$)/.exec(message);
  if (!m) return undefined;
  const segments = m[1]!.split('.').map((s) => s.replace(/\[.*$/, ''));
  return segments.every((s) => FIELD_NAMES.has(s)) ? m[1] : undefined;
}

/** The limit a message names ("the limit maxExperiments is 100", "exceeds the limit of 64"). */
function namedLimit(message: string): { limit?: string; limitValue?: string } | undefined {
  const of = /\bthe limit of ([0-9]+)/.exec(message);
  if (of) return { limitValue: of[1]! };
  const m = /\bthe limit ([A-Za-z_][A-Za-z0-9_]*)(?: is | \()?([0-9][0-9.e+]*)?/.exec(message);
  if (!m) return undefined;
  return { limit: m[1]!, ...(m[2] !== undefined ? { limitValue: m[2] } : {}) };
}

/**
 * ErrorInfo metadata of an error (keys lowerCamelCase, as AIP-193 asks): its own details, else the
 * field and limit its message names.
 */
export function errorMetadata(err: SupernetdError): Record<string, string> {
  const out: Record<string, string> = {};
  // a reason's own field unless the message leads with a longer path (spec.retrain.subnet_id)
  const leading = leadingField(err.message);
  const byReason = REASON_FIELDS[err.reason];
  const field = leading !== undefined && (byReason === undefined || leading.includes('.')) ? leading : byReason;
  if (field !== undefined) out.field = field;
  const limit = namedLimit(err.message);
  if (limit) Object.assign(out, limit);
  return { ...out, ...err.details };
}

function withDetails(code: grpc.status, message: string, reason: ErrorReason, meta: Record<string, string>, requestId: string): MappedStatus {
  const metadata = new grpc.Metadata();
  metadata.set(ERROR_REASON_KEY, `ERROR_REASON_${reason}`);
  const fieldViolations = code === grpc.status.INVALID_ARGUMENT ? [{ field: meta.field ?? '', description: message }] : [];
  const bytes = encodeStatusDetails(code, message, { reason: `ERROR_REASON_${reason}`, domain: ERROR_DOMAIN, metadata: meta, fieldViolations, requestId });
  metadata.set(STATUS_DETAILS_KEY, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  return { code, details: message, metadata };
}

/**
 * The one place errors become gRPC statuses. A SupernetdError keeps its code and message; every
 * failed call carries a `google.rpc.Status` in `grpc-status-details-bin` with an ErrorInfo (reason
 * `ERROR_REASON_<reason>`, domain ERROR_DOMAIN, metadata `field`/`limit`/`limitValue` where
 * known), a RequestInfo with the call's request id, and for INVALID_ARGUMENT a BadRequest field
 * violation; the reason is echoed in `supernetd-error-reason`. A CancelledError on a call whose
 * deadline passed becomes DEADLINE_EXCEEDED. Anything else becomes INTERNAL "internal error
 * (request id X)", with the cause logged and never sent.
 */
export function toStatus(err: unknown, requestId: string, logger: Logger, opts: { deadlineExceeded?: boolean } = {}): MappedStatus {
  if (err instanceof SupernetdError) {
    let code = CODES[err.code];
    if (err.reason === 'CANCELLED' && opts.deadlineExceeded) code = grpc.status.DEADLINE_EXCEEDED;
    return withDetails(code, boundDetails(err.message), err.reason, errorMetadata(err), requestId);
  }
  logger.error({ err, requestId }, 'internal error');
  return withDetails(grpc.status.INTERNAL, `internal error (request id ${requestId})`, 'INTERNAL', {}, requestId);
}
