import { createHash } from 'node:crypto';
import path from 'node:path';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import type { DescMessage, MessageShape } from '@bufbuild/protobuf';
import type { Logger } from 'pino';
import { inject, injectable } from 'tsyringe';
import {
  CreateExperimentRequestSchema,
  CreateExperimentResponseSchema,
  DeleteExperimentRequestSchema,
  DeleteExperimentResponseSchema,
  EvaluateResponseSchema,
  ExperimentSchema,
  ExportFormat,
  ExportSubnetResponseSchema,
  GetExperimentResponseSchema,
  ListExperimentsResponseSchema,
  ListMetricsResponseSchema,
  MetricRecordSchema,
  ListStrategiesResponseSchema,
  ReportMetricRequestSchema,
  ReportMetricResponseSchema,
  SampleSubnetResponseSchema,
  TrainResponseSchema,
  TrainStepRequestSchema,
  TrainStepResponseSchema,
} from '@supernetd/api';
import { withEncodedBytes, withEncoding } from '@supernetd/api';
import type {
  CreateExperimentRequest,
  CreateExperimentResponse,
  DeleteExperimentRequest,
  DeleteExperimentResponse,
  EvaluateRequest,
  EvaluateResponse,
  ExportSubnetRequest,
  ExportSubnetResponse,
  GetExperimentRequest,
  GetExperimentResponse,
  GrpcServiceImpl,
  ListExperimentsRequest,
  ListExperimentsResponse,
  ListMetricsRequest,
  ListMetricsResponse,
  ListStrategiesResponse,
  ReportMetricRequest,
  ReportMetricResponse,
  SampleSubnetRequest,
  SampleSubnetResponse,
  SupernetService,
  TrainRequest,
  TrainResponse,
  TrainStepRequest,
  TrainStepResponse,
} from '@supernetd/api';
import { InvalidArgumentError } from '@supernetd/sdk';
import type { GenService, GenServiceMethods } from '@bufbuild/protobuf/codegenv2';
import { TOKENS } from '../tokens.ts';
import type { ServerConfig } from '../config.ts';
import type { ExperimentManager } from '../experiments/experiment-manager.ts';
import type { StrategyRegistry } from '../strategies/strategy-registry.ts';
import type { ServerMetrics } from '../observability/server-metrics.ts';
import type { ExperimentView, RequestKey } from '../domain/experiment-spec.ts';
import type { ExperimentSession } from '../experiments/experiment-session.ts';
import { IdempotentCalls, RecentRequests, REQUEST_ID_RETENTION, RequestLog, RequestLogs, checkRequestId, requestFingerprint } from '../experiments/idempotency.ts';
import type { Remembered } from '../experiments/idempotency.ts';
import type { RawBatchMessage, TrainProgress } from '../worker/protocol.ts';
import { CallRunner } from './call-runner.ts';
import { validateRequest } from './request-validation.ts';
import { encodeSampleSubnetResponse } from './subnet-encoding.ts';
import type { CallContext } from './call-runner.ts';
import {
  DEFAULT_MAX_SPEC_JSON_BYTES,
  batchFromProto,
  constraintFromProto,
  experimentToProto,
  metricToProto,
  purposeFromProto,
  specFromProto,
  subnetToProto,
  targetFromProto,
} from './converters.ts';

/**
 * Where a ListMetrics page starts and how long it may be: `page_token`/`page_size`, or the
 * deprecated `after_sequence`/`limit` (not mixed with them). Throws InvalidArgumentError.
 */
function metricsPage(req: ListMetricsRequest): { after: number; size: number } {
  const oldAfter = Number(req.afterSequence);
  const oldLimit = req.limit;
  if (req.pageToken !== '' && oldAfter !== 0) throw new InvalidArgumentError('page_token and the deprecated after_sequence are exclusive; send page_token only');
  if (req.pageSize !== 0 && oldLimit !== 0) throw new InvalidArgumentError('page_size and the deprecated limit are exclusive; send page_size only');
  let after = oldAfter;
  if (req.pageToken !== '') {
    const m = /^m(\d{1,15})$/.exec(Buffer.from(req.pageToken, 'base64url').toString('utf8'));
    if (!m || req.pageToken.length > 64) throw new InvalidArgumentError('page_token is not a token this server issued');
    after = Number(m[1]);
  }
  return { after, size: req.pageSize !== 0 ? req.pageSize : oldLimit };
}

