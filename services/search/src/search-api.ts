import { createHash } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { create } from '@bufbuild/protobuf';
import type { MessageInitShape } from '@bufbuild/protobuf';
import {
  CreateExperimentRequestSchema,
  DeleteExperimentRequestSchema,
  EvaluateRequestSchema,
  ExportSubnetRequestSchema,
  GetExperimentRequestSchema,
  ListMetricsRequestSchema,
  ReportMetricRequestSchema,
  SampleSubnetRequestSchema,
  SupernetService,
  TrainRequestSchema,
  makeGrpcClientConstructor,
} from '@supernetd/api';
import type {
  CreateExperimentResponse,
  DeleteExperimentResponse,
  GetExperimentResponse,
  ListMetricsResponse,
  ReportMetricResponse,
  SampleSubnetResponse,
  EvaluateResponse,
  Experiment,
  ExportHeader,
  GrpcClient,
  MetricRecord,
  Subnet,
  TrainResponse,
} from '@supernetd/api';

/** A failed call: the gRPC status plus the server's ErrorReason name, when it sent one. */
export class ApiCallError extends Error {
  override readonly name = 'ApiCallError';

  constructor(
    readonly method: string,
    readonly code: grpc.status,
    readonly reason: string | undefined,
    details: string,
  ) {
    super(`${method}: ${grpc.status[code] ?? code}${reason ? ` (${reason})` : ''}: ${details}`);
  }
}

function toApiError(method: string, err: unknown): Error {
  const e = err as grpc.ServiceError;
  if (typeof e?.code !== 'number') return err instanceof Error ? err : new Error(String(err));
  const reason = e.metadata?.get('supernetd-error-reason')[0];
  return new ApiCallError(method, e.code, typeof reason === 'string' ? reason : undefined, e.details ?? e.message);
}

/** Files of one export, verified against the header's sizes and SHA-256 digests. */
export interface ExportedModel {
  header: ExportHeader;
  files: Map<string, Uint8Array>;
}

/** How a Train stream ended. */
export type TrainOutcome = 'done' | 'cancelled';

/**
 * The calls `supernetd search` makes, as promises, over one grpc-js channel to SupernetService.
 * Every method rejects with ApiCallError carrying the status code and the ErrorReason.
 */
export class SearchApi {
  private readonly client: GrpcClient<typeof SupernetService.method>;
  private readonly metadata = new grpc.Metadata();

  constructor(address: string, opts: { token?: string } = {}) {
    const Client = makeGrpcClientConstructor(SupernetService);
    this.client = new Client(address, grpc.credentials.createInsecure(), {
      'grpc.max_receive_message_length': 64 * 1024 * 1024,
      'grpc.max_send_message_length': 64 * 1024 * 1024,
    });
    if (opts.token) this.metadata.set('authorization', `Bearer ${opts.token}`);
  }

  close(): void {
    this.client.close();
  }

  private unary<Res>(name: string, start: (md: grpc.Metadata, cb: grpc.requestCallback<Res>) => grpc.ClientUnaryCall): Promise<Res> {
    return new Promise((resolve, reject) => {
      start(this.metadata, (err, res) => {
        if (err) reject(toApiError(name, err));
        else resolve(res as Res);
      });
    });
  }

  async createExperiment(init: MessageInitShape<typeof CreateExperimentRequestSchema>): Promise<Experiment> {
    const res = await this.unary<CreateExperimentResponse>('CreateExperiment', (md, cb) => this.client.createExperiment(create(CreateExperimentRequestSchema, init), md, cb));
    if (!res.experiment) throw new Error('CreateExperiment returned no experiment');
    return res.experiment;
  }

  async getExperiment(experimentId: string): Promise<Experiment> {
    const res = await this.unary<GetExperimentResponse>('GetExperiment', (md, cb) => this.client.getExperiment(create(GetExperimentRequestSchema, { experimentId }), md, cb));
    if (!res.experiment) throw new Error('GetExperiment returned no experiment');
    return res.experiment;
  }

  /** Stops the experiment's worker and deletes everything the server stored for it. */
  async deleteExperiment(experimentId: string): Promise<void> {
    await this.unary<DeleteExperimentResponse>('DeleteExperiment', (md, cb) =>
      this.client.deleteExperiment(create(DeleteExperimentRequestSchema, { experimentId }), md, cb),
    );
  }

  async sampleSubnet(init: MessageInitShape<typeof SampleSubnetRequestSchema>): Promise<Subnet[]> {
    const res = await this.unary<SampleSubnetResponse>('SampleSubnet', (md, cb) => this.client.sampleSubnet(create(SampleSubnetRequestSchema, init), md, cb));
    return res.subnets;
  }

