import { randomUUID, timingSafeEqual } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { Counter, Histogram } from 'prom-client';
import { UnauthenticatedError } from '@supernetd/sdk';
import { toStatus } from '../errors/to-status.ts';
import type { ServerMetrics } from '../observability/server-metrics.ts';

/** What a handler gets besides its request. */
export interface CallContext {
  requestId: string;
  logger: Logger;
  /** Aborted when the caller cancels or its deadline passes. */
  signal: AbortSignal;
}

type AnyCall = grpc.ServerUnaryCall<unknown, unknown> | grpc.ServerWritableStream<unknown, unknown>;

/**
 * Wraps handlers with what every SupernetService call needs: a request id and child logger,
 * bearer-token authentication, cancellation/deadline signal, RPC metrics, and the single mapping of
 * thrown errors to statuses (errors/to-status.ts).
 */
export class CallRunner {
  private readonly expectedAuth: Buffer | undefined;
  private readonly seriesCache = new Map<string, { total: Counter.Internal; seconds: Histogram.Internal<'method' | 'code'>; codeName: string }>();

  constructor(
    authToken: string | undefined,
    private readonly logger: Logger,
    private readonly metrics: ServerMetrics,
  ) {
    this.expectedAuth = authToken === undefined ? undefined : Buffer.from(`Bearer ${authToken}`);
  }

  /**
   * What a call needs from its start to its status. Kept cheap for the unary calls that do little
   * else: the child logger and the AbortController are made on first use only, and the metric
   * series are looked up once per method and code.
   */
  private begin(method: string, call: AnyCall) {
    const given = call.metadata.get('x-request-id')[0];
    const requestId = typeof given === 'string' && given.length > 0 && given.length <= 128 ? given : randomUUID();
    const parentLogger = this.logger;
    let controller: AbortController | undefined;
    let logger: Logger | undefined;
    let cancelled = false;
    let deadlineExceeded = false;
    let finished = false;
    // grpc-js emits 'cancelled' on every call once its stream closes, also after a normal end:
    // only a cancellation before the status counts (aborting then would only make a DOMException)
    const onCancelled = () => {
      if (finished || cancelled) return;
      const deadline = call.getDeadline();
      const ms = deadline instanceof Date ? deadline.getTime() : deadline;
      if (Number.isFinite(ms) && ms <= Date.now()) deadlineExceeded = true;
      cancelled = true;
      controller?.abort();
    };
    call.on('cancelled', onCancelled);
    const ctx: CallContext = {
      requestId,
      get logger() {
        return (logger ??= parentLogger.child({ requestId, method }));
      },
      get signal() {
        if (!controller) {
          controller = new AbortController();
          if (cancelled) controller.abort();
        }
        return controller.signal;
      },
    };
    const started = process.hrtime.bigint();
    const finish = (code: grpc.status) => {
      finished = true;
      call.off('cancelled', onCancelled);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const series = this.series(method, code);
      series.total.inc();
      series.seconds.observe(seconds);
      if (code !== grpc.status.OK) ctx.logger.info({ code: series.codeName, ms: Math.round(seconds * 1000) }, 'rpc done');
      else if (parentLogger.isLevelEnabled('debug')) ctx.logger.debug({ code: series.codeName, ms: Math.round(seconds * 1000) }, 'rpc done');
    };
    // A call whose caller went away is recorded as such, even when the handler ran to the end.
    const succeed = () => finish(cancelled ? (deadlineExceeded ? grpc.status.DEADLINE_EXCEEDED : grpc.status.CANCELLED) : grpc.status.OK);
    const fail = (err: unknown) => {
      const st = toStatus(err, requestId, ctx.logger, { deadlineExceeded });
      st.metadata.set('x-request-id', requestId);
      finish(st.code);
      return st;
    };
    return { ctx, succeed, fail };
  }

  /** The metric series of a method and status code, resolved once. */
  private series(method: string, code: grpc.status): { total: Counter.Internal; seconds: Histogram.Internal<'method' | 'code'>; codeName: string } {
    const key = `${method} ${code}`;
    let s = this.seriesCache.get(key);
    if (!s) {
      const codeName = grpc.status[code] ?? String(code);
      s = {
        total: this.metrics.rpcTotal.labels({ method, code: codeName }),
        seconds: this.metrics.rpcSeconds.labels({ method, code: codeName }),
        codeName,
      };
      this.seriesCache.set(key, s);
    }
    return s;
  }

  private authorize(metadata: grpc.Metadata): void {
    if (!this.expectedAuth) return;
    const all = metadata.get('authorization');
    // several headers would leave which one counts up to each proxy on the way: refuse them all
    if (all.length > 1) throw new UnauthenticatedError(`${all.length} authorization headers; send exactly one "Bearer <token>"`);
    const given = all[0];
    const buf = Buffer.from(typeof given === 'string' ? given : '');
    if (buf.length !== this.expectedAuth.length || !timingSafeEqual(buf, this.expectedAuth)) {
      throw new UnauthenticatedError(given === undefined ? 'missing authorization metadata: expected "Bearer <token>"' : 'invalid bearer token');
    }
  }

  /** A unary handler. */
  unary<Req, Res>(method: string, fn: (req: Req, ctx: CallContext) => Promise<Res> | Res): grpc.handleUnaryCall<Req, Res> {
    return (call, callback) => {
      const { ctx, succeed, fail } = this.begin(method, call as AnyCall);
      Promise.resolve()
        .then(() => {
          this.authorize(call.metadata);
          return fn(call.request, ctx);
        })
        .then(
          (res) => {
            succeed();
            callback(null, res);
          },
          (err: unknown) => callback(fail(err)),
        );
    };
  }

  /** A server-streaming handler; `send` waits while the transport is congested. */
  serverStream<Req, Res>(
    method: string,
    fn: (req: Req, ctx: CallContext, send: (msg: Res) => Promise<void>) => Promise<void>,
  ): grpc.handleServerStreamingCall<Req, Res> {
    return (call) => {
      const { ctx, succeed, fail } = this.begin(method, call as AnyCall);
      const send = (msg: Res): Promise<void> => {
        if (ctx.signal.aborted) return Promise.resolve();
        if (call.write(msg)) return Promise.resolve();
        return new Promise((resolve) => {
          const done = () => {
            call.off('drain', done);
            ctx.signal.removeEventListener('abort', done);
            resolve();
          };
          call.on('drain', done);
          ctx.signal.addEventListener('abort', done, { once: true });
        });
      };
      Promise.resolve()
        .then(() => {
          this.authorize(call.metadata);
          return fn(call.request, ctx, send);
        })
        .then(
          () => {
            succeed();
            call.end();
          },
          (err: unknown) => call.emit('error', fail(err)),
        );
    };
  }
}
