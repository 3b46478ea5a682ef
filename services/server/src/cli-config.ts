// Command-line, environment and config-file settings of `supernetd serve` (precedence: flag >
// environment > file > default), parsed by commander: it reads the flags and the SUPERNETD_*
// variables, writes the help text and records where each value came from. Documented in
// docs/configuration.md.
import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { DEFAULT_CONFIG, resolveConfig } from './config.ts';
import type { ServerConfig } from './config.ts';

/** How a setting's text becomes its value: as is, an integer, a list, or a switch. */
export type SettingKind = 'string' | 'int' | 'list' | 'switch';

/** One `serve` setting: its flag, ServerConfig field, environment variable and value kind. */
export interface Setting {
  /** commander flags, e.g. `--port <n>`. */
  flags: string;
  key: keyof ServerConfig;
  env: string;
  kind: SettingKind;
  description: string;
}

const d = DEFAULT_CONFIG;

/** Every `serve` setting, in help order. */
export const SERVE_SETTINGS: readonly Setting[] = [
  { flags: '--host <addr>', key: 'host', env: 'SUPERNETD_HOST', kind: 'string', description: `interface to listen on (default ${d.host})` },
  { flags: '--port <n>', key: 'port', env: 'SUPERNETD_PORT', kind: 'int', description: `gRPC port, 0 = any free port (default ${d.port})` },
  { flags: '--data-dir <dir>', key: 'dataDir', env: 'SUPERNETD_DATA_DIR', kind: 'string', description: `experiment storage (default ${d.dataDir})` },
  { flags: '--backend <b>', key: 'backend', env: 'SUPERNETD_BACKEND', kind: 'string', description: `auto|wasm|cpu|tensorflow|gpu, checked at startup (default ${d.backend})` },
  { flags: '--strategy <pkg|path>', key: 'strategies', env: 'SUPERNETD_STRATEGIES', kind: 'list', description: 'load a third-party strategy module; repeatable (environment: comma-separated)' },
  { flags: '--auth-token <token>', key: 'authToken', env: 'SUPERNETD_AUTH_TOKEN', kind: 'string', description: 'require "authorization: Bearer <token>"' },
  { flags: '--tls-cert <file>', key: 'tlsCertPath', env: 'SUPERNETD_TLS_CERT', kind: 'string', description: 'PEM certificate chain' },
  { flags: '--tls-key <file>', key: 'tlsKeyPath', env: 'SUPERNETD_TLS_KEY', kind: 'string', description: 'PEM private key' },
  { flags: '--metrics-port <n>', key: 'metricsPort', env: 'SUPERNETD_METRICS_PORT', kind: 'int', description: 'Prometheus /metrics port, off when unset' },
  { flags: '--metrics-host <addr>', key: 'metricsHost', env: 'SUPERNETD_METRICS_HOST', kind: 'string', description: `interface of /metrics (default ${d.metricsHost})` },
  { flags: '--metrics-token <token>', key: 'metricsToken', env: 'SUPERNETD_METRICS_TOKEN', kind: 'string', description: 'require "authorization: Bearer <token>" on /metrics' },
  { flags: '--katib-port <n>', key: 'katibPort', env: 'SUPERNETD_KATIB_PORT', kind: 'int', description: "Kubeflow Katib's Suggestion service (plaintext, no token; docs/katib.md), off when unset" },
  { flags: '--dataset-root <dir>', key: 'datasetRoot', env: 'SUPERNETD_DATASET_ROOT', kind: 'string', description: `dataset files must lie under it (default ${d.datasetRoot})` },
  { flags: '--max-message-bytes <n>', key: 'maxMessageBytes', env: 'SUPERNETD_MAX_MESSAGE_BYTES', kind: 'int', description: `largest message in or out (default ${d.maxMessageBytes})` },
  { flags: '--max-tensor-elements <n>', key: 'maxTensorElements', env: 'SUPERNETD_MAX_TENSOR_ELEMENTS', kind: 'int', description: `largest inline tensor (default ${d.maxTensorElements})` },
  {
    flags: '--max-concurrent-training <n>',
    key: 'maxConcurrentTrainingPerExperiment',
    env: 'SUPERNETD_MAX_CONCURRENT_TRAINING',
    kind: 'int',
    description: `Train/TrainStep calls per experiment (default ${d.maxConcurrentTrainingPerExperiment})`,
  },
  { flags: '--eager-resume', key: 'eagerResume', env: 'SUPERNETD_EAGER_RESUME', kind: 'switch', description: "start every stored experiment's worker at startup (environment: 1, true or yes)" },
  { flags: '--worker-idle-seconds <n>', key: 'workerIdleSeconds', env: 'SUPERNETD_WORKER_IDLE_SECONDS', kind: 'int', description: `stop a worker idle this long, resumed on next use; 0 = never (default ${d.workerIdleSeconds})` },
  { flags: '--max-live-workers <n>', key: 'maxLiveWorkers', env: 'SUPERNETD_MAX_LIVE_WORKERS', kind: 'int', description: `experiment workers alive at once (default ${d.maxLiveWorkers})` },
  { flags: '--max-experiments <n>', key: 'maxExperiments', env: 'SUPERNETD_MAX_EXPERIMENTS', kind: 'int', description: `stored experiments (default ${d.maxExperiments})` },
  { flags: '--engine-threads <n>', key: 'engineThreads', env: 'SUPERNETD_ENGINE_THREADS', kind: 'int', description: `threads of each experiment worker's wasm backend, at most 8; 0 = every core (default ${d.engineThreads})` },
  { flags: '--max-worker-restarts <n>', key: 'maxWorkerRestarts', env: 'SUPERNETD_MAX_WORKER_RESTARTS', kind: 'int', description: `restarts of a failed worker in a row before FAILED (default ${d.maxWorkerRestarts})` },
  { flags: '--worker-nice <n>', key: 'workerNice', env: 'SUPERNETD_WORKER_NICE', kind: 'int', description: `scheduling priority (nice, 0-19) of the training worker threads, so RPCs come first on a busy machine; Linux (default ${d.workerNice})` },
  { flags: '--max-batch-memory-bytes <n>', key: 'maxBatchMemoryBytes', env: 'SUPERNETD_MAX_BATCH_MEMORY_BYTES', kind: 'int', description: `largest estimated engine memory of an inline batch (default ${d.maxBatchMemoryBytes})` },
  { flags: '--max-space-resolution <n>', key: 'maxSpaceResolution', env: 'SUPERNETD_MAX_SPACE_RESOLUTION', kind: 'int', description: `largest image side/resolution of a search space (default ${d.maxSpaceResolution})` },
  { flags: '--max-space-channels <n>', key: 'maxSpaceChannels', env: 'SUPERNETD_MAX_SPACE_CHANNELS', kind: 'int', description: `largest channel count of any layer (default ${d.maxSpaceChannels})` },
  { flags: '--max-space-params <n>', key: 'maxSpaceParams', env: 'SUPERNETD_MAX_SPACE_PARAMS', kind: 'int', description: `largest estimated supernet parameter count (default ${d.maxSpaceParams})` },
  { flags: '--max-space-flops <n>', key: 'maxSpaceFlops', env: 'SUPERNETD_MAX_SPACE_FLOPS', kind: 'int', description: `largest estimated MACs per image (default ${d.maxSpaceFlops})` },
  {
    flags: '--max-training-memory-bytes <n>',
    key: 'maxTrainingMemoryBytes',
    env: 'SUPERNETD_MAX_TRAINING_MEMORY_BYTES',
    kind: 'int',
    description: `largest estimated training-step memory (default ${d.maxTrainingMemoryBytes})`,
  },
  { flags: '--keepalive-time-ms <n>', key: 'keepaliveTimeMs', env: 'SUPERNETD_KEEPALIVE_TIME_MS', kind: 'int', description: `PING every connection this often, 0 = never (default ${d.keepaliveTimeMs})` },
  { flags: '--keepalive-timeout-ms <n>', key: 'keepaliveTimeoutMs', env: 'SUPERNETD_KEEPALIVE_TIMEOUT_MS', kind: 'int', description: `close a connection whose PING is unanswered this long (default ${d.keepaliveTimeoutMs})` },
  {
    flags: '--max-connection-age-ms <n>',
    key: 'maxConnectionAgeMs',
    env: 'SUPERNETD_MAX_CONNECTION_AGE_MS',
    kind: 'int',
    description: `GOAWAY a connection this old (calls in flight go on), 0 = never (default ${d.maxConnectionAgeMs})`,
  },
  {
    flags: '--max-connection-age-grace-ms <n>',
    key: 'maxConnectionAgeGraceMs',
    env: 'SUPERNETD_MAX_CONNECTION_AGE_GRACE_MS',
    kind: 'int',
    description: `then close it after this long, 0 = when its calls end (default ${d.maxConnectionAgeGraceMs})`,
  },
  { flags: '--log-level <level>', key: 'logLevel', env: 'SUPERNETD_LOG_LEVEL', kind: 'string', description: `fatal|error|warn|info|debug|trace|silent (default ${d.logLevel})` },
];

