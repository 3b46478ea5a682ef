import * as grpc from '@grpc/grpc-js';
import { ErrorReason, ErrorReasonSchema } from './proto.ts';

/** Trailing metadata key in which the server names a failed call's reason. */
export const ERROR_REASON_KEY = 'supernetd-error-reason';

/**
 * A failed supernetd call: the gRPC status `code`, the server's `reason` (an ErrorReason, from the
 * trailing metadata `supernetd-error-reason`; UNSPECIFIED when none was sent, for example when the
 * connection failed) and its `details`. Every call of SupernetdClient rejects with this.
 */
export class SupernetdError extends Error {
  override readonly name = 'SupernetdError';

  constructor(
    readonly code: grpc.status,
    readonly reason: ErrorReason,
    /** The reason's enum name as sent (`ERROR_REASON_EXPERIMENT_NOT_FOUND`), or '' when none was. */
    readonly reasonName: string,
    readonly details: string,
    options?: { cause?: unknown },
  ) {
    super(`${grpc.status[code] ?? code} (${reasonName || 'ERROR_REASON_UNSPECIFIED'}): ${details}`, options);
  }

  /** Converts a grpc-js error (a ServiceError, or anything else as UNKNOWN). */
  static from(err: unknown): SupernetdError {
    if (err instanceof SupernetdError) return err;
    const e = err as Partial<grpc.ServiceError>;
    if (typeof e?.code !== 'number') {
      return new SupernetdError(grpc.status.UNKNOWN, ErrorReason.UNSPECIFIED, '', String((err as Error)?.message ?? err), { cause: err });
    }
    const sent = e.metadata?.get(ERROR_REASON_KEY)[0];
    const reasonName = typeof sent === 'string' ? sent : sent instanceof Buffer ? sent.toString() : '';
    const reason = ErrorReasonSchema.values.find((v) => v.name === reasonName)?.number ?? ErrorReason.UNSPECIFIED;
    return new SupernetdError(e.code, reason as ErrorReason, reasonName, e.details ?? e.message ?? '', { cause: err });
  }
}
