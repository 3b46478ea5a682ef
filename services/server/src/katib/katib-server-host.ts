import * as grpc from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import type { Logger } from 'pino';
import { inject, injectable } from 'tsyringe';
import { toGrpcServiceDefinition } from '@supernetd/api';
import { Suggestion } from '@supernetd/api/katib';
import { TOKENS } from '../tokens.ts';
import { grpcServerOptionsOf } from '../config.ts';
import type { ServerConfig } from '../config.ts';
import type { ExperimentManager } from '../experiments/experiment-manager.ts';
import type { StrategyRegistry } from '../strategies/strategy-registry.ts';
import type { ServerMetrics } from '../observability/server-metrics.ts';
import { CallRunner } from '../grpc/call-runner.ts';
import { shutdownGracefully } from '../grpc/grpc-server-host.ts';
import { KatibSuggestionService } from './katib-suggestion-service.ts';
import { KatibTrainer } from './katib-trainer.ts';

/** The service name Katib's readiness and liveness probes check. */
export const KATIB_HEALTH_SERVICE = 'manager.v1beta1.Suggestion';

/**
 * The `--katib-port` listener: Katib's `api.v1.beta1.Suggestion` service and `grpc.health.v1.Health`
 * (SERVING for "" and `manager.v1beta1.Suggestion` once bound), over the same experiment manager as
 * the main API. Plaintext and without a token, as Katib's controller dials it: keep the port inside
 * the cluster. Nothing is bound unless `katibPort` is set.
 */
@injectable()
export class KatibServerHost {
  private readonly server: grpc.Server;
  private readonly health: HealthImplementation;
  private readonly trainer: KatibTrainer;
  private started = false;
  /** Bound port after `start()`; undefined when the listener is off. */
  port: number | undefined;

  constructor(
    @inject(TOKENS.Config) private readonly config: ServerConfig,
    @inject(TOKENS.ExperimentManager) manager: ExperimentManager,
    @inject(TOKENS.StrategyRegistry) registry: StrategyRegistry,
    @inject(TOKENS.ServerMetrics) metrics: ServerMetrics,
    @inject(TOKENS.Logger) private readonly logger: Logger,
  ) {
    const log = logger.child({ listener: 'katib' });
    this.trainer = new KatibTrainer(manager, log);
    const service = new KatibSuggestionService(config, manager, registry, this.trainer, log);
    const runner = new CallRunner(undefined, log, metrics);
    this.server = new grpc.Server(grpcServerOptionsOf(config));
    this.server.addService(toGrpcServiceDefinition(Suggestion), {
      getSuggestions: runner.unary('katib.GetSuggestions', (req) => service.getSuggestions(req)),
      validateAlgorithmSettings: runner.unary('katib.ValidateAlgorithmSettings', (req) => service.validate(req)),
    });
    this.health = new HealthImplementation({ '': 'NOT_SERVING', [KATIB_HEALTH_SERVICE]: 'NOT_SERVING' });
    this.health.addToServer(this.server);
  }

  /** Binds `katibPort` on the configured host and reports SERVING; does nothing when it is unset. */
  async start(): Promise<void> {
    if (this.config.katibPort === undefined) return;
    const host = this.config.host.includes(':') ? `[${this.config.host}]` : this.config.host;
    this.port = await new Promise<number>((resolve, reject) => {
      this.server.bindAsync(`${host}:${this.config.katibPort}`, grpc.ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port)));
    });
    this.started = true;
    this.health.setStatus('', 'SERVING');
    this.health.setStatus(KATIB_HEALTH_SERVICE, 'SERVING');
    this.logger.info({ host: this.config.host, port: this.port }, 'katib suggestion service listening');
  }

  /** NOT_SERVING, no new calls, no new training rounds; resolves when calls end (forced after `graceMs`). */
  async stop(graceMs = 10_000): Promise<void> {
    this.trainer.halt();
    if (!this.started) return;
    this.started = false;
    this.health.setStatus('', 'NOT_SERVING');
    this.health.setStatus(KATIB_HEALTH_SERVICE, 'NOT_SERVING');
    await shutdownGracefully(this.server, graceMs);
  }

  /** Resolves when the background training rounds have ended (the manager's shutdown stops them at a step). */
  drainTraining(): Promise<void> {
    return this.trainer.drained();
  }
}
