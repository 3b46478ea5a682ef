import type { InjectionToken } from 'tsyringe';
import type { Logger } from 'pino';
import type { ServerConfig } from './config.ts';
import type { StrategyRegistry } from './strategies/strategy-registry.ts';
import type { ExperimentStore } from './persistence/experiment-store.ts';
import type { ExperimentManager } from './experiments/experiment-manager.ts';
import type { ServerMetrics } from './observability/server-metrics.ts';
import type { MetricsHttpServer } from './observability/metrics-http-server.ts';
import type { GrpcServerHost } from './grpc/grpc-server-host.ts';
import type { SupernetServiceHandlers } from './grpc/supernet-service-handlers.ts';
import type { KatibServerHost } from './katib/katib-server-host.ts';

/** Every dependency-injection token of the server; container.ts binds them. */
export const TOKENS = {
  Config: Symbol('ServerConfig') as InjectionToken<ServerConfig>,
  Logger: Symbol('Logger') as InjectionToken<Logger>,
  StrategyRegistry: Symbol('StrategyRegistry') as InjectionToken<StrategyRegistry>,
  ExperimentStore: Symbol('ExperimentStore') as InjectionToken<ExperimentStore>,
  ExperimentManager: Symbol('ExperimentManager') as InjectionToken<ExperimentManager>,
  ServerMetrics: Symbol('ServerMetrics') as InjectionToken<ServerMetrics>,
  MetricsHttpServer: Symbol('MetricsHttpServer') as InjectionToken<MetricsHttpServer>,
  GrpcServerHost: Symbol('GrpcServerHost') as InjectionToken<GrpcServerHost>,
  SupernetServiceHandlers: Symbol('SupernetServiceHandlers') as InjectionToken<SupernetServiceHandlers>,
  KatibServerHost: Symbol('KatibServerHost') as InjectionToken<KatibServerHost>,
} as const;