type MethodsOf<T> = T extends GenService<infer S extends GenServiceMethods> ? S : never;
/** The grpc-js implementation type of SupernetService. */
export type SupernetServiceImpl = GrpcServiceImpl<MethodsOf<typeof SupernetService>>;

const DEFAULT_CHUNK = 1024 * 1024;

/** The view fields a GetExperiment response is made of, besides the spec. */
const VIEW_FIELDS = ['id', 'state', 'step', 'checkpointStep', 'lastLosses', 'metricCount', 'phase', 'error', 'createTime', 'updateTime', 'backend', 'device'] as const;

/** The SupernetService RPCs: proto in, domain calls on the ExperimentManager, proto out. */
@injectable()
export class SupernetServiceHandlers {
  private readonly runner: CallRunner;
  /** Request ids (AIP-155): each applied at most once; see experiments/idempotency.ts. */
  private readonly calls = new IdempotentCalls();
  /** TrainStep's ids with their responses, one log per experiment (`requests.jsonl`). */
  private readonly requestLogs: RequestLogs;
  /** DeleteExperiment's ids, server-wide (the experiment's own directory goes with it). */
  private readonly deleteLog: RequestLog;
  /** ReportMetric's ids per experiment, read from the metric log, where each id is stored with its metric. */
  private readonly metricRequests = new WeakMap<ExperimentSession, RecentRequests<number>>();

  constructor(
    @inject(TOKENS.Config) private readonly config: ServerConfig,
    @inject(TOKENS.ExperimentManager) private readonly manager: ExperimentManager,
    @inject(TOKENS.StrategyRegistry) private readonly registry: StrategyRegistry,
    @inject(TOKENS.ServerMetrics) metrics: ServerMetrics,
    @inject(TOKENS.Logger) logger: Logger,
  ) {
    this.runner = new CallRunner(config.authToken, logger, metrics, validateRequest);
    this.requestLogs = new RequestLogs(path.resolve(config.dataDir, 'experiments'));
    this.deleteLog = new RequestLog(path.resolve(config.dataDir, 'delete-requests.jsonl'));
  }

  /** The request's id and fingerprint, or undefined without one. Throws InvalidArgumentError for a bad id. */
  private requestKey<D extends DescMessage>(schema: D, req: MessageShape<D> & { requestId: string }): RequestKey | undefined {
    if (req.requestId === '') return undefined;
    checkRequestId(req.requestId);
    return { id: req.requestId, hash: requestFingerprint(schema, req) };
  }

  private metricRequestsOf(s: ExperimentSession): RecentRequests<number> {
    let recent = this.metricRequests.get(s);
    if (!recent) {
      recent = new RecentRequests<number>();
      for (const rec of s.metrics) if (rec.request) recent.remember(rec.request.id, { hash: rec.request.hash, time: Date.parse(rec.time), result: rec.sequence });
      this.metricRequests.set(s, recent);
    }
    return recent;
  }

  /** The experiment a CreateExperiment request id made, if it is still within the retention. */
  private createdBy(request: RequestKey): Remembered<ExperimentView> | undefined {
    for (const s of this.manager.all()) {
      const made = s.record.request;
      if (made?.id !== request.id) continue;
      const time = Date.parse(s.record.createTime);
      if (Date.now() - time > REQUEST_ID_RETENTION.ageMs) return undefined;
      return { hash: made.hash, time, result: this.manager.get(s.id) };
    }
    return undefined;
  }

  /** Bytes a list page may fill: well inside the message limit, whatever each entry holds. */
  private get pageBytes(): number {
    return Math.min(4 * 1024 * 1024, Math.floor(this.config.maxMessageBytes / 2));
  }

  /**
   * The last GetExperiment response of each experiment (by its spec object), encoded once: an
   * experiment that is not training answers the same bytes call after call, and encoding the
   * response (the whole spec) was most of the call's own time. A view that differs in any field
   * (compared by identity; the session replaces `lastLosses` rather than changing it) makes a new one.
   */
  private readonly getResponses = new WeakMap<ExperimentView['spec'], { view: ExperimentView; res: GetExperimentResponse }>();

