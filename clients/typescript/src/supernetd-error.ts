import * as grpc from '@grpc/grpc-js';
import { ErrorReason, ErrorReasonSchema, STATUS_DETAILS_KEY, decodeStatusDetails } from './proto.ts';

/** The error details of a failed call besides its code, reason and message. */
export interface SupernetdErrorDetails {
  /** `ErrorInfo.domain` (`supernetd.dev`), '' without details. */
  domain: string;
  /** `ErrorInfo.metadata`: `field` (the request field's proto path), `limit` and `limitValue` where they apply. */
  metadata: Readonly<Record<string, string>>;
  /** `BadRequest` field violations (INVALID_ARGUMENT). */
  fieldViolations: readonly { field: string; description: string }[];
  /** `RequestInfo.request_id`: the id the server logged the call under, '' without one. */
  requestId: string;
}

const NO_DETAILS: SupernetdErrorDetails = { domain: '', metadata: {}, fieldViolations: [], requestId: '' };

/**
 * A failed supernetd call: the gRPC status `code`, the server's `reason` (an ErrorReason, from the
 * `google.rpc.ErrorInfo` of the `google.rpc.Status` in the `grpc-status-details-bin` trailer,
 * decoded with @bufbuild/protobuf; UNSPECIFIED when there was none, for example when the
 * connection failed), the rest of the details and the message (`details`). Every call of
 * SupernetdClient rejects with this.
 */
export class SupernetdError extends Error {
  override readonly name = 'SupernetdError';
  readonly domain: string;
  readonly metadata: Readonly<Record<string, string>>;
  readonly fieldViolations: readonly { field: string; description: string }[];
  readonly requestId: string;

  constructor(
    readonly code: grpc.status,
    readonly reason: ErrorReason,
    /** The reason's enum name as sent (`ERROR_REASON_EXPERIMENT_NOT_FOUND`), or '' when none was. */
    readonly reasonName: string,
    readonly details: string,
    options?: { cause?: unknown; details?: SupernetdErrorDetails },
  ) {
    super(`${grpc.status[code] ?? code} (${reasonName || 'ERROR_REASON_UNSPECIFIED'}): ${details}`, options);
    const d = options?.details ?? NO_DETAILS;
    this.domain = d.domain;
    this.metadata = d.metadata;
    this.fieldViolations = d.fieldViolations;
    this.requestId = d.requestId;
  }

  /** Converts a grpc-js error (a ServiceError, or anything else as UNKNOWN). */
  static from(err: unknown): SupernetdError {
    if (err instanceof SupernetdError) return err;
    const e = err as Partial<grpc.ServiceError>;
    if (typeof e?.code !== 'number') {
      return new SupernetdError(grpc.status.UNKNOWN, ErrorReason.UNSPECIFIED, '', String((err as Error)?.message ?? err), { cause: err });
    }
    const bin = e.metadata?.get(STATUS_DETAILS_KEY)[0];
    const status = bin instanceof Buffer ? decodeStatusDetails(bin) : undefined;
    const reasonName = status?.reason ?? '';
    const reason = ErrorReasonSchema.values.find((v) => v.name === reasonName)?.number ?? ErrorReason.UNSPECIFIED;
    const details: SupernetdErrorDetails = status
      ? { domain: status.domain, metadata: status.metadata, fieldViolations: status.fieldViolations, requestId: status.requestId ?? '' }
      : NO_DETAILS;
    return new SupernetdError(e.code, reason as ErrorReason, reasonName, e.details ?? e.message ?? '', { cause: err, details });
  }
}
