package dev.supernetd.client;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Retries of calls that fail with UNAVAILABLE: before retry n the client waits a random time up
 * to {@code min(maxBackoff, initialBackoff * multiplier^n)}. {@code maxAttempts} counts the first
 * try; 1 disables retries.
 */
public record RetryPolicy(int maxAttempts, Duration initialBackoff, Duration maxBackoff, double multiplier) {
  /** Up to five attempts, backing off from 100 ms to at most 5 s. */
  public static final RetryPolicy DEFAULT =
      new RetryPolicy(5, Duration.ofMillis(100), Duration.ofSeconds(5), 2.0);

  /** No retries. */
  public static final RetryPolicy NONE = new RetryPolicy(1, Duration.ZERO, Duration.ZERO, 1.0);

  public RetryPolicy {
    if (maxAttempts < 1) throw new IllegalArgumentException("maxAttempts must be at least 1");
  }

  /** Time to wait before retry number {@code retry} (0-based). */
  public Duration backoff(int retry) {
    double limit = Math.min(maxBackoff.toNanos(), initialBackoff.toNanos() * Math.pow(multiplier, retry));
    long nanos = limit <= 0 ? 0 : ThreadLocalRandom.current().nextLong((long) limit + 1);
    return Duration.ofNanos(nanos);
  }
}
