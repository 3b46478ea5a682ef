import type { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { ReflectionService } from '@grpc/reflection';
import { HealthImplementation } from 'grpc-health-check';
import type { Logger } from 'pino';
import { inject, injectable } from 'tsyringe';
import { SupernetService, toGrpcServiceDefinition } from '@supernetd/api';
import { TOKENS } from '../tokens.ts';
import { grpcServerOptionsOf } from '../config.ts';
import type { ServerConfig } from '../config.ts';
import type { SupernetServiceHandlers } from './supernet-service-handlers.ts';
import { reflectionPackageDefinition } from './reflection-descriptors.ts';
const SERVICE_NAME = 'supernetd.v1.SupernetService';

/** Stops accepting calls; resolves when in-flight calls end, forcing them closed after `graceMs`. */
export function shutdownGracefully(server: grpc.Server, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, graceMs);
    timer.unref();
    server.tryShutdown(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/**
 * The grpc-js server: SupernetService, grpc.health.v1.Health (SERVING for "" and the service) and
 * server reflection (v1 and v1alpha), with message-size limits and optional TLS. Health and
 * reflection need no token.
 */
@injectable()
export class GrpcServerHost {
  private readonly server: grpc.Server;
  private readonly health: HealthImplementation;
  /** Bound port after `start()`. */
  port = 0;

  constructor(
    @inject(TOKENS.Config) private readonly config: ServerConfig,
    @inject(TOKENS.SupernetServiceHandlers) handlers: SupernetServiceHandlers,
    @inject(TOKENS.Logger) private readonly logger: Logger,
  ) {
    this.server = new grpc.Server(grpcServerOptionsOf(config));
    this.server.addService(toGrpcServiceDefinition(SupernetService), handlers.implementation());
    this.health = new HealthImplementation({ '': 'NOT_SERVING', [SERVICE_NAME]: 'NOT_SERVING' });
    this.health.addToServer(this.server);
    new ReflectionService(reflectionPackageDefinition()).addToServer(this.server);
  }

  private credentials(): grpc.ServerCredentials {
    const { tlsCertPath, tlsKeyPath } = this.config;
    if (tlsCertPath === undefined || tlsKeyPath === undefined) return grpc.ServerCredentials.createInsecure();
    return grpc.ServerCredentials.createSsl(null, [{ cert_chain: readFileSync(tlsCertPath), private_key: readFileSync(tlsKeyPath) }], false);
  }

  /** Binds and marks the services SERVING. */
  async start(): Promise<void> {
    const host = this.config.host.includes(':') ? `[${this.config.host}]` : this.config.host;
    this.port = await new Promise<number>((resolve, reject) => {
      this.server.bindAsync(`${host}:${this.config.port}`, this.credentials(), (err, port) => (err ? reject(err) : resolve(port)));
    });
    this.exposeRepeatedAuthorization();
    this.health.setStatus('', 'SERVING');
    this.health.setStatus(SERVICE_NAME, 'SERVING');
    this.logger.info({ host: this.config.host, port: this.port, tls: this.config.tlsCertPath !== undefined, auth: this.config.authToken !== undefined }, 'supernetd listening');
  }

  /**
   * Node's HTTP/2 layer keeps only the first `authorization` header of a request (it is a
   * single-value header), so grpc-js metadata would never show a second one. Before grpc-js sees a
   * stream, this puts every value of the raw headers back, so authentication can refuse several.
   * Reaches into grpc-js's bound HTTP/2 servers (no public hook exists); a missing field is logged.
   */
  private exposeRepeatedAuthorization(): void {
    const servers = (this.server as unknown as { http2Servers?: Map<EventEmitter, unknown> }).http2Servers;
    if (!(servers instanceof Map)) {
      this.logger.warn('grpc-js internals changed: repeated authorization headers cannot be detected');
      return;
    }
    for (const h2 of servers.keys()) {
      h2.prependListener('stream', (_stream: unknown, headers: Record<string, unknown>, _flags: unknown, raw: unknown) => {
        if (!Array.isArray(raw)) return;
        const values: string[] = [];
        for (let i = 0; i + 1 < raw.length; i += 2) if (String(raw[i]).toLowerCase() === 'authorization') values.push(String(raw[i + 1]));
        if (values.length > 1) headers.authorization = values;
      });
    }
  }

  /** Reports NOT_SERVING and stops accepting calls; resolves when in-flight calls end (forced after `graceMs`). */
  stop(graceMs = 10_000): Promise<void> {
    this.health.setStatus('', 'NOT_SERVING');
    this.health.setStatus(SERVICE_NAME, 'NOT_SERVING');
    return shutdownGracefully(this.server, graceMs);
  }
}
