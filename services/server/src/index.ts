// Contributor conventions (layout, imports, tests, errors): CONTRIBUTING.md at the repository root.
import type { Logger } from 'pino';
import { resolveConfig } from './config.ts';
import type { ServerConfig } from './config.ts';
import type { ChosenBackend } from './worker/probe-backend.ts';
import { createContainer } from './container.ts';
import { TOKENS } from './tokens.ts';
import { createLogger } from './observability/create-logger.ts';
import { probeBackend } from './worker/probe-backend.ts';

export type { ServerConfig, BackendPreference } from './config.ts';
export { DEFAULT_CONFIG, resolveConfig } from './config.ts';
export { ERROR_REASON_KEY } from './errors/to-status.ts';
export { archFromProto, archToProto } from './grpc/converters.ts';
export { BackendUnavailableError } from './worker/probe-backend.ts';
export { spaceFlopsRange } from './space-flops-range.ts';
export type { ChosenBackend } from './worker/probe-backend.ts';

/** A started server. */
export interface RunningServer {
  /** `host:port` to dial. */
  address: string;
  port: number;
  /** Bound Prometheus port, when `metricsPort` is configured. */
  metricsPort: number | undefined;
  /** Bound Katib Suggestion port, when `katibPort` is configured. */
  katibPort: number | undefined;
  /** The resolved configuration. */
  config: ServerConfig;
  /** The engine backend checked at startup: what the workers run on, on which device, and why. */
  backend: ChosenBackend;
  /**
   * Graceful stop: NOT_SERVING, no new calls, training loops stop at a step boundary and
   * checkpoint, workers end, logs flush. Idempotent.
   */
  stop(): Promise<void>;
}

/**
 * Starts supernetd in this process (port 0 picks a free port). Loads every stored experiment from
 * the data directory first. Rejects when the configuration is invalid, the configured backend cannot
 * be used (BackendUnavailableError: an unbuilt or missing native binding, no GPU for `gpu`), a
 * strategy module cannot be loaded, two strategies share an id, or the port cannot be bound.
 */
export async function startServer(partial: Partial<ServerConfig> = {}, opts: { logger?: Logger } = {}): Promise<RunningServer> {
  const config = resolveConfig(partial);
  const logger = opts.logger ?? createLogger(config);
  // The backend is checked before anything starts: a choice that cannot load stops the server here
  // (BackendUnavailableError, with the reason) instead of failing every CreateExperiment later.
  const backend = await probeBackend(config.backend);
  logger.info(
    { preference: backend.preference, backend: backend.backend, device: backend.device, tensorflowVersion: backend.tensorflowVersion, reason: backend.reason },
    `engine backend: ${backend.backend} on ${backend.device} (${backend.reason})`,
  );
  // Workers start with the checked choice (`auto` resolved), so each runs on what was checked here.
  const container = await createContainer({ ...config, backend: backend.workerPreference }, logger);
  container.resolve(TOKENS.ServerMetrics).setBackend(backend);
  const manager = container.resolve(TOKENS.ExperimentManager);
  await manager.init();
  const grpcHost = container.resolve(TOKENS.GrpcServerHost);
  const metricsServer = container.resolve(TOKENS.MetricsHttpServer);
  const katibHost = container.resolve(TOKENS.KatibServerHost);
  try {
    await metricsServer.start();
    await grpcHost.start();
    await katibHost.start();
  } catch (err) {
    // a port bound before the failing one (the Katib port is bound last) must not stay taken
    await Promise.all([grpcHost.stop(0), katibHost.stop(0)]);
    await container.dispose();
    throw err;
  }
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      logger.info('shutting down');
      const drained = grpcHost.stop();
      const katibDrained = katibHost.stop();
      await manager.shutdown();
      await Promise.all([drained, katibDrained, katibHost.drainTraining()]);
      await container.dispose();
      logger.info('stopped');
      logger.flush?.();
    })();
    return stopping;
  };
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  return { address: `${host}:${grpcHost.port}`, port: grpcHost.port, metricsPort: metricsServer.port, katibPort: katibHost.port, config, backend, stop };
}

/**
 * Starts supernetd for a command of this process (`supernetd search` without `--server`) on a free
 * loopback port, storing experiments in `dataDir`. Its datasets may be any local path: they are the
 * caller's own files.
 */
export function startInProcessServer(dataDir: string): Promise<RunningServer> {
  return startServer({ host: '127.0.0.1', port: 0, dataDir, logLevel: 'error', datasetRoot: '/' });
}
