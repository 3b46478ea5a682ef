import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { create } from '@bufbuild/protobuf';
import type { MessageInitShape } from '@bufbuild/protobuf';
import type { GenService } from '@bufbuild/protobuf/codegenv2';
import * as grpc from '@grpc/grpc-js';
import {
  CreateExperimentRequestSchema,
  DeleteExperimentRequestSchema,
  EvaluateRequestSchema,
  ExportFormat,
  ExportSubnetRequestSchema,
  GetExperimentRequestSchema,
  ListExperimentsRequestSchema,
  ListMetricsRequestSchema,
  ListStrategiesRequestSchema,
  ReportMetricRequestSchema,
  SampleSubnetRequestSchema,
  SupernetService,
  TrainRequestSchema,
  TrainStepRequestSchema,
  makeGrpcClientConstructor,
} from './proto.ts';
import type {
  EvaluateResponse,
  Experiment,
  ExportSubnetResponse,
  GrpcClient,
  GrpcUnaryInvoker,
  MetricRecord,
  StrategyInfo,
  Subnet,
  TrainResponse,
  TrainStepResponse,
} from './proto.ts';
import { collectExport } from './exported-model.ts';
import type { ExportedModel } from './exported-model.ts';
import { DEFAULT_RETRY_POLICY, serviceConfig } from './retry-policy.ts';
import type { RetryPolicy } from './retry-policy.ts';
import { SupernetdError } from './supernetd-error.ts';

type ServiceMethods = typeof SupernetService extends GenService<infer S> ? S : never;
/** The generated grpc-js client of SupernetService. */
export type SupernetServiceStub = GrpcClient<ServiceMethods>;

/** Address used when neither the options nor SUPERNETD_ADDR name one. */
export const DEFAULT_ADDRESS = '127.0.0.1:50051';

/** How to reach a server. */
export interface SupernetdClientOptions {
  /** `host:port`; default `$SUPERNETD_ADDR` or 127.0.0.1:50051. */
  address?: string;
  /** Sent as `authorization: Bearer <token>`; default `$SUPERNETD_TOKEN`. */
  token?: string;
  /**
   * Connect over TLS; `rootCerts` (PEM) replaces the system roots. Default: TLS trusting the PEM
   * file `$SUPERNETD_TLS_CA` when that is set, else plaintext.
   */
  tls?: boolean | { rootCerts?: Buffer };
  /** Deadline of each call in milliseconds (default 120 000); `train` streams get none. */
  timeoutMs?: number;
  /** gRPC's retries of UNAVAILABLE, as the channel's service config (default DEFAULT_RETRY_POLICY). */
  retry?: RetryPolicy;
  /** Extra grpc-js channel options (interceptors, keepalive, ...). */
  channelOptions?: grpc.ClientOptions;
}

/** Per-call overrides. */
export interface CallOptions {
  /** Deadline of this call in milliseconds. */
  timeoutMs?: number;
  /** Aborting it cancels the call, which then rejects with CANCELLED (a `train` stream: the server stops after the current step). */
  signal?: AbortSignal;
}

/** Cancels `call` when `signal` aborts (at once if it already has); returns the listener's removal. */
function cancelOnAbort(call: { cancel(): void }, signal: AbortSignal | undefined): () => void {
  if (!signal) return () => {};
  const cancel = (): void => call.cancel();
  if (signal.aborted) cancel();
  else signal.addEventListener('abort', cancel, { once: true });
  return () => signal.removeEventListener('abort', cancel);
}

/** A fresh request id (a random UUID), as the client makes for each call that takes one and has none. */
export function newRequestId(): string {
  return randomUUID();
}

/**
 * Client of one supernetd server. Every call gets the default deadline. gRPC retries the
 * RETRIED_METHODS on UNAVAILABLE (the channel's service config); CreateExperiment,
 * DeleteExperiment, ReportMetric and TrainStep carry a request_id (a fresh UUID unless the caller
 * gives one, the same on every retry), so the server applies each at most once. Every failure
 * rejects with SupernetdError carrying the server's error details. `stub` is the generated grpc-js
 * client for anything not wrapped here.
 */
