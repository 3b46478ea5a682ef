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

/** A metric series of one method and status code. */
interface Series {
  total: Counter.Internal;
  seconds: Histogram.Internal<'method' | 'code'>;
  codeName: string;
}

const SCOPE = Symbol('supernetd.callScope');

/**
 * The one 'cancelled' listener of every call (the call is `this`): no closure is made per call.
 * grpc-js emits 'cancelled' on every call once its stream closes, also after a normal end: only a
 * cancellation before the status counts (aborting then would only make a DOMException).
 */
function onCallCancelled(this: AnyCall & { [SCOPE]?: CallScope }): void {
  this[SCOPE]?.cancel();
}

/**
 * What a call needs from its start to its status, and the CallContext its handler gets. Kept cheap
 * for the unary calls that do little else: one object per call, its methods on the prototype; the
 * request id, the child logger and the AbortController are made on first use only (an OK call at
 * the default log level uses none of them), and the metric series of a method are resolved once.
 */
class CallScope implements CallContext {
  private id: string | undefined;
  private controller: AbortController | undefined;
  private log: Logger | undefined;
  private cancelled = false;
  private deadlineExceeded = false;
  private finished = false;
  private readonly started = performance.now();

  constructor(
    private readonly runner: CallRunner,
    private readonly method: MethodSeries,
    private readonly call: AnyCall,
  ) {
    (call as AnyCall & { [SCOPE]?: CallScope })[SCOPE] = this;
    call.on('cancelled', onCallCancelled);
  }

  /** The caller's `x-request-id` (1 to 128 characters), else a new UUID; the same for the whole call. */
  get requestId(): string {
    if (this.id === undefined) {
      const given = this.call.metadata.get('x-request-id')[0];
      this.id = typeof given === 'string' && given.length > 0 && given.length <= 128 ? given : randomUUID();
    }
    return this.id;
  }

  get logger(): Logger {
    return (this.log ??= this.runner.logger.child({ requestId: this.requestId, method: this.method.name }));
  }

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.cancelled) this.controller.abort();
    }
    return this.controller.signal;
  }

  cancel(): void {
    if (this.finished || this.cancelled) return;
    const deadline = this.call.getDeadline();
    const ms = deadline instanceof Date ? deadline.getTime() : deadline;
    if (Number.isFinite(ms) && ms <= Date.now()) this.deadlineExceeded = true;
    this.cancelled = true;
    this.controller?.abort();
  }

  private finish(code: grpc.status): void {
    // (the 'cancelled' listener stays: grpc-js emits it once the stream closes, and it is ignored now)
    this.finished = true;
    const seconds = (performance.now() - this.started) / 1000;
    const series = this.method.of(code);
    series.total.inc();
    series.seconds.observe(seconds);
    if (code !== grpc.status.OK) this.logger.info({ code: series.codeName, ms: Math.round(seconds * 1000) }, 'rpc done');
    else if (this.runner.logger.isLevelEnabled('debug')) this.logger.debug({ code: series.codeName, ms: Math.round(seconds * 1000) }, 'rpc done');
  }

  /** The call ended without an error; one whose caller went away is recorded as such. */
  succeed(): void {
    this.finish(this.cancelled ? (this.deadlineExceeded ? grpc.status.DEADLINE_EXCEEDED : grpc.status.CANCELLED) : grpc.status.OK);
  }

  /** The status of a handler's error (errors/to-status.ts), recorded. */
  fail(err: unknown): ReturnType<typeof toStatus> {
    const st = toStatus(err, this.requestId, this.logger, { deadlineExceeded: this.deadlineExceeded });
    st.metadata.set('x-request-id', this.requestId);
    this.finish(st.code);
    return st;
  }
}

/** The metric series of one method, by status code, each resolved on first use. */
class MethodSeries {
  private readonly byCode: (Series | undefined)[] = [];

  constructor(
    readonly name: string,
    private readonly metrics: ServerMetrics,
  ) {}

  of(code: grpc.status): Series {
    let s = this.byCode[code];
    if (!s) {
      const codeName = grpc.status[code] ?? String(code);
      s = {
        total: this.metrics.rpcTotal.labels({ method: this.name, code: codeName }),
        seconds: this.metrics.rpcSeconds.labels({ method: this.name, code: codeName }),
        codeName,
      };
      this.byCode[code] = s;
    }
    return s;
  }
}

/**
 * Wraps handlers with what every SupernetService call needs: a request id and child logger,
 * bearer-token authentication, request validation (for SupernetService, the `buf.validate` rules:
 * request-validation.ts), cancellation/deadline signal, RPC metrics, and the single mapping of
 * thrown errors to statuses (errors/to-status.ts).
 */
export class CallRunner {
  private readonly expectedAuth: Buffer | undefined;

  constructor(
    authToken: string | undefined,
    readonly logger: Logger,
    private readonly metrics: ServerMetrics,
    /** Checks each request once authenticated, before its handler runs; throws to refuse it. */
    private readonly validate: (req: unknown) => void = () => {},
  ) {
    this.expectedAuth = authToken === undefined ? undefined : Buffer.from(`Bearer ${authToken}`);
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

  /**
   * A unary handler. Authentication, validation and the handler start at once, in grpc-js's call
   * (an error they throw is the call's status, as a rejection is); only a handler that returns a
   * promise is waited for, so a synchronous one answers without a trip through the microtask queue.
   */
  unary<Req, Res>(method: string, fn: (req: Req, ctx: CallContext) => Promise<Res> | Res): grpc.handleUnaryCall<Req, Res> {
    const series = new MethodSeries(method, this.metrics);
    return (call, callback) => {
      const scope = new CallScope(this, series, call as AnyCall);
      let res: Promise<Res> | Res;
      try {
        this.authorize(call.metadata);
        this.validate(call.request);
        res = fn(call.request, scope);
      } catch (err) {
        callback(scope.fail(err));
        return;
      }
      if (typeof (res as { then?: unknown } | undefined)?.then !== 'function') {
        scope.succeed();
        callback(null, res as Res);
        return;
      }
      Promise.resolve(res).then(
        (value) => {
          scope.succeed();
          callback(null, value);
        },
        (err: unknown) => callback(scope.fail(err)),
      );
    };
  }

  /** A server-streaming handler; `send` waits while the transport is congested. */
  serverStream<Req, Res>(
    method: string,
    fn: (req: Req, ctx: CallContext, send: (msg: Res) => Promise<void>) => Promise<void>,
  ): grpc.handleServerStreamingCall<Req, Res> {
    const series = new MethodSeries(method, this.metrics);
    return (call) => {
      const ctx = new CallScope(this, series, call as AnyCall);
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
          this.validate(call.request);
          return fn(call.request, ctx, send);
        })
        .then(
          () => {
            ctx.succeed();
            call.end();
          },
          (err: unknown) => call.emit('error', ctx.fail(err)),
        );
    };
  }
}
