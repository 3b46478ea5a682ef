import 'reflect-metadata';
import { container as rootContainer } from 'tsyringe';
import type { DependencyContainer } from 'tsyringe';
import type { Logger } from 'pino';
import type { StrategyModule } from '@supernetd/sdk';
import { TOKENS } from './tokens.ts';
import type { ServerConfig } from './config.ts';
import { StrategyRegistry } from './strategies/strategy-registry.ts';
import { BUILTIN_STRATEGY_PACKAGES } from './strategies/builtin-strategies.ts';
import { loadStrategyModule } from './strategies/load-strategy-module.ts';
import { ExperimentStore } from './persistence/experiment-store.ts';
import { ExperimentManager } from './experiments/experiment-manager.ts';
import { ServerMetrics } from './observability/server-metrics.ts';
import { MetricsHttpServer } from './observability/metrics-http-server.ts';
import { GrpcServerHost } from './grpc/grpc-server-host.ts';
import { SupernetServiceHandlers } from './grpc/supernet-service-handlers.ts';

/**
 * The composition root: the only place that names concrete classes. Builds the strategy registry
 * (built-ins, then the configured third-party modules; a duplicate id refuses to start) and a child
 * container binding every token. `container.dispose()` shuts the services down.
 */
export async function createContainer(config: ServerConfig, logger: Logger): Promise<DependencyContainer> {
  const registry = new StrategyRegistry();
  for (const name of BUILTIN_STRATEGY_PACKAGES) {
    let mod: StrategyModule;
    try {
      mod = (await import(name)) as StrategyModule;
    } catch (err) {
      // built-in strategies land one by one; a missing one is reported, not fatal
      logger.warn({ strategy: name, err: (err as Error).message }, 'built-in strategy not available');
      continue;
    }
    registry.registerModule(mod, 'builtin', name);
  }
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
  return c;
}
