package dev.supernetd.client;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * gRPC's own retries, installed as the channel's service config ({@code defaultServiceConfig} with
 * {@code enableRetry}): calls in {@link #RETRIED_METHODS} that fail with UNAVAILABLE are retried
 * with exponential back-off and jitter. {@code maxAttempts} counts the first try (gRPC caps it at
 * 5); 1 disables retries.
 */
public record RetryPolicy(int maxAttempts, Duration initialBackoff, Duration maxBackoff, double multiplier) {
  /** Up to five attempts, backing off from 100 ms to at most 5 s. */
  public static final RetryPolicy DEFAULT =
      new RetryPolicy(5, Duration.ofMillis(100), Duration.ofSeconds(5), 2.0);

  /** No retries. */
  public static final RetryPolicy NONE = new RetryPolicy(1, Duration.ofMillis(100), Duration.ofMillis(100), 1.0);

  /**
   * The SupernetService calls gRPC may retry: the idempotent ones, and those that carry a
   * request_id (the client fills one when it is empty, and a retry resends the same message, so the
   * server applies it once). Train is never retried: a repeat would train again.
   */
  public static final List<String> RETRIED_METHODS = List.of(
      "GetExperiment", "ListExperiments", "ListStrategies", "SampleSubnet", "ListMetrics", "Evaluate", "ExportSubnet",
      "CreateExperiment", "DeleteExperiment", "ReportMetric", "TrainStep");

  public RetryPolicy {
    if (maxAttempts < 1) throw new IllegalArgumentException("maxAttempts must be at least 1");
    if (maxAttempts > 1 && (initialBackoff.isZero() || initialBackoff.isNegative() || maxBackoff.isZero() || maxBackoff.isNegative())) {
      throw new IllegalArgumentException("backoffs must be positive");
    }
  }

  /** The service config carrying this policy, in the form {@code defaultServiceConfig} takes. */
  public Map<String, ?> serviceConfig() {
    if (maxAttempts <= 1) return Map.of("methodConfig", List.of());
    List<Map<String, ?>> names = new ArrayList<>();
    for (String m : RETRIED_METHODS) names.add(Map.of("service", "supernetd.v1.SupernetService", "method", m));
    Map<String, ?> policy = Map.of(
        "maxAttempts", (double) maxAttempts,
        "initialBackoff", seconds(initialBackoff),
        "maxBackoff", seconds(maxBackoff),
        "backoffMultiplier", multiplier,
        "retryableStatusCodes", List.of("UNAVAILABLE"));
    return Map.of("methodConfig", List.of(Map.of("name", names, "retryPolicy", policy)));
  }

  private static String seconds(Duration d) {
    return d.toNanos() / 1e9 + "s";
  }
}
