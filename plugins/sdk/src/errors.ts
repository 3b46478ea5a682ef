/**
 * The closed error taxonomy of supernetd. Each class documents the gRPC status it maps to;
 * the server maps them in one place (services/server/src/errors/to-status.ts). A reason is the
 * proto ErrorReason name without its `ERROR_REASON_` prefix.
 *
 * Every reason, in the order of the proto enum (proto/supernetd/v1/error_reason.proto). The SDK
 * imports no generated code, so this list is written out; services/server/test/error-reasons.test.ts
 * fails when it and the generated enum differ.
 */
export const ERROR_REASONS = [
  'EXPERIMENT_NOT_FOUND',
  'EXPERIMENT_ALREADY_EXISTS',
  'SUBNET_NOT_FOUND',
  'UNKNOWN_STRATEGY',
  'INVALID_STRATEGY_CONFIG',
  'INVALID_SEARCH_SPACE',
  'INVALID_TENSOR',
  'SHAPE_MISMATCH',
  'NON_FINITE_VALUE',
  'INVALID_CONSTRAINT',
  'CONSTRAINT_UNSATISFIABLE',
  'INVALID_DATASET',
  'INVALID_ARGUMENT',
  'TRAINING_IN_PROGRESS',
  'LIMIT_EXCEEDED',
  'UNAUTHENTICATED',
  'UNSUPPORTED',
  'EXPERIMENT_FAILED',
  'SHUTTING_DOWN',
  'INTERNAL',
  'CANCELLED',
  'REQUEST_ID_REUSED',
] as const;

/** One of ERROR_REASONS. */
export type ErrorReason = (typeof ERROR_REASONS)[number];

/** gRPC status names the taxonomy uses. */
export type StatusName =
  | 'INVALID_ARGUMENT'
  | 'NOT_FOUND'
  | 'ALREADY_EXISTS'
  | 'FAILED_PRECONDITION'
  | 'ABORTED'
  | 'RESOURCE_EXHAUSTED'
  | 'UNAUTHENTICATED'
  | 'UNAVAILABLE'
  | 'CANCELLED'
  | 'INTERNAL';

/** Base of every expected error. The message is sent to the client, so it must not leak internals. */
export abstract class SupernetdError extends Error {
  abstract readonly code: StatusName;
  /**
   * What the error is about, as short strings for the status's `google.rpc.ErrorInfo` metadata
   * (`field`: the request field's proto path; `limit`: the configured limit's name). Optional: the
   * server derives `field` and `limit` from the message when they are not set.
   */
  details: Readonly<Record<string, string>> = {};
  constructor(
    readonly reason: ErrorReason,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }

  /** This error with `details` merged into its ErrorInfo metadata; for chaining at the throw site. */
  with(details: Record<string, string>): this {
    this.details = { ...this.details, ...details };
    return this;
  }
}

/** INVALID_ARGUMENT: the request is malformed; the message names the field. */
export class InvalidArgumentError extends SupernetdError {
  readonly code = 'INVALID_ARGUMENT' as const;
  constructor(message: string, reason: ErrorReason = 'INVALID_ARGUMENT') {
    super(reason, message);
  }
}

/** INVALID_ARGUMENT with reason INVALID_STRATEGY_CONFIG: a strategy refused its configuration. */
export class InvalidConfigError extends InvalidArgumentError {
  constructor(strategyId: string, message: string) {
    super(`invalid config for strategy '${strategyId}': ${message}`, 'INVALID_STRATEGY_CONFIG');
  }
}

/** NOT_FOUND: an experiment or subnet id is unknown. */
export class NotFoundError extends SupernetdError {
  readonly code = 'NOT_FOUND' as const;
}

/** ALREADY_EXISTS: an id is taken (experiment, registered strategy). */
export class AlreadyExistsError extends SupernetdError {
  readonly code = 'ALREADY_EXISTS' as const;
}