  private getExperimentResponse(view: ExperimentView): GetExperimentResponse {
    const cached = this.getResponses.get(view.spec);
    if (cached && VIEW_FIELDS.every((f) => cached.view[f] === view[f])) return cached.res;
    const res = withEncoding(create(GetExperimentResponseSchema, { experiment: experimentToProto(view) }), GetExperimentResponseSchema);
    this.getResponses.set(view.spec, { view, res });
    return res;
  }

  private batch(b: Parameters<typeof batchFromProto>[0], field: string) {
    return batchFromProto(b, field, this.config.maxTensorElements);
  }

  /** One TrainStep call's work: an inline batch (one step) or `steps` steps on the dataset. */
  private async runTrainStep(req: TrainStepRequest, ctx: CallContext): Promise<TrainStepResponse> {
    const m = this.manager;
    let args: { steps: number; progressInterval: number; batch?: RawBatchMessage };
    let transfer: ArrayBuffer[] | undefined;
    if (req.input.case === 'batch') {
      const decoded = this.batch(req.input.value, 'batch');
      args = { steps: 1, progressInterval: 1, batch: decoded.batch };
      transfer = decoded.transfer;
    } else {
      const steps = req.input.case === 'steps' ? req.input.value : 0;
      if (steps <= 0) throw new InvalidArgumentError(`steps must be positive (or send a batch), got ${steps}`);
      args = { steps, progressInterval: steps };
    }
    const out = await m.train(req.experimentId, args, { signal: ctx.signal, ...(transfer ? { transfer } : {}) });
    return create(TrainStepResponseSchema, {
      step: BigInt(out.step),
      losses: out.losses,
      learningRate: out.learningRate,
      subnets: out.subnets.map(subnetToProto),
    });
  }

  /** The grpc-js implementation object: each RPC wired to its handler method below. */
  implementation(): SupernetServiceImpl {
    const r = this.runner;
    return {
      // lifecycle
      createExperiment: r.unary('CreateExperiment', (req) => this.createExperiment(req)),
      getExperiment: r.unary('GetExperiment', (req) => this.getExperiment(req)),
      listExperiments: r.unary('ListExperiments', (req) => this.listExperiments(req)),
      deleteExperiment: r.unary('DeleteExperiment', (req) => this.deleteExperiment(req)),
      listStrategies: r.unary('ListStrategies', () => this.listStrategies()),
      // sampling and metrics
      sampleSubnet: r.unary('SampleSubnet', (req) => this.sampleSubnet(req)),
      reportMetric: r.unary('ReportMetric', (req) => this.reportMetric(req)),
      listMetrics: r.unary('ListMetrics', (req) => this.listMetrics(req)),
      // training and evaluation
      trainStep: r.unary('TrainStep', (req, ctx) => this.trainStep(req, ctx)),
      train: r.serverStream('Train', (req, ctx, send) => this.train(req, ctx, send)),
      evaluate: r.unary('Evaluate', (req, ctx) => this.evaluate(req, ctx)),
      // export
      exportSubnet: r.serverStream('ExportSubnet', (req, ctx, send) => this.exportSubnet(req, ctx, send)),
    };
  }

  // ---- lifecycle ----

  private async createExperiment(req: CreateExperimentRequest): Promise<CreateExperimentResponse> {
    const m = this.manager;
    const spec = specFromProto(req.spec, Math.min(DEFAULT_MAX_SPEC_JSON_BYTES, Math.floor(this.config.maxMessageBytes / 4)));
    const request = this.requestKey(CreateExperimentRequestSchema, req);
    // a repeat answers with the experiment as it is now
    const view = await this.calls.run('CreateExperiment', '', request, (r) => this.createdBy(r), () => m.create(req.experimentId, spec, request));
    return create(CreateExperimentResponseSchema, { experiment: experimentToProto(view) });
  }

  /** Synchronous: the call runner answers without a trip through the microtask queue. */
  private getExperiment(req: GetExperimentRequest): GetExperimentResponse {
    return this.getExperimentResponse(this.manager.get(req.experimentId));
  }

  private listExperiments(req: ListExperimentsRequest): ListExperimentsResponse {
    const protos = new Map<string, ReturnType<typeof experimentToProto>>();
    const page = this.manager.list(req.pageSize, req.pageToken, {
      maxBytes: this.pageBytes,
      sizeOf: (v) => {
        const p = experimentToProto(v);
        protos.set(v.id, p);
        return toBinary(ExperimentSchema, p).byteLength;
      },
    });
    return create(ListExperimentsResponseSchema, {
      experiments: page.experiments.map((v) => protos.get(v.id) ?? experimentToProto(v)),
      nextPageToken: page.nextPageToken,
    });
  }

