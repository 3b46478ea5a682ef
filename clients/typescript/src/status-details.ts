// google.rpc.Status details (grpc-status-details-bin), the same codec as services/api's, kept here
// so that the client needs no server package.
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { anyPack, anyUnpack } from '@bufbuild/protobuf/wkt';
import { BadRequestSchema, ErrorInfoSchema, RequestInfoSchema } from './gen/google/rpc/error_details_pb.js';
import type { BadRequest_FieldViolation } from './gen/google/rpc/error_details_pb.js';
import { StatusSchema } from './gen/google/rpc/status_pb.js';

/** The trailer gRPC defines for a serialized `google.rpc.Status` with error details. */
export const STATUS_DETAILS_KEY = 'grpc-status-details-bin';
/** The `google.rpc.ErrorInfo.domain` of every supernetd error. */
export const ERROR_DOMAIN = 'supernetd.dev';

/** What a failed call's `google.rpc.Status` says besides its code and message. */
export interface StatusDetails {
  /** `ErrorInfo.reason`: the ErrorReason enum name, e.g. `ERROR_REASON_EXPERIMENT_NOT_FOUND`. */
  reason: string;
  /** `ErrorInfo.domain`; ERROR_DOMAIN from this server. */
  domain: string;
  /** `ErrorInfo.metadata`: `field` (a request field's proto path), `limit` (a limit's name), ... */
  metadata: Record<string, string>;
  /** `BadRequest.field_violations` (INVALID_ARGUMENT only). */
  fieldViolations: { field: string; description: string }[];
  /** `RequestInfo.request_id`: the id the server logged the call under. */
  requestId?: string;
}

/** Encodes a `google.rpc.Status` with ErrorInfo, RequestInfo and (when given) BadRequest. */
export function encodeStatusDetails(code: number, message: string, d: StatusDetails): Uint8Array {
  const details = [anyPack(ErrorInfoSchema, create(ErrorInfoSchema, { reason: d.reason, domain: d.domain, metadata: d.metadata }))];
  if (d.fieldViolations.length > 0) {
    const fieldViolations = d.fieldViolations.map((v) => ({ field: v.field, description: v.description }));
    details.push(anyPack(BadRequestSchema, create(BadRequestSchema, { fieldViolations })));
  }
  if (d.requestId !== undefined) details.push(anyPack(RequestInfoSchema, create(RequestInfoSchema, { requestId: d.requestId })));
  return toBinary(StatusSchema, create(StatusSchema, { code, message, details }));
}

/**
 * Decodes the `grpc-status-details-bin` trailer. Returns undefined when the bytes are not a
 * `google.rpc.Status` carrying an ErrorInfo; unknown detail types are skipped.
 */
export function decodeStatusDetails(bytes: Uint8Array): (StatusDetails & { code: number; message: string }) | undefined {
  let status;
  try {
    status = fromBinary(StatusSchema, bytes);
  } catch {
    return undefined;
  }
  let info;
  const fieldViolations: BadRequest_FieldViolation[] = [];
  let requestId: string | undefined;
  for (const any of status.details) {
    info ??= anyUnpack(any, ErrorInfoSchema);
    const bad = anyUnpack(any, BadRequestSchema);
    if (bad) fieldViolations.push(...bad.fieldViolations);
    requestId ??= anyUnpack(any, RequestInfoSchema)?.requestId;
  }
  if (!info) return undefined;
  return {
    code: status.code,
    message: status.message,
    reason: info.reason,
    domain: info.domain,
    metadata: { ...info.metadata },
    fieldViolations: fieldViolations.map((v) => ({ field: v.field, description: v.description })),
    ...(requestId !== undefined ? { requestId } : {}),
  };
}
