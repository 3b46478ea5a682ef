package dev.supernetd.client;

import dev.supernetd.v1.ErrorReason;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;

/**
 * A failed supernetd call: the gRPC status code, the server's {@link ErrorReason} (sent in the
 * trailing metadata {@value #ERROR_REASON_KEY}) and its message. Every call of {@link
 * SupernetdClient} throws this, never a bare {@link StatusRuntimeException}.
 */
public final class SupernetdException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** Trailing metadata key in which the server names a failed call's reason. */
  public static final String ERROR_REASON_KEY = "supernetd-error-reason";

  static final Metadata.Key<String> REASON_KEY =
      Metadata.Key.of(ERROR_REASON_KEY, Metadata.ASCII_STRING_MARSHALLER);

  private final Status.Code code;
  private final ErrorReason reason;
  private final String reasonName;
  private final String serverMessage;

  SupernetdException(Status.Code code, String reasonName, String serverMessage, Throwable cause) {
    super(code + " (" + (reasonName.isEmpty() ? ErrorReason.ERROR_REASON_UNSPECIFIED.name() : reasonName) + "): " + serverMessage, cause);
    this.code = code;
    this.reasonName = reasonName;
    this.reason = parse(reasonName);
    this.serverMessage = serverMessage;
  }

  /** Converts a failed call's exception, reading the reason from its trailers. */
  public static SupernetdException from(StatusRuntimeException e) {
    Status status = e.getStatus();
    Metadata trailers = e.getTrailers();
    String name = trailers == null ? null : trailers.get(REASON_KEY);
    String message = status.getDescription() == null ? status.getCode().name() : status.getDescription();
    return new SupernetdException(status.getCode(), name == null ? "" : name, message, e);
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
   * The reason the server gave; {@code ERROR_REASON_UNSPECIFIED} when it sent none (for example
   * when the connection failed) or one newer than this client (see {@link #getReasonName()}).
   */
  public ErrorReason getReason() {
    return reason;
  }

  /** The reason's name exactly as sent, or "" when none was sent. */
  public String getReasonName() {
    return reasonName;
  }

  /** The server's human-readable message. */
  public String getServerMessage() {
    return serverMessage;
  }
}
