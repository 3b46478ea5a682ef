import { pino } from 'pino';
import type { Logger } from 'pino';
import type { ServerConfig } from '../config.ts';

/** The server's structured JSON logger (stderr, so stdout stays free for the CLI). */
export function createLogger(config: Pick<ServerConfig, 'logLevel'>): Logger {
  return pino({ level: config.logLevel, base: { service: 'supernetd' } }, pino.destination({ fd: 2, sync: true }));
}
