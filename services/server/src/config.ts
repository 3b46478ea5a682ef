import { DEFAULT_SPACE_LIMITS } from '@supernetd/engine/space';
import type { SpaceLimits } from '@supernetd/engine/space';
import type { BackendPreference } from '@supernetd/engine';

/** TensorFlow.js backend choice of the experiment workers: the engine's BackendPreference (type-only, no tfjs here). */
export type { BackendPreference };

/** Everything the server is configured with (flags, SUPERNETD_* environment variables, a JSON file). */
export interface ServerConfig {
  /** Interface to listen on. */
  host: string;
  /** TCP port; 0 picks a free one. */
  port: number;
  /** Where experiments are stored. */
  dataDir: string;
  /** TensorFlow.js backend of the experiment workers. */
  backend: BackendPreference;
  /**
   * Threads each experiment worker's `wasm` backend computes on (the worker's thread plus XNNPACK
   * pthreads; at most 8 are used); 0 means every core the machine gives the process
   * (`os.availableParallelism()`). Other backends ignore it.
   */
  engineThreads: number;
  /** Third-party strategy modules: npm package names or file paths (relative to the working directory). */
  strategies: string[];
  /** Bearer token every SupernetService call must carry; undefined disables authentication. */
  authToken: string | undefined;
  /** PEM certificate and key; both set enables TLS. */
  tlsCertPath: string | undefined;
  tlsKeyPath: string | undefined;
  /** Prometheus metrics HTTP port on `metricsHost`; undefined disables it, 0 picks a free one. */
  metricsPort: number | undefined;
  /**
   * Port of Katib's Suggestion service and its health check on `host` (docs/katib.md), plaintext and
   * without a token as Katib dials it; undefined disables it, 0 picks a free one.
   */
  katibPort: number | undefined;
  /** Interface the metrics endpoint listens on (loopback by default: it lists experiment ids). */
  metricsHost: string;
  /** Bearer token `GET /metrics` must carry; undefined leaves it open to whoever reaches `metricsHost`. */
  metricsToken: string | undefined;
  /**
   * Directory dataset files must lie in (ExperimentSpec dataset.path is resolved against it, and a
   * path leading outside it, symbolic links included, is refused).
   */
  datasetRoot: string;
  /** Largest message the server accepts or sends, in bytes. */
  maxMessageBytes: number;
  /** Largest tensor in a request, in elements. */
  maxTensorElements: number;
  /** Concurrent Train/TrainStep calls allowed per experiment. */
  maxConcurrentTrainingPerExperiment: number;
  /** Start every stored experiment's worker at startup instead of on first use. */
  eagerResume: boolean;
  /**
   * Seconds an experiment worker may sit with no call in flight before it is checkpointed and
   * stopped (the next call that needs it resumes it from that checkpoint); 0 keeps workers forever.
   */
  workerIdleSeconds: number;
  /**
   * Experiment workers (one thread and engine each) alive at once. Starting one more first stops
   * an idle one; with none idle the call fails RESOURCE_EXHAUSTED (LIMIT_EXCEEDED).
   */
  maxLiveWorkers: number;
  /** Stored experiments (CreateExperiment beyond it fails RESOURCE_EXHAUSTED). */
  maxExperiments: number;
  /**
   * Automatic restarts (from the last checkpoint) of a failed experiment worker in a row, without a
   * successful call between them, before the experiment is marked FAILED.
   */
  maxWorkerRestarts: number;
  /**
   * Scheduling priority (Linux nice value, 0-19) of the experiment worker threads, which train;
   * above 0 the RPC thread comes first when both want a core. 0 leaves it as the process's.
   */
  workerNice: number;
  /**
   * Largest estimated engine memory one inline batch may take: a TrainStep batch is refused above
   * it, an Evaluate batch is evaluated in chunks that fit it.
   */
  maxBatchMemoryBytes: number;
  /** Largest image side or resolution a search space may have (checked at CreateExperiment). */
  maxSpaceResolution: number;
  /** Largest channel count of any layer of a search space (including numClasses). */
  maxSpaceChannels: number;
  /** Largest estimated supernet parameter count. */
  maxSpaceParams: number;
  /** Largest estimated multiply-accumulates of one image through the largest subnet. */
  maxSpaceFlops: number;
  /** Largest estimated memory of one training step (weights, gradients, optimizer slots, activations). */
  maxTrainingMemoryBytes: number;
  /**
   * Milliseconds between the HTTP/2 PINGs the server sends on every connection (grpc.keepalive_time_ms),
   * so proxies and NATs see traffic on a quiet hours-long Train stream and a dead peer is noticed;
   * 0 sends none.
   */
  keepaliveTimeMs: number;
  /** Milliseconds to wait for a PING's answer before closing the connection (grpc.keepalive_timeout_ms). */
  keepaliveTimeoutMs: number;
  /**
   * Milliseconds (±10% jitter) after which a connection is sent GOAWAY, so clients reconnect and a
   * load balancer can rebalance (grpc.max_connection_age_ms). 0 = never, the default: with grpc-js
   * 1.14 the first keepalive PING (the server's, or a grpc-js client's) on a connection past its
   * age fails and drops the calls still in flight on it, a running Train stream included. Set it
   * only with keepaliveTimeMs 0 and clients that send no keepalive PINGs (docs/configuration.md).
   */
  maxConnectionAgeMs: number;
  /**
   * Milliseconds calls in flight on a connection past its age may still run before it is closed
   * (grpc.max_connection_age_grace_ms). 0 = no limit, so a long Train stream is never cut.
   */
  maxConnectionAgeGraceMs: number;
  /** pino log level. */
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
}