export class SupernetdClient {
  readonly address: string;
  readonly stub: SupernetServiceStub;
  private readonly metadata: grpc.Metadata;
  private readonly timeoutMs: number;

  constructor(options: SupernetdClientOptions = {}) {
    this.address = options.address ?? (process.env.SUPERNETD_ADDR || DEFAULT_ADDRESS);
    const token = options.token ?? process.env.SUPERNETD_TOKEN;
    this.metadata = new grpc.Metadata();
    if (token) this.metadata.set('authorization', `Bearer ${token}`);
    this.timeoutMs = options.timeoutMs ?? 120_000;
    const retry = options.retry ?? DEFAULT_RETRY_POLICY;
    const caFile = process.env.SUPERNETD_TLS_CA;
    const tls = options.tls ?? (caFile ? { rootCerts: readFileSync(caFile) } : false);
    const credentials = tls
      ? grpc.credentials.createSsl(typeof tls === 'object' ? (tls.rootCerts ?? null) : null)
      : grpc.credentials.createInsecure();
    const Client = makeGrpcClientConstructor(SupernetService);
    this.stub = new Client(this.address, credentials, {
      'grpc.max_receive_message_length': 64 * 1024 * 1024,
      'grpc.max_send_message_length': 64 * 1024 * 1024,
      'grpc.enable_retries': 1,
      'grpc.service_config': serviceConfig(retry),
      ...options.channelOptions,
    }) as SupernetServiceStub;
  }

  /** Closes the channel. */
  close(): void {
    this.stub.close();
  }

  private deadline(opts?: CallOptions): number {
    return Date.now() + (opts?.timeoutMs ?? this.timeoutMs);
  }

  /** One unary call under one deadline for all of gRPC's attempts. */
  private unary<I, O>(fn: GrpcUnaryInvoker<I, O>, req: I, opts?: CallOptions): Promise<O> {
    const deadline = this.deadline(opts);
    return new Promise<O>((res, rej) => {
      let release = (): void => {};
      const call = fn.call(this.stub, req, this.metadata.clone(), { deadline }, (err, out) => {
        release();
        if (err) rej(SupernetdError.from(err));
        else res(out as O);
      });
      release = cancelOnAbort(call, opts?.signal);
    });
  }

  /**
   * Creates an experiment; returns it with defaults filled in. `requestId` (default: a fresh UUID)
   * makes a repeat of this call return the same experiment instead of a second one.
   */
  async createExperiment(init: MessageInitShape<typeof CreateExperimentRequestSchema>, opts?: CallOptions): Promise<Experiment> {
    const req = create(CreateExperimentRequestSchema, { ...init, requestId: init.requestId || newRequestId() });
    const res = await this.unary(this.stub.createExperiment, req, opts);
    if (!res.experiment) throw new SupernetdError(grpc.status.INTERNAL, 0, '', 'CreateExperiment returned no experiment');
    return res.experiment;
  }

  /** Returns one experiment; rejects with NOT_FOUND / EXPERIMENT_NOT_FOUND if there is none. */
  async getExperiment(experimentId: string, opts?: CallOptions): Promise<Experiment> {
    const res = await this.unary(this.stub.getExperiment, create(GetExperimentRequestSchema, { experimentId }), opts);
    if (!res.experiment) throw new SupernetdError(grpc.status.INTERNAL, 0, '', 'GetExperiment returned no experiment');
    return res.experiment;
  }

  /** Returns every experiment, following pages. */
  async listExperiments(opts?: CallOptions): Promise<Experiment[]> {
    const out: Experiment[] = [];
    let pageToken = '';
    do {
      const page = await this.unary(this.stub.listExperiments, create(ListExperimentsRequestSchema, { pageToken }), opts);
      out.push(...page.experiments);
      pageToken = page.nextPageToken;
    } while (pageToken !== '');
    return out;
  }

  /** Deletes an experiment and everything stored for it (`requestId`: see createExperiment). */
  async deleteExperiment(experimentId: string, opts?: CallOptions & { requestId?: string }): Promise<void> {
    const req = create(DeleteExperimentRequestSchema, { experimentId, requestId: opts?.requestId || newRequestId() });
    await this.unary(this.stub.deleteExperiment, req, opts);
  }