  async reportMetric(init: MessageInitShape<typeof ReportMetricRequestSchema>): Promise<bigint> {
    const res = await this.unary<ReportMetricResponse>('ReportMetric', (md, cb) => this.client.reportMetric(create(ReportMetricRequestSchema, init), md, cb));
    return res.sequence;
  }

  async evaluate(init: MessageInitShape<typeof EvaluateRequestSchema>): Promise<EvaluateResponse> {
    return this.unary<EvaluateResponse>('Evaluate', (md, cb) => this.client.evaluate(create(EvaluateRequestSchema, init), md, cb));
  }

  /** The whole metric log, paging with `after_sequence`. */
  async listAllMetrics(experimentId: string): Promise<MetricRecord[]> {
    const out: MetricRecord[] = [];
    let after = 0n;
    for (;;) {
      const res = await this.unary<ListMetricsResponse>('ListMetrics', (md, cb) => this.client.listMetrics(create(ListMetricsRequestSchema, { experimentId, afterSequence: after, limit: 10000 }), md, cb));
      out.push(...res.records);
      if (res.records.length === 0) return out;
      after = res.records[res.records.length - 1]!.sequence;
    }
  }

  /**
   * Streams Train progress to `onEvent`. Aborting `signal` cancels the call: the server stops
   * after the current step and checkpoints; resolves `cancelled` then.
   */
  train(
    init: MessageInitShape<typeof TrainRequestSchema>,
    onEvent: (e: TrainResponse) => void,
    signal?: AbortSignal,
  ): Promise<TrainOutcome> {
    return new Promise((resolve, reject) => {
      const call = this.client.train(create(TrainRequestSchema, init), this.metadata);
      let cancelled = false;
      const onAbort = (): void => {
        cancelled = true;
        call.cancel();
      };
      if (signal?.aborted) onAbort();
      else signal?.addEventListener('abort', onAbort, { once: true });
      call.on('data', (e: TrainResponse) => {
        try {
          onEvent(e);
        } catch (err) {
          call.cancel();
          reject(err instanceof Error ? err : new Error(String(err)));
        }
      });
      call.on('error', (err: grpc.ServiceError) => {
        signal?.removeEventListener('abort', onAbort);
        if (cancelled && err.code === grpc.status.CANCELLED) resolve('cancelled');
        else reject(toApiError('Train', err));
      });
      call.on('end', () => {
        signal?.removeEventListener('abort', onAbort);
        resolve(cancelled ? 'cancelled' : 'done');
      });
    });
  }

  /** Runs ExportSubnet and collects the files, checking every size and SHA-256 the header announced. */
  exportSubnet(init: MessageInitShape<typeof ExportSubnetRequestSchema>): Promise<ExportedModel> {
    return new Promise((resolve, reject) => {
      const call = this.client.exportSubnet(create(ExportSubnetRequestSchema, init), this.metadata);
      let header: ExportHeader | undefined;
      const parts = new Map<string, { offset: number; data: Uint8Array }[]>();
      let failed = false;
      const fail = (err: Error): void => {
        if (failed) return;
        failed = true;
        call.cancel();
        reject(err);
      };
      call.on('data', (msg: { payload: { case: string | undefined; value?: unknown } }) => {
        if (msg.payload.case === 'header') {
          header = msg.payload.value as ExportHeader;
        } else if (msg.payload.case === 'chunk') {
          const chunk = msg.payload.value as { path: string; offset: bigint; data: Uint8Array };
          if (!header) return fail(new Error('ExportSubnet: a chunk arrived before the header'));
          const list = parts.get(chunk.path) ?? [];
          list.push({ offset: Number(chunk.offset), data: chunk.data });
          parts.set(chunk.path, list);
        }
      });
      call.on('error', (err) => fail(toApiError('ExportSubnet', err)));
      call.on('end', () => {
        if (failed) return;
        if (!header) return fail(new Error('ExportSubnet: the stream ended without a header'));
        const files = new Map<string, Uint8Array>();
        for (const f of header.files) {
          const size = Number(f.size);
          const buf = new Uint8Array(size);
          let filled = 0;
          for (const p of parts.get(f.path) ?? []) {
            if (p.offset + p.data.byteLength > size) return fail(new Error(`ExportSubnet: chunk of ${f.path} beyond its size ${size}`));
            buf.set(p.data, p.offset);
            filled += p.data.byteLength;
          }
          if (filled !== size) return fail(new Error(`ExportSubnet: ${f.path} got ${filled} of ${size} bytes`));
          const digest = createHash('sha256').update(buf).digest('hex');
          if (f.sha256 && digest !== f.sha256) return fail(new Error(`ExportSubnet: ${f.path} SHA-256 mismatch`));
          files.set(f.path, buf);
        }
        resolve({ header, files });
      });
    });
  }
}