/** Keys a config file may hold: every ServerConfig field. */
const FILE_KEYS = new Set<string>([...Object.keys(DEFAULT_CONFIG), ...SERVE_SETTINGS.map((s) => s.key)]);

/** The `serve` command's parser: its options, their environment variables and the help text. */
function serveParser(): Command {
  const cmd = new Command('supernetd')
    .usage('serve [options]')
    .description("Runs the supernetd gRPC server. 'supernetd --help' lists the other commands (search, report, export).")
    .argument('[command]')
    .exitOverride()
    .configureOutput({ writeOut: () => undefined, writeErr: () => undefined })
    .helpOption('-h, --help', 'this text');
  for (const s of SERVE_SETTINGS) {
    const o = new Option(s.flags, s.description).env(s.env);
    if (s.kind === 'list') o.argParser((v: string, prev: string[] | undefined) => [...(prev ?? []), v]);
    cmd.addOption(o);
  }
  cmd.addOption(new Option('--config <file.json>', 'JSON file with the same settings in camelCase').env('SUPERNETD_CONFIG'));
  return cmd;
}

/** `supernetd serve --help`. */
export function serveHelp(): string {
  return serveParser().helpInformation();
}

function int(name: string, v: string): number | undefined {
  if (v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n)) throw new Error(`${name} must be an integer, got '${v}'`);
  return n;
}

