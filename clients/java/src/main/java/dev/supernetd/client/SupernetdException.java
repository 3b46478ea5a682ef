package dev.supernetd.client;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.rpc.BadRequest;
import com.google.rpc.ErrorInfo;
import com.google.rpc.RequestInfo;
import dev.supernetd.v1.ErrorReason;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A failed supernetd call: the gRPC status code, the server's {@link ErrorReason}, the rest of the
 * {@code google.rpc.Status} details the server sends in {@code grpc-status-details-bin} (decoded
 * with {@link StatusProto#fromThrowable}) and its message. Every call of {@link SupernetdClient}
 * throws this, never a bare {@link StatusRuntimeException}.
 */
public final class SupernetdException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** The {@code google.rpc.ErrorInfo} domain of every supernetd error. */
  public static final String ERROR_DOMAIN = "supernetd.dev";

  private final Status.Code code;
  private final ErrorReason reason;
  private final String reasonName;
  private final String serverMessage;
  private final transient ErrorInfo info;
  private final transient List<BadRequest.FieldViolation> violations;
  private final String requestId;

  private SupernetdException(Status.Code code, String serverMessage, ErrorInfo info,
      List<BadRequest.FieldViolation> violations, String requestId, Throwable cause) {
    super(code + " (" + (info.getReason().isEmpty() ? ErrorReason.ERROR_REASON_UNSPECIFIED.name() : info.getReason()) + "): " + serverMessage, cause);
    this.code = code;
    this.info = info;
    this.reasonName = info.getReason();
    this.reason = parse(reasonName);
    this.serverMessage = serverMessage;
    this.violations = List.copyOf(violations);
    this.requestId = requestId;
  }

  /** Converts a failed call's exception, reading the details from its {@code google.rpc.Status}. */
  public static SupernetdException from(StatusRuntimeException e) {
    Status status = e.getStatus();
    String message = status.getDescription() == null ? status.getCode().name() : status.getDescription();
    ErrorInfo info = null;
    List<BadRequest.FieldViolation> violations = new ArrayList<>();
    String requestId = "";
    com.google.rpc.Status details = StatusProto.fromThrowable(e);
    if (details != null) {
      for (Any any : details.getDetailsList()) {
        try {
          if (any.is(ErrorInfo.class) && info == null) info = any.unpack(ErrorInfo.class);
          else if (any.is(BadRequest.class)) violations.addAll(any.unpack(BadRequest.class).getFieldViolationsList());
          else if (any.is(RequestInfo.class)) requestId = any.unpack(RequestInfo.class).getRequestId();
        } catch (InvalidProtocolBufferException malformed) {
          // a detail that does not decode is skipped, as an unknown one is
        }
      }
    }
    return new SupernetdException(status.getCode(), message, info == null ? ErrorInfo.getDefaultInstance() : info, violations, requestId, e);
  }

  private static ErrorReason parse(String name) {
    if (name.isEmpty()) return ErrorReason.ERROR_REASON_UNSPECIFIED;
    try {
      return ErrorReason.valueOf(name);
    } catch (IllegalArgumentException unknown) {
      return ErrorReason.ERROR_REASON_UNSPECIFIED;
    }
  }

  /** The gRPC status code. */
  public Status.Code getCode() {
    return code;
  }

  /**
   * The reason of the status's ErrorInfo; {@code ERROR_REASON_UNSPECIFIED} when there was none
   * (for example when the connection failed) or one newer than this client (see {@link
   * #getReasonName()}).
   */
  public ErrorReason getReason() {
    return reason;
  }

  /** The reason's name exactly as sent, or "" when none was sent. */
  public String getReasonName() {
    return reasonName;
  }

  /** The ErrorInfo domain ({@value #ERROR_DOMAIN}), or "" without details. */
  public String getDomain() {
    return info.getDomain();
  }

  /**
   * The ErrorInfo metadata: {@code field} (the request field's proto path), {@code limit} and
   * {@code limitValue} (a limit's name and value) where they apply.
   */
  public Map<String, String> getMetadata() {
    return info.getMetadataMap();
  }

  /** The BadRequest field violations (INVALID_ARGUMENT). */
  public List<BadRequest.FieldViolation> getFieldViolations() {
    return violations;
  }

  /** The id the server logged the call under (RequestInfo), or "". */
  public String getRequestId() {
    return requestId;
  }

  /** The server's human-readable message. */
  public String getServerMessage() {
    return serverMessage;
  }
}
