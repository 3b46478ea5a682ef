import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ExperimentSession } from '../experiments/experiment-session.ts';

/**
 * The server's Prometheus metrics: RPC counts and latencies by method and code, training steps,
 * per-experiment live tensors and bytes reported by the workers, live workers, idle evictions and
 * restarts of failed workers.
 */
export class ServerMetrics {
  readonly registry = new Registry();
  readonly rpcTotal: Counter<'method' | 'code'>;
  readonly rpcSeconds: Histogram<'method' | 'code'>;
  readonly trainingSteps: Counter<'experiment'>;
  readonly workerEvictions: Counter<'experiment'>;
  readonly workerRestarts: Counter<'experiment'>;
  private readonly tracked = new Map<string, ExperimentSession>();

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'supernetd_process_' });
    this.rpcTotal = new Counter({
      name: 'supernetd_rpc_total',
      help: 'RPCs handled, by method and status code.',
      labelNames: ['method', 'code'],
      registers: [this.registry],
    });
    this.rpcSeconds = new Histogram({
      name: 'supernetd_rpc_duration_seconds',
      help: 'RPC latency in seconds, by method and status code.',
      labelNames: ['method', 'code'],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120, 600],
      registers: [this.registry],
    });
    this.trainingSteps = new Counter({
      name: 'supernetd_training_steps_total',
      help: 'Optimisation steps taken, by experiment (rate() gives steps per second).',
      labelNames: ['experiment'],
      registers: [this.registry],
    });
    this.workerEvictions = new Counter({
      name: 'supernetd_worker_evictions_total',
      help: 'Experiment workers checkpointed and stopped after workerIdleSeconds without a call, by experiment.',
      labelNames: ['experiment'],
      registers: [this.registry],
    });
    this.workerRestarts = new Counter({
      name: 'supernetd_worker_restarts_total',
      help: 'Failed experiment workers replaced by a running one, restored from the last checkpoint (up to maxWorkerRestarts in a row), by experiment.',
      labelNames: ['experiment'],
      registers: [this.registry],
    });
    const tracked = this.tracked;
    new Gauge({
      name: 'supernetd_live_workers',
      help: 'Experiment worker threads running now (each holds its dataset, supernet and TensorFlow.js heap).',
      registers: [this.registry],
      collect() {
        let n = 0;
        for (const s of tracked.values()) if (s.workerRunning) n++;
        this.set(n);
      },
    });
    new Gauge({
      name: 'supernetd_experiment_step',
      help: 'Optimisation steps taken so far, by experiment.',
      labelNames: ['experiment'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const [id, s] of tracked) this.set({ experiment: id }, s.progress.step);
      },
    });
    new Gauge({
      name: 'supernetd_live_tensors',
      help: 'Live TensorFlow.js tensors in the experiment worker (absent while no worker runs).',
      labelNames: ['experiment'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const [id, s] of tracked) if (s.memory) this.set({ experiment: id }, s.memory.numTensors);
      },
    });
    new Gauge({
      name: 'supernetd_experiment_backend_info',
      help: "Backend and device of the experiment's engine (value 1), once its worker has started in this process.",
      labelNames: ['experiment', 'backend', 'device'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const [id, s] of tracked) if (s.device) this.set({ experiment: id, backend: s.progress.backend, device: s.device }, 1);
      },
    });
    new Gauge({
      name: 'supernetd_live_tensor_bytes',
      help: 'Bytes held by live TensorFlow.js tensors in the experiment worker.',
      labelNames: ['experiment'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const [id, s] of tracked) if (s.memory) this.set({ experiment: id }, s.memory.numBytes);
      },
    });
  }

  /**
   * The engine backend the server checked at startup, as an info gauge (value 1):
   * `supernetd_backend_info{preference, backend, device, tensorflow_version}`.
   */
  setBackend(b: { preference: string; backend: string; device: string; tensorflowVersion?: string | undefined }): void {
    const gauge = new Gauge({
      name: 'supernetd_backend_info',
      help: 'Engine backend chosen at startup (value 1): the configured preference, the backend, its device (CPU, or GPU: name) and the TensorFlow version of a native backend.',
      labelNames: ['preference', 'backend', 'device', 'tensorflow_version'],
      registers: [this.registry],
    });
    gauge.set({ preference: b.preference, backend: b.backend, device: b.device, tensorflow_version: b.tensorflowVersion ?? '' }, 1);
  }

  trackExperiment(s: ExperimentSession): void {
    this.tracked.set(s.id, s);
  }

  untrackExperiment(id: string): void {
    this.tracked.delete(id);
  }
}