/** A setting's value as given on the command line (`raw` as commander parsed it). */
function fromFlag(s: Setting, raw: unknown): unknown {
  const name = s.flags.split(' ')[0]!;
  if (s.kind === 'int') return int(name, raw as string);
  return raw;
}

/** A setting's value from its environment variable; undefined when the variable is empty. */
function fromEnv(s: Setting, raw: string): unknown {
  if (raw === '') return undefined;
  if (s.kind === 'int') return int(s.env, raw);
  if (s.kind === 'list') return raw.split(',').map((v) => v.trim()).filter(Boolean);
  if (s.kind === 'switch') return ['1', 'true', 'yes'].includes(raw);
  return raw;
}

/** Runs `fn` with `env` as process.env (commander reads option variables from there). */
function withEnvironment<T>(env: NodeJS.ProcessEnv, fn: () => T): T {
  if (env === process.env) return fn();
  const saved = process.env;
  process.env = env;
  try {
    return fn();
  } finally {
    process.env = saved;
  }
}

function readConfigFile(file: string): Partial<Record<keyof ServerConfig, unknown>> {
  const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error(`config file ${file} must hold a JSON object`);
  for (const k of Object.keys(parsed)) if (!FILE_KEYS.has(k)) throw new Error(`config file ${file}: unknown setting '${k}'`);
  return parsed as Partial<Record<keyof ServerConfig, unknown>>;
}

/**
 * Builds the configuration from argv (which must name the command `serve`), the environment and
 * the optional config file. Throws Error naming the offending flag, variable or setting.
 */
export function configFromArgs(argv: string[], env: NodeJS.ProcessEnv): { config: ServerConfig; help: boolean } {
  const cmd = serveParser();
  try {
    withEnvironment(env, () => cmd.parse(argv, { from: 'user' }));
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed') return { config: resolveConfig({}), help: true };
      throw new Error(err.message.replace(/^error: /, ''));
    }
    throw err;
  }
  const command = cmd.args[0] ?? '';
  if (command !== 'serve') throw new Error(`expected the command 'serve', got '${command}'`);
  const opts = cmd.opts<Record<string, unknown>>();
  const file = opts.config as string | undefined;
  const merged: Partial<Record<keyof ServerConfig, unknown>> = file ? readConfigFile(file) : {};
  for (const s of SERVE_SETTINGS) {
    const attr = new Option(s.flags).attributeName();
    const source = cmd.getOptionValueSource(attr);
    const value = source === 'cli' ? fromFlag(s, opts[attr]) : source === 'env' ? fromEnv(s, env[s.env] ?? '') : undefined;
    if (value !== undefined) merged[s.key] = value;
  }
  return { config: resolveConfig(merged as Partial<ServerConfig>), help: false };
}
