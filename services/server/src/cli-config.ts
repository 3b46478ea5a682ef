// Command-line, environment and config-file settings of `supernetd serve` (precedence: flag >
// environment > file > default). Documented in docs/configuration.md.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { DEFAULT_CONFIG, resolveConfig } from './config.ts';
import type { ServerConfig } from './config.ts';

/** `supernetd --help`. */
export const HELP = `Usage: supernetd serve [options]

Runs the supernetd gRPC server. 'supernetd --help' lists the other commands
(search, report, export).

Options (environment variable in brackets):
  --host <addr>                 interface to listen on [SUPERNETD_HOST] (default ${DEFAULT_CONFIG.host})
  --port <n>                    gRPC port, 0 = any free port [SUPERNETD_PORT] (default ${DEFAULT_CONFIG.port})
  --data-dir <dir>              experiment storage [SUPERNETD_DATA_DIR] (default ${DEFAULT_CONFIG.dataDir})
  --backend <b>                 auto|wasm|cpu|tensorflow|gpu, checked at startup [SUPERNETD_BACKEND] (default ${DEFAULT_CONFIG.backend})
  --strategy <pkg|path>         load a third-party strategy module; repeatable [SUPERNETD_STRATEGIES, comma-separated]
  --auth-token <token>          require "authorization: Bearer <token>" [SUPERNETD_AUTH_TOKEN]
  --tls-cert <file>             PEM certificate chain [SUPERNETD_TLS_CERT]
  --tls-key <file>              PEM private key [SUPERNETD_TLS_KEY]
  --metrics-port <n>            Prometheus /metrics port, off when unset [SUPERNETD_METRICS_PORT]
  --metrics-host <addr>         interface of /metrics [SUPERNETD_METRICS_HOST] (default ${DEFAULT_CONFIG.metricsHost})
  --metrics-token <token>       require "authorization: Bearer <token>" on /metrics [SUPERNETD_METRICS_TOKEN]
  --dataset-root <dir>          dataset files must lie under it [SUPERNETD_DATASET_ROOT] (default ${DEFAULT_CONFIG.datasetRoot})
  --max-message-bytes <n>       largest message in or out [SUPERNETD_MAX_MESSAGE_BYTES] (default ${DEFAULT_CONFIG.maxMessageBytes})
  --max-tensor-elements <n>     largest inline tensor [SUPERNETD_MAX_TENSOR_ELEMENTS] (default ${DEFAULT_CONFIG.maxTensorElements})
  --max-concurrent-training <n> Train/TrainStep calls per experiment [SUPERNETD_MAX_CONCURRENT_TRAINING] (default 1)
  --eager-resume                start every stored experiment's worker at startup [SUPERNETD_EAGER_RESUME=1]
  --worker-idle-seconds <n>     stop a worker idle this long, resumed on next use; 0 = never [SUPERNETD_WORKER_IDLE_SECONDS] (default ${DEFAULT_CONFIG.workerIdleSeconds})
  --max-live-workers <n>        experiment workers alive at once [SUPERNETD_MAX_LIVE_WORKERS] (default ${DEFAULT_CONFIG.maxLiveWorkers})
  --max-experiments <n>         stored experiments [SUPERNETD_MAX_EXPERIMENTS] (default ${DEFAULT_CONFIG.maxExperiments})
  --max-worker-restarts <n>     restarts of a failed worker in a row before FAILED [SUPERNETD_MAX_WORKER_RESTARTS] (default ${DEFAULT_CONFIG.maxWorkerRestarts})
  --max-batch-memory-bytes <n>  largest estimated engine memory of an inline batch [SUPERNETD_MAX_BATCH_MEMORY_BYTES] (default ${DEFAULT_CONFIG.maxBatchMemoryBytes})
  --max-space-resolution <n>    largest image side/resolution of a search space [SUPERNETD_MAX_SPACE_RESOLUTION] (default ${DEFAULT_CONFIG.maxSpaceResolution})
  --max-space-channels <n>      largest channel count of any layer [SUPERNETD_MAX_SPACE_CHANNELS] (default ${DEFAULT_CONFIG.maxSpaceChannels})
  --max-space-params <n>        largest estimated supernet parameter count [SUPERNETD_MAX_SPACE_PARAMS] (default ${DEFAULT_CONFIG.maxSpaceParams})
  --max-space-flops <n>         largest estimated MACs per image [SUPERNETD_MAX_SPACE_FLOPS] (default ${DEFAULT_CONFIG.maxSpaceFlops})
  --max-training-memory-bytes <n> largest estimated training-step memory [SUPERNETD_MAX_TRAINING_MEMORY_BYTES] (default ${DEFAULT_CONFIG.maxTrainingMemoryBytes})
  --keepalive-time-ms <n>       PING every connection this often, 0 = never [SUPERNETD_KEEPALIVE_TIME_MS] (default ${DEFAULT_CONFIG.keepaliveTimeMs})
  --keepalive-timeout-ms <n>    close a connection whose PING is unanswered this long [SUPERNETD_KEEPALIVE_TIMEOUT_MS] (default ${DEFAULT_CONFIG.keepaliveTimeoutMs})
  --max-connection-age-ms <n>   GOAWAY a connection this old (calls in flight go on), 0 = never [SUPERNETD_MAX_CONNECTION_AGE_MS] (default ${DEFAULT_CONFIG.maxConnectionAgeMs})
  --max-connection-age-grace-ms <n> then close it after this long, 0 = when its calls end [SUPERNETD_MAX_CONNECTION_AGE_GRACE_MS] (default ${DEFAULT_CONFIG.maxConnectionAgeGraceMs})
  --log-level <level>           fatal|error|warn|info|debug|trace|silent [SUPERNETD_LOG_LEVEL] (default info)
  --config <file.json>          JSON file with the same settings in camelCase [SUPERNETD_CONFIG]
  -h, --help                    this text
`;

