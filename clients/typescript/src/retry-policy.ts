/**
 * gRPC's own retries, installed as the channel's service config (`grpc.service_config`): calls in
 * RETRIED_METHODS that fail with UNAVAILABLE are retried with exponential back-off and jitter.
 * `maxAttempts` counts the first try (gRPC caps it at 5); 1 disables retries.
 */
export interface RetryPolicy {
  maxAttempts: number;
  initialBackoffMs: number;
  maxBackoffMs: number;
  multiplier: number;
}

/** Up to five attempts, backing off from 100 ms to at most 5 s. */
export const DEFAULT_RETRY_POLICY: Readonly<RetryPolicy> = { maxAttempts: 5, initialBackoffMs: 100, maxBackoffMs: 5000, multiplier: 2 };

/**
 * The SupernetService calls gRPC may retry: the idempotent ones, and those that carry a
 * request_id (the client fills one when it is empty, and a retry resends the same message, so the
 * server applies it once). Train is never retried: a repeat would train again.
 */
export const RETRIED_METHODS: readonly string[] = [
  'GetExperiment',
  'ListExperiments',
  'ListStrategies',
  'SampleSubnet',
  'ListMetrics',
  'Evaluate',
  'ExportSubnet',
  'CreateExperiment',
  'DeleteExperiment',
  'ReportMetric',
  'TrainStep',
];

/** The service config (JSON for the `grpc.service_config` channel option) carrying `policy`. */
export function serviceConfig(policy: RetryPolicy): string {
  if (policy.maxAttempts <= 1) return JSON.stringify({ methodConfig: [] });
  return JSON.stringify({
    methodConfig: [
      {
        name: RETRIED_METHODS.map((method) => ({ service: 'supernetd.v1.SupernetService', method })),
        retryPolicy: {
          maxAttempts: policy.maxAttempts,
          initialBackoff: `${policy.initialBackoffMs / 1000}s`,
          maxBackoff: `${policy.maxBackoffMs / 1000}s`,
          backoffMultiplier: policy.multiplier,
          retryableStatusCodes: ['UNAVAILABLE'],
        },
      },
    ],
  });
}