/** The defaults every unset field takes. */
export const DEFAULT_CONFIG: Readonly<ServerConfig> = Object.freeze({
  host: '127.0.0.1',
  port: 50051,
  dataDir: './data',
  backend: 'auto',
  strategies: [],
  authToken: undefined,
  tlsCertPath: undefined,
  tlsKeyPath: undefined,
  metricsPort: undefined,
  katibPort: undefined,
  metricsHost: '127.0.0.1',
  metricsToken: undefined,
  datasetRoot: './datasets',
  maxMessageBytes: 64 * 1024 * 1024,
  maxTensorElements: 64 * 1024 * 1024,
  maxConcurrentTrainingPerExperiment: 1,
  eagerResume: false,
  workerIdleSeconds: 600,
  maxLiveWorkers: 8,
  maxExperiments: 1000,
  maxWorkerRestarts: 3,
  workerNice: 0,
  engineThreads: 0,
  maxBatchMemoryBytes: 1024 ** 3,
  maxSpaceResolution: DEFAULT_SPACE_LIMITS.maxResolution,
  maxSpaceChannels: DEFAULT_SPACE_LIMITS.maxChannels,
  maxSpaceParams: DEFAULT_SPACE_LIMITS.maxParams,
  maxSpaceFlops: DEFAULT_SPACE_LIMITS.maxFlops,
  maxTrainingMemoryBytes: DEFAULT_SPACE_LIMITS.maxTrainingMemoryBytes,
  keepaliveTimeMs: 30_000,
  keepaliveTimeoutMs: 10_000,
  maxConnectionAgeMs: 0,
  maxConnectionAgeGraceMs: 0,
  logLevel: 'info',
});

