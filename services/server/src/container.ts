import 'reflect-metadata';
import { container as rootContainer } from 'tsyringe';
import type { DependencyContainer } from 'tsyringe';
import type { Logger } from 'pino';
import { strategy as cafenet } from '@supernetd/strategy-cafenet';
import { strategy as dna } from '@supernetd/strategy-dna';
import { strategy as pss } from '@supernetd/strategy-pss';
import { strategy as sandwich } from '@supernetd/strategy-sandwich';
import { strategy as uniform } from '@supernetd/strategy-uniform';
import { TOKENS } from './tokens.ts';
import type { ServerConfig } from './config.ts';
import { StrategyRegistry } from './strategies/strategy-registry.ts';
import { loadStrategyModule } from './strategies/load-strategy-module.ts';
import { ExperimentStore } from './persistence/experiment-store.ts';
import { ExperimentManager } from './experiments/experiment-manager.ts';
import { ServerMetrics } from './observability/server-metrics.ts';
import { MetricsHttpServer } from './observability/metrics-http-server.ts';
import { GrpcServerHost } from './grpc/grpc-server-host.ts';
import { SupernetServiceHandlers } from './grpc/supernet-service-handlers.ts';
import { KatibServerHost } from './katib/katib-server-host.ts';

/**
 * The composition root: the only place that names concrete classes. Builds the strategy registry
 * (built-ins, then the configured third-party modules; a duplicate id refuses to start) and a child
 * container binding every token. `container.dispose()` shuts the services down.
 */
export async function createContainer(config: ServerConfig, logger: Logger): Promise<DependencyContainer> {
  const registry = new StrategyRegistry();
  // the module specifier is what a worker thread imports to get the same factory back
  registry.register(uniform, 'builtin', '@supernetd/strategy-uniform');
  registry.register(sandwich, 'builtin', '@supernetd/strategy-sandwich');
  registry.register(pss, 'builtin', '@supernetd/strategy-pss');
  registry.register(cafenet, 'builtin', '@supernetd/strategy-cafenet');
  registry.register(dna, 'builtin', '@supernetd/strategy-dna');
  for (const name of config.strategies) {
    const loaded = await loadStrategyModule(name);
    const ids = registry.registerModule(loaded.module, loaded.origin, loaded.specifier);
    logger.info({ module: name, ids }, 'strategy module loaded');
  }

  const c = rootContainer.createChildContainer();
  c.register(TOKENS.Config, { useValue: config });
  c.register(TOKENS.Logger, { useValue: logger });
  c.register(TOKENS.StrategyRegistry, { useValue: registry });
  c.register(TOKENS.ServerMetrics, { useValue: new ServerMetrics() });
  c.registerSingleton(TOKENS.ExperimentStore, ExperimentStore);
  c.registerSingleton(TOKENS.ExperimentManager, ExperimentManager);
  c.registerSingleton(TOKENS.MetricsHttpServer, MetricsHttpServer);
  c.registerSingleton(TOKENS.SupernetServiceHandlers, SupernetServiceHandlers);
  c.registerSingleton(TOKENS.GrpcServerHost, GrpcServerHost);
  c.registerSingleton(TOKENS.KatibServerHost, KatibServerHost);
  return c;
}
