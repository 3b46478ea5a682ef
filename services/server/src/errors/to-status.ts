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
  RESOURCE_EXHAUSTED: grpc.status.RESOURCE_EXHAUSTED,
  UNAUTHENTICATED: grpc.status.UNAUTHENTICATED,
  UNAVAILABLE: grpc.status.UNAVAILABLE,
  CANCELLED: grpc.status.CANCELLED,
  INTERNAL: grpc.status.INTERNAL,
};

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
    return { code, details: err.message, metadata };
  }
  logger.error({ err, requestId }, 'internal error');
  metadata.set(ERROR_REASON_KEY, 'ERROR_REASON_INTERNAL');
  return { code: grpc.status.INTERNAL, details: `internal error (request id ${requestId})`, metadata };
}