  private async deleteExperiment(req: DeleteExperimentRequest): Promise<DeleteExperimentResponse> {
    const m = this.manager;
    const request = this.requestKey(DeleteExperimentRequestSchema, req);
    const id = req.experimentId;
    // the log keeps the deleted experiment's createTime: written before the delete, so a repeat
    // after a crash in between finishes it, and never deletes a later experiment of the same id
    const createTimeOf = () => m.all().find((s) => s.id === id)?.record.createTime;
    const deleted = await this.calls.run(
      'DeleteExperiment',
      '',
      request,
      async (r) => (await this.deleteLog.recent()).get(r.id),
      async () => {
        const createTime = createTimeOf() ?? '';
        if (request) {
          // an unknown id is NOT_FOUND before anything is logged; one that failed to load is deleted
          m.requireStored(id);
          await this.deleteLog.append(request, Buffer.from(createTime));
        }
        await this.requestLogs.forget(id);
        await m.delete(id);
        return Buffer.from(createTime).toString('base64');
      },
    );
    const createTime = createTimeOf();
    if (request && createTime !== undefined && Buffer.from(createTime).toString('base64') === deleted) {
      await this.requestLogs.forget(id);
      await m.delete(id);
    }
    return create(DeleteExperimentResponseSchema, {});
  }

  private listStrategies(): ListStrategiesResponse {
    return create(ListStrategiesResponseSchema, {
      strategies: this.registry.list().map((s) => ({
        id: s.factory.id,
        description: s.factory.description,
        origin: s.origin,
        configSchemaJson: s.factory.configSchema === undefined ? '' : JSON.stringify(s.factory.configSchema),
      })),
    });
  }

  // ---- sampling and metrics ----

  private async sampleSubnet(req: SampleSubnetRequest): Promise<SampleSubnetResponse> {
    const m = this.manager;
    m.requireExperiment(req.experimentId);
    const subnets = await m.sample(req.experimentId, constraintFromProto(req.constraint), purposeFromProto(req.purpose), req.count);
    // nearly every call hands out a subnet never encoded before: encoded directly (same bytes), sent
    // with an empty message (the serializer sends the bytes; nothing reads the message's fields)
    const bytes = encodeSampleSubnetResponse(subnets);
    if (bytes !== undefined) return withEncodedBytes(create(SampleSubnetResponseSchema), bytes);
    return create(SampleSubnetResponseSchema, { subnets: subnets.map(subnetToProto) });
  }

  private async reportMetric(req: ReportMetricRequest): Promise<ReportMetricResponse> {
    const m = this.manager;
    const s = m.session(req.experimentId);
    const values = { ...req.metrics };
    const clientId = req.clientId;
    const request = this.requestKey(ReportMetricRequestSchema, req);
    const sequence = await this.calls.run(
      'ReportMetric',
      req.experimentId,
      request,
      (r) => this.metricRequestsOf(s).get(r.id),
      async () => {
        // the id is stored in the metric's own log line: durable together, never one without the other
        const seq = await m.reportMetric(req.experimentId, req.subnetId, values, clientId, request);
        if (request) this.metricRequestsOf(s).remember(request.id, { hash: request.hash, time: Date.now(), result: seq });
        return seq;
      },
    );
    return create(ReportMetricResponseSchema, { sequence: BigInt(sequence) });
  }

  private listMetrics(req: ListMetricsRequest): ListMetricsResponse {
    const m = this.manager;
    const { after, size } = metricsPage(req);
    // a page also ends at the byte budget; the next page starts after its last sequence
    const records = [];
    let bytes = 0;
    for (const rec of m.listMetrics(req.experimentId, after, size)) {
      const p = metricToProto(rec);
      const b = toBinary(MetricRecordSchema, p).byteLength + 8;
      if (records.length > 0 && bytes + b > this.pageBytes) break;
      records.push(p);
      bytes += b;
    }
    const last = records.length > 0 ? Number(records[records.length - 1]!.sequence) : after;
    const more = m.listMetrics(req.experimentId, last, 1).length > 0;
    return create(ListMetricsResponseSchema, { records, nextPageToken: more ? Buffer.from(`m${last}`, 'utf8').toString('base64url') : '' });
  }