const OPTIONS = {
  host: { type: 'string' },
  port: { type: 'string' },
  'data-dir': { type: 'string' },
  backend: { type: 'string' },
  strategy: { type: 'string', multiple: true },
  'auth-token': { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  'metrics-port': { type: 'string' },
  'metrics-host': { type: 'string' },
  'metrics-token': { type: 'string' },
  'dataset-root': { type: 'string' },
  'max-live-workers': { type: 'string' },
  'max-experiments': { type: 'string' },
  'max-worker-restarts': { type: 'string' },
  'max-batch-memory-bytes': { type: 'string' },
  'max-message-bytes': { type: 'string' },
  'max-tensor-elements': { type: 'string' },
  'max-concurrent-training': { type: 'string' },
  'eager-resume': { type: 'boolean' },
  'worker-idle-seconds': { type: 'string' },
  'max-space-resolution': { type: 'string' },
  'max-space-channels': { type: 'string' },
  'max-space-params': { type: 'string' },
  'max-space-flops': { type: 'string' },
  'max-training-memory-bytes': { type: 'string' },
  'keepalive-time-ms': { type: 'string' },
  'keepalive-timeout-ms': { type: 'string' },
  'max-connection-age-ms': { type: 'string' },
  'max-connection-age-grace-ms': { type: 'string' },
  'log-level': { type: 'string' },
  config: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

function int(name: string, v: string | undefined): number | undefined {
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n)) throw new Error(`${name} must be an integer, got '${v}'`);
  return n;
}

type Layer = Partial<Record<keyof ServerConfig, unknown>>;