/** FAILED_PRECONDITION: the request is valid but the state does not allow it. */
export class FailedPreconditionError extends SupernetdError {
  readonly code = 'FAILED_PRECONDITION' as const;
}

/**
 * ABORTED: the call lost a concurrency conflict (another call holds what it needs, e.g. a Train
 * already running on the experiment). Following gRPC's status-code guidance, ABORTED rather than
 * FAILED_PRECONDITION, because retrying the same call once the other one ends succeeds, and rather
 * than RESOURCE_EXHAUSTED, which is for quotas and sizes.
 */
export class AbortedError extends SupernetdError {
  readonly code = 'ABORTED' as const;
}

/** RESOURCE_EXHAUSTED: a configured limit was hit; the message names the limit and its value. */
export class ResourceExhaustedError extends SupernetdError {
  readonly code = 'RESOURCE_EXHAUSTED' as const;
}

/** UNAUTHENTICATED: the bearer token is missing or wrong. */
export class UnauthenticatedError extends SupernetdError {
  readonly code = 'UNAUTHENTICATED' as const;
  constructor(message = 'missing or invalid bearer token') {
    super('UNAUTHENTICATED', message);
  }
}

/** UNAVAILABLE: the server is shutting down. */
export class UnavailableError extends SupernetdError {
  readonly code = 'UNAVAILABLE' as const;
}

/** CANCELLED: the caller cancelled or its deadline passed. */
export class CancelledError extends SupernetdError {
  readonly code = 'CANCELLED' as const;
  constructor(message = 'cancelled by the caller') {
    super('CANCELLED', message);
  }
}

const classes = {
  InvalidArgumentError,
  NotFoundError,
  AlreadyExistsError,
  FailedPreconditionError,
  AbortedError,
  ResourceExhaustedError,
  UnavailableError,
} as const;

/** Plain form of an error, for crossing a worker-thread boundary. */
export interface SerializedError {
  kind: string;
  reason: ErrorReason;
  message: string;
  details?: Record<string, string>;
  stack?: string;
}

/** The built-in class an error crosses as: a subclass (a plug-in's own, InvalidConfigError) as its nearest built-in ancestor. */
function kindOf(err: SupernetdError): string {
  if (err instanceof CancelledError) return 'CancelledError';
  if (err instanceof UnauthenticatedError) return 'UnauthenticatedError';
  return Object.entries(classes).find(([, cls]) => err instanceof cls)?.[0] ?? 'Error';
}

export function serializeError(err: unknown): SerializedError {
  if (err instanceof SupernetdError) {
    const kind = kindOf(err);
    return { kind, reason: err.reason, message: err.message, ...(Object.keys(err.details).length > 0 ? { details: { ...err.details } } : {}) };
  }
  const e = err instanceof Error ? err : new Error(String(err));
  return { kind: 'Error', reason: 'INTERNAL', message: e.message, ...(e.stack ? { stack: e.stack } : {}) };
}

/** Rebuilds a typed error from its plain form; unknown kinds come back as plain Error (INTERNAL). */
export function deserializeError(s: SerializedError): Error {
  const typed = rebuild(s);
  if (typed && s.details) typed.with(s.details);
  if (typed) return typed;
  const e = new Error(s.message);
  if (s.stack) e.stack = s.stack;
  return e;
}

function rebuild(s: SerializedError): SupernetdError | undefined {
  if (s.kind === 'CancelledError') return new CancelledError(s.message);
  if (s.kind === 'UnauthenticatedError') return new UnauthenticatedError(s.message);
  const cls = (classes as Record<string, new (a: never, b: never) => SupernetdError>)[s.kind];
  if (cls === InvalidArgumentError) return new InvalidArgumentError(s.message, s.reason);
  if (cls) return new (cls as unknown as new (r: ErrorReason, m: string) => SupernetdError)(s.reason, s.message);
  return undefined;
}
