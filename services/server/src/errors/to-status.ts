import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { SupernetdError } from '@supernetd/sdk';
import type { StatusName } from '@supernetd/sdk';

/** Trailing-metadata key carrying the ErrorReason enum name of every failed call. */
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

/**
 * The one place errors become gRPC statuses. A SupernetdError keeps its code and message and adds
 * `supernetd-error-reason: ERROR_REASON_<reason>`; a CancelledError on a call whose deadline passed
 * becomes DEADLINE_EXCEEDED. Anything else becomes INTERNAL "internal error (request id X)", with
 * the cause logged and never sent.
 */
export function toStatus(err: unknown, requestId: string, logger: Logger, opts: { deadlineExceeded?: boolean } = {}): MappedStatus {
  const metadata = new grpc.Metadata();
  if (err instanceof SupernetdError) {
    metadata.set(ERROR_REASON_KEY, `ERROR_REASON_${err.reason}`);
    let code = CODES[err.code];
    if (err.reason === 'CANCELLED' && opts.deadlineExceeded) code = grpc.status.DEADLINE_EXCEEDED;
    return { code, details: boundDetails(err.message), metadata };
  }
  logger.error({ err, requestId }, 'internal error');
  metadata.set(ERROR_REASON_KEY, 'ERROR_REASON_INTERNAL');
  return { code: grpc.status.INTERNAL, details: `internal error (request id ${requestId})`, metadata };
}