  // ---- training and evaluation ----

  private async trainStep(req: TrainStepRequest, ctx: CallContext): Promise<TrainStepResponse> {
    this.manager.requireExperiment(req.experimentId);
    const request = this.requestKey(TrainStepRequestSchema, req);
    const log = this.requestLogs.of(req.experimentId);
    return this.calls.run(
      'TrainStep',
      req.experimentId,
      request,
      async (r) => {
        const e = (await log.recent()).get(r.id);
        return e && { ...e, result: fromBinary(TrainStepResponseSchema, Buffer.from(e.result, 'base64')) };
      },
      async () => {
        const res = await this.runTrainStep(req, ctx);
        // recorded once the step's result (and any checkpoint it wrote) is back
        if (request) await log.append(request, toBinary(TrainStepResponseSchema, res));
        return res;
      },
    );
  }

  private async train(req: TrainRequest, ctx: CallContext, send: (msg: TrainResponse) => Promise<void>): Promise<void> {
    const m = this.manager;
    m.requireExperiment(req.experimentId);
    let sending = Promise.resolve();
    const onProgress = (e: TrainProgress) => {
      const msg = create(TrainResponseSchema, {
        step: BigInt(e.step),
        targetStep: BigInt(e.targetStep),
        losses: e.losses,
        learningRate: e.learningRate,
        examplesPerSecond: e.examplesPerSecond,
        etaSeconds: e.etaSeconds,
        phase: e.phase,
        done: e.done,
        checkpointStep: BigInt(e.checkpointStep),
      });
      sending = sending.then(() => send(msg));
    };
    const out = await m.train(
      req.experimentId,
      { steps: req.steps, progressInterval: req.progressInterval === 0 ? 10 : req.progressInterval },
      { signal: ctx.signal, onProgress },
    );
    await sending;
    if (out.cancelled && ctx.signal.aborted) ctx.logger.info({ step: out.step }, 'training cancelled by the caller; checkpoint written');
  }

  private async evaluate(req: EvaluateRequest, ctx: CallContext): Promise<EvaluateResponse> {
    const m = this.manager;
    m.requireExperiment(req.experimentId);
    const target = targetFromProto(req.target);
    const decoded = req.batch ? this.batch(req.batch, 'batch') : undefined;
    const args: Parameters<ExperimentManager['evaluate']>[1] = { target, recalibrate: !req.skipBnRecalibration };
    if (req.maxExamples > 0) args.maxExamples = req.maxExamples;
    if (decoded) args.batch = decoded.batch;
    const out = await m.evaluate(req.experimentId, args, decoded?.transfer, ctx.signal);
    return create(EvaluateResponseSchema, {
      subnet: subnetToProto(out.subnet),
      accuracy: out.accuracy,
      loss: out.loss,
      examples: out.examples,
    });
  }

  // ---- export ----

  private async exportSubnet(req: ExportSubnetRequest, ctx: CallContext, send: (msg: ExportSubnetResponse) => Promise<void>): Promise<void> {
    const m = this.manager;
    m.requireExperiment(req.experimentId);
    const chunk = Math.min(req.chunkSize === 0 ? DEFAULT_CHUNK : req.chunkSize, this.config.maxMessageBytes - 1024);
    const out = await m.export(req.experimentId, targetFromProto(req.target), !req.skipBnRecalibration, ctx.signal);
    await send(
      create(ExportSubnetResponseSchema, {
        payload: {
          case: 'header',
          value: {
            subnet: subnetToProto(out.subnet),
            format: ExportFormat.TFJS_LAYERS,
            files: out.files.map((f) => ({
              path: f.path,
              size: BigInt(f.data.byteLength),
              sha256: createHash('sha256').update(f.data).digest('hex'),
            })),
          },
        },
      }),
    );
    for (const f of out.files) {
      for (let offset = 0; offset < f.data.byteLength || (offset === 0 && f.data.byteLength === 0); offset += chunk) {
        if (ctx.signal.aborted) return;
        await send(
          create(ExportSubnetResponseSchema, {
            payload: { case: 'chunk', value: { path: f.path, offset: BigInt(offset), data: f.data.subarray(offset, offset + chunk) } },
          }),
        );
        if (f.data.byteLength === 0) break;
      }
    }
  }
}