const BACKENDS = new Set(['auto', 'wasm', 'cpu', 'tensorflow', 'gpu']);
const LEVELS = new Set(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

/** Fills defaults and validates. Throws Error naming the bad field. */
export function resolveConfig(partial: Partial<ServerConfig>): ServerConfig {
  const defined = Object.fromEntries(Object.entries(partial).filter(([, v]) => v !== undefined));
  const c: ServerConfig = { ...DEFAULT_CONFIG, strategies: [...DEFAULT_CONFIG.strategies], ...defined };
  const intIn = (name: keyof ServerConfig, v: unknown, min: number, max: number) => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      throw new Error(`config ${name} must be an integer in [${min}, ${max}], got ${JSON.stringify(v)}`);
    }
  };
  intIn('port', c.port, 0, 65535);
  if (c.metricsPort !== undefined) intIn('metricsPort', c.metricsPort, 0, 65535);
  if (c.katibPort !== undefined) intIn('katibPort', c.katibPort, 0, 65535);
  intIn('maxMessageBytes', c.maxMessageBytes, 1024, 2 ** 31 - 1);
  intIn('maxTensorElements', c.maxTensorElements, 1, 2 ** 31 - 1);
  intIn('maxConcurrentTrainingPerExperiment', c.maxConcurrentTrainingPerExperiment, 1, 64);
  // the idle timer is a setTimeout, whose delay must fit in 2^31-1 milliseconds
  intIn('workerIdleSeconds', c.workerIdleSeconds, 0, 2_147_483);
  intIn('maxLiveWorkers', c.maxLiveWorkers, 1, 4096);
  intIn('maxExperiments', c.maxExperiments, 1, 1_000_000);
  intIn('maxWorkerRestarts', c.maxWorkerRestarts, 0, 100);
  intIn('workerNice', c.workerNice, 0, 19);
  intIn('engineThreads', c.engineThreads, 0, 1024);
  intIn('maxBatchMemoryBytes', c.maxBatchMemoryBytes, 1024 * 1024, Number.MAX_SAFE_INTEGER);
  intIn('maxSpaceResolution', c.maxSpaceResolution, 1, 16_384);
  intIn('maxSpaceChannels', c.maxSpaceChannels, 1, 1 << 20);
  intIn('maxSpaceParams', c.maxSpaceParams, 1, Number.MAX_SAFE_INTEGER);
  intIn('maxSpaceFlops', c.maxSpaceFlops, 1, Number.MAX_SAFE_INTEGER);
  intIn('maxTrainingMemoryBytes', c.maxTrainingMemoryBytes, 1, Number.MAX_SAFE_INTEGER);
  // grpc-js arms setTimeout with these, whose delay must fit in 2^31-1 milliseconds
  intIn('keepaliveTimeMs', c.keepaliveTimeMs, 0, 2 ** 31 - 2);
  intIn('keepaliveTimeoutMs', c.keepaliveTimeoutMs, 1, 2 ** 31 - 2);
  intIn('maxConnectionAgeMs', c.maxConnectionAgeMs, 0, 2 ** 31 - 2);
  intIn('maxConnectionAgeGraceMs', c.maxConnectionAgeGraceMs, 0, 2 ** 31 - 2);
  if (!BACKENDS.has(c.backend)) throw new Error(`config backend must be auto, wasm, cpu, tensorflow or gpu, got ${JSON.stringify(c.backend)}`);
  if (!LEVELS.has(c.logLevel)) throw new Error(`config logLevel must be one of ${[...LEVELS].join(', ')}, got ${JSON.stringify(c.logLevel)}`);
  if (typeof c.dataDir !== 'string' || c.dataDir === '') throw new Error('config dataDir must be a non-empty path');
  if (!Array.isArray(c.strategies) || c.strategies.some((s) => typeof s !== 'string' || s === '')) {
    throw new Error('config strategies must be a list of package names or paths');
  }
  if ((c.tlsCertPath === undefined) !== (c.tlsKeyPath === undefined)) {
    throw new Error('config tlsCertPath and tlsKeyPath must be set together');
  }
  if (c.authToken !== undefined && c.authToken === '') throw new Error('config authToken must not be empty');
  if (c.metricsToken !== undefined && (typeof c.metricsToken !== 'string' || c.metricsToken === '')) throw new Error('config metricsToken must not be empty');
  if (typeof c.metricsHost !== 'string' || c.metricsHost === '') throw new Error('config metricsHost must be a non-empty address');
  if (typeof c.datasetRoot !== 'string' || c.datasetRoot === '') throw new Error('config datasetRoot must be a non-empty path');
  return c;
}

/** grpc-js marks "no limit" with this value (~(1 << 31)) for the connection-age and keepalive options. */
const GRPC_UNLIMITED_MS = 2 ** 31 - 1;

/**
 * The grpc-js server options of a configuration: message sizes, keepalive and connection age (a
 * 0 in the config, meaning off or no limit, becomes grpc-js's own "unlimited" value).
 */
export function grpcServerOptionsOf(c: ServerConfig): Record<string, number> {
  const orUnlimited = (ms: number) => (ms === 0 ? GRPC_UNLIMITED_MS : ms);
  return {
    'grpc.max_receive_message_length': c.maxMessageBytes,
    'grpc.max_send_message_length': c.maxMessageBytes,
    'grpc.keepalive_time_ms': orUnlimited(c.keepaliveTimeMs),
    'grpc.keepalive_timeout_ms': c.keepaliveTimeoutMs,
    'grpc.max_connection_age_ms': orUnlimited(c.maxConnectionAgeMs),
    'grpc.max_connection_age_grace_ms': orUnlimited(c.maxConnectionAgeGraceMs),
  };
}

/** The search-space limits of a configuration, as the engine's `checkSpaceLimits` takes them. */
export function spaceLimitsOf(c: ServerConfig): SpaceLimits {
  return {
    maxResolution: c.maxSpaceResolution,
    maxChannels: c.maxSpaceChannels,
    maxParams: c.maxSpaceParams,
    maxFlops: c.maxSpaceFlops,
    maxTrainingMemoryBytes: c.maxTrainingMemoryBytes,
  };
}
