/**
 * Retries of calls that fail with UNAVAILABLE: before retry n the client waits a random time up
 * to min(maxBackoffMs, initialBackoffMs * multiplier^n). `maxAttempts` counts the first try; 1
 * disables retries.
 */
export interface RetryPolicy {
  maxAttempts: number;
  initialBackoffMs: number;
  maxBackoffMs: number;
  multiplier: number;
}

/** Up to five attempts, backing off from 100 ms to at most 5 s. */
export const DEFAULT_RETRY_POLICY: Readonly<RetryPolicy> = { maxAttempts: 5, initialBackoffMs: 100, maxBackoffMs: 5000, multiplier: 2 };

/** Milliseconds to wait before retry number `retry` (0-based): full jitter under the exponential cap. */
export function backoffMs(policy: RetryPolicy, retry: number): number {
  return Math.random() * Math.min(policy.maxBackoffMs, policy.initialBackoffMs * policy.multiplier ** retry);
}