  /** Returns the registered strategies. */
  async listStrategies(opts?: CallOptions): Promise<StrategyInfo[]> {
    return (await this.unary(this.stub.listStrategies, create(ListStrategiesRequestSchema, {}), opts)).strategies;
  }

  /** Asks the strategy for subnets that fit the request's constraint (any subnet when absent). */
  async sampleSubnet(init: MessageInitShape<typeof SampleSubnetRequestSchema>, opts?: CallOptions): Promise<Subnet[]> {
    return (await this.unary(this.stub.sampleSubnet, create(SampleSubnetRequestSchema, init), opts)).subnets;
  }

  /**
   * Stores a measurement durably; resolves to its sequence number in the metric log. `requestId`
   * (default: a fresh UUID) identifies the measurement: a repeat with the same id is answered with
   * the first sequence and stored once.
   */
  async reportMetric(init: MessageInitShape<typeof ReportMetricRequestSchema>, opts?: CallOptions): Promise<bigint> {
    const req = create(ReportMetricRequestSchema, { ...init, requestId: init.requestId || newRequestId() });
    return (await this.unary(this.stub.reportMetric, req, opts)).sequence;
  }

  /** Returns the experiment's metric log from `pageToken` (default: the start) to its end, following pages. */
  async listMetrics(init: MessageInitShape<typeof ListMetricsRequestSchema>, opts?: CallOptions): Promise<MetricRecord[]> {
    const out: MetricRecord[] = [];
    let pageToken = init.pageToken ?? '';
    do {
      const page = await this.unary(this.stub.listMetrics, create(ListMetricsRequestSchema, { ...init, pageToken }), opts);
      out.push(...page.records);
      pageToken = page.nextPageToken;
    } while (pageToken !== '');
    return out;
  }

  /**
   * One step on an inline batch (`input: { case: 'batch', value: makeBatch(...) }`) or `steps` steps.
   * `requestId` (default: a fresh UUID): a repeat returns the first response without training again.
   */
  trainStep(init: MessageInitShape<typeof TrainStepRequestSchema>, opts?: CallOptions): Promise<TrainStepResponse> {
    const req = create(TrainStepRequestSchema, { ...init, requestId: init.requestId || newRequestId() });
    return this.unary(this.stub.trainStep, req, opts);
  }

  /** Measures a subnet's accuracy and loss on the test split or an inline batch. */
  evaluate(init: MessageInitShape<typeof EvaluateRequestSchema>, opts?: CallOptions): Promise<EvaluateResponse> {
    return this.unary(this.stub.evaluate, create(EvaluateRequestSchema, init), opts);
  }

  /** Trains on the experiment's dataset, yielding progress events; not retried, no default deadline. */
  async *train(init: MessageInitShape<typeof TrainRequestSchema>, opts?: CallOptions): AsyncGenerator<TrainResponse> {
    const options = opts?.timeoutMs === undefined ? {} : { deadline: Date.now() + opts.timeoutMs };
    const stream = this.stub.train(create(TrainRequestSchema, init), this.metadata.clone(), options);
    const release = cancelOnAbort(stream, opts?.signal);
    try {
      for await (const event of stream) yield event as TrainResponse;
    } catch (err) {
      throw SupernetdError.from(err);
    } finally {
      release();
      stream.cancel();
    }
  }

  /**
   * Exports a subnet and collects the stream, checking every file's size and SHA-256 against the
   * header (rejects with Error when they disagree). gRPC retries it on UNAVAILABLE before its first
   * message.
   */
  async exportSubnet(init: MessageInitShape<typeof ExportSubnetRequestSchema>, opts?: CallOptions): Promise<ExportedModel> {
    const req = create(ExportSubnetRequestSchema, { format: ExportFormat.TFJS_LAYERS, ...init });
    const deadline = this.deadline(opts);
    const stream = this.stub.exportSubnet(req, this.metadata.clone(), { deadline });
    const release = cancelOnAbort(stream, opts?.signal);
    try {
      return await collectExport(stream as AsyncIterable<ExportSubnetResponse>);
    } catch (err) {
      throw typeof (err as { code?: unknown }).code === 'number' ? SupernetdError.from(err) : err;
    } finally {
      release();
      stream.cancel();
    }
  }
}
