import { timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { inject, injectable } from 'tsyringe';
import { TOKENS } from '../tokens.ts';
import type { ServerConfig } from '../config.ts';
import type { ServerMetrics } from './server-metrics.ts';

/**
 * Serves `GET /metrics` in the Prometheus text format when `metricsPort` is configured, on
 * `metricsHost` (loopback by default, since the series name every experiment id), and with
 * `metricsToken` only to requests carrying `authorization: Bearer <token>` (401 otherwise).
 */
@injectable()
export class MetricsHttpServer {
  private server: http.Server | undefined;
  /** Bound port once started; undefined when disabled. */
  port: number | undefined;

  constructor(
    @inject(TOKENS.Config) private readonly config: ServerConfig,
    @inject(TOKENS.ServerMetrics) private readonly metrics: ServerMetrics,
    @inject(TOKENS.Logger) private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    if (this.config.metricsPort === undefined) return;
    const expected = this.config.metricsToken === undefined ? undefined : Buffer.from(`Bearer ${this.config.metricsToken}`);
    const server = http.createServer((req, res) => {
      if (expected) {
        const given = Buffer.from(req.headers.authorization ?? '');
        if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
          res.writeHead(401, { 'www-authenticate': 'Bearer' }).end('unauthorized\n');
          return;
        }
      }
      if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
        res.writeHead(404).end('not found\n');
        return;
      }
      this.metrics.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': this.metrics.registry.contentType }).end(text),
        (err: unknown) => {
          this.logger.error({ err }, 'metrics collection failed');
          res.writeHead(500).end('error\n');
        },
      );
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.config.metricsPort, this.config.metricsHost, () => resolve());
    });
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
    this.logger.info({ host: this.config.metricsHost, port: this.port, auth: expected !== undefined }, 'metrics endpoint listening');
  }

  async dispose(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