/** Builds the configuration from argv, the environment and the optional config file. */
export function configFromArgs(argv: string[], env: NodeJS.ProcessEnv): { config: ServerConfig; help: boolean } {
  const { values, positionals } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  if (values.help) return { config: resolveConfig({}), help: true };
  if (positionals.length !== 1 || positionals[0] !== 'serve') {
    throw new Error(`expected the command 'serve', got '${positionals.join(' ')}'`);
  }
  const fromEnv: Layer = {
    host: env.SUPERNETD_HOST,
    port: int('SUPERNETD_PORT', env.SUPERNETD_PORT),
    dataDir: env.SUPERNETD_DATA_DIR,
    backend: env.SUPERNETD_BACKEND,
    strategies: env.SUPERNETD_STRATEGIES ? env.SUPERNETD_STRATEGIES.split(',').map((s) => s.trim()).filter(Boolean) : undefined,
    authToken: env.SUPERNETD_AUTH_TOKEN || undefined,
    tlsCertPath: env.SUPERNETD_TLS_CERT,
    tlsKeyPath: env.SUPERNETD_TLS_KEY,
    metricsPort: int('SUPERNETD_METRICS_PORT', env.SUPERNETD_METRICS_PORT),
    metricsHost: env.SUPERNETD_METRICS_HOST || undefined,
    metricsToken: env.SUPERNETD_METRICS_TOKEN || undefined,
    datasetRoot: env.SUPERNETD_DATASET_ROOT || undefined,
    maxLiveWorkers: int('SUPERNETD_MAX_LIVE_WORKERS', env.SUPERNETD_MAX_LIVE_WORKERS),
    maxExperiments: int('SUPERNETD_MAX_EXPERIMENTS', env.SUPERNETD_MAX_EXPERIMENTS),
    maxWorkerRestarts: int('SUPERNETD_MAX_WORKER_RESTARTS', env.SUPERNETD_MAX_WORKER_RESTARTS),
    maxBatchMemoryBytes: int('SUPERNETD_MAX_BATCH_MEMORY_BYTES', env.SUPERNETD_MAX_BATCH_MEMORY_BYTES),
    maxMessageBytes: int('SUPERNETD_MAX_MESSAGE_BYTES', env.SUPERNETD_MAX_MESSAGE_BYTES),
    maxTensorElements: int('SUPERNETD_MAX_TENSOR_ELEMENTS', env.SUPERNETD_MAX_TENSOR_ELEMENTS),
    maxConcurrentTrainingPerExperiment: int('SUPERNETD_MAX_CONCURRENT_TRAINING', env.SUPERNETD_MAX_CONCURRENT_TRAINING),
    eagerResume: env.SUPERNETD_EAGER_RESUME ? ['1', 'true', 'yes'].includes(env.SUPERNETD_EAGER_RESUME) : undefined,
    workerIdleSeconds: int('SUPERNETD_WORKER_IDLE_SECONDS', env.SUPERNETD_WORKER_IDLE_SECONDS),
    maxSpaceResolution: int('SUPERNETD_MAX_SPACE_RESOLUTION', env.SUPERNETD_MAX_SPACE_RESOLUTION),
    maxSpaceChannels: int('SUPERNETD_MAX_SPACE_CHANNELS', env.SUPERNETD_MAX_SPACE_CHANNELS),
    maxSpaceParams: int('SUPERNETD_MAX_SPACE_PARAMS', env.SUPERNETD_MAX_SPACE_PARAMS),
    maxSpaceFlops: int('SUPERNETD_MAX_SPACE_FLOPS', env.SUPERNETD_MAX_SPACE_FLOPS),
    maxTrainingMemoryBytes: int('SUPERNETD_MAX_TRAINING_MEMORY_BYTES', env.SUPERNETD_MAX_TRAINING_MEMORY_BYTES),
    keepaliveTimeMs: int('SUPERNETD_KEEPALIVE_TIME_MS', env.SUPERNETD_KEEPALIVE_TIME_MS),
    keepaliveTimeoutMs: int('SUPERNETD_KEEPALIVE_TIMEOUT_MS', env.SUPERNETD_KEEPALIVE_TIMEOUT_MS),
    maxConnectionAgeMs: int('SUPERNETD_MAX_CONNECTION_AGE_MS', env.SUPERNETD_MAX_CONNECTION_AGE_MS),
    maxConnectionAgeGraceMs: int('SUPERNETD_MAX_CONNECTION_AGE_GRACE_MS', env.SUPERNETD_MAX_CONNECTION_AGE_GRACE_MS),
    logLevel: env.SUPERNETD_LOG_LEVEL,
  };
  const fromFlags: Layer = {
    host: values.host,
    port: int('--port', values.port),
    dataDir: values['data-dir'],
    backend: values.backend,
    strategies: values.strategy,
    authToken: values['auth-token'],
    tlsCertPath: values['tls-cert'],
    tlsKeyPath: values['tls-key'],
    metricsPort: int('--metrics-port', values['metrics-port']),
    metricsHost: values['metrics-host'],
    metricsToken: values['metrics-token'],
    datasetRoot: values['dataset-root'],
    maxLiveWorkers: int('--max-live-workers', values['max-live-workers']),
    maxExperiments: int('--max-experiments', values['max-experiments']),
    maxWorkerRestarts: int('--max-worker-restarts', values['max-worker-restarts']),
    maxBatchMemoryBytes: int('--max-batch-memory-bytes', values['max-batch-memory-bytes']),
    maxMessageBytes: int('--max-message-bytes', values['max-message-bytes']),
    maxTensorElements: int('--max-tensor-elements', values['max-tensor-elements']),
    maxConcurrentTrainingPerExperiment: int('--max-concurrent-training', values['max-concurrent-training']),
    eagerResume: values['eager-resume'],
    workerIdleSeconds: int('--worker-idle-seconds', values['worker-idle-seconds']),
    maxSpaceResolution: int('--max-space-resolution', values['max-space-resolution']),
    maxSpaceChannels: int('--max-space-channels', values['max-space-channels']),
    maxSpaceParams: int('--max-space-params', values['max-space-params']),
    maxSpaceFlops: int('--max-space-flops', values['max-space-flops']),
    maxTrainingMemoryBytes: int('--max-training-memory-bytes', values['max-training-memory-bytes']),
    keepaliveTimeMs: int('--keepalive-time-ms', values['keepalive-time-ms']),
    keepaliveTimeoutMs: int('--keepalive-timeout-ms', values['keepalive-timeout-ms']),
    maxConnectionAgeMs: int('--max-connection-age-ms', values['max-connection-age-ms']),
    maxConnectionAgeGraceMs: int('--max-connection-age-grace-ms', values['max-connection-age-grace-ms']),
    logLevel: values['log-level'],
  };
  const file = values.config ?? env.SUPERNETD_CONFIG;
  let fromFile: Layer = {};
  if (file) {
    const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error(`config file ${file} must hold a JSON object`);
    const known = new Set(Object.keys(DEFAULT_CONFIG).concat(['authToken', 'tlsCertPath', 'tlsKeyPath', 'metricsPort', 'metricsToken']));
    for (const k of Object.keys(parsed)) if (!known.has(k)) throw new Error(`config file ${file}: unknown setting '${k}'`);
    fromFile = parsed as Layer;
  }
  const merged: Layer = { ...fromFile };
  for (const layer of [fromEnv, fromFlags]) {
    for (const [k, v] of Object.entries(layer)) if (v !== undefined) merged[k as keyof ServerConfig] = v;
  }
  return { config: resolveConfig(merged as Partial<ServerConfig>), help: false };
}
