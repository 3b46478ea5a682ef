import type { Logger } from 'pino';
import { SupernetdError } from '@supernetd/sdk';
import type { ExperimentManager } from '../experiments/experiment-manager.ts';

/**
 * Trains the supernets of Katib experiments in the background: `kick(id, steps)` (called after each
 * GetSuggestions reply) starts one bounded round of at most `steps` training steps, never past the
 * experiment's `total_steps`, unless a round of that experiment is still running (then the kick is
 * dropped: at most one round runs per experiment, and a round is at most one call's worth of steps).
 * A round that cannot run (another client is training the experiment, the server is stopping) is
 * logged and dropped; the next call kicks again.
 */
export class KatibTrainer {
  private readonly running = new Map<string, Promise<void>>();
  private stopped = false;

  constructor(
    private readonly manager: ExperimentManager,
    private readonly logger: Logger,
  ) {}

  /** Starts a round of at most `steps` steps for experiment `id` unless one is running; returns at once. */
  kick(id: string, steps: number): void {
    if (this.stopped || steps <= 0 || this.running.has(id)) return;
    let view;
    try {
      view = this.manager.get(id);
    } catch {
      return;
    }
    const n = Math.min(steps, view.spec.training.totalSteps - view.step);
    if (n <= 0 || view.state === 'failed') return;
    const round = this.manager
      .train(id, { steps: n, progressInterval: n })
      .then(
        (r) => this.logger.info({ experiment: id, step: r.step, steps: n }, 'katib background training round done'),
        (err: unknown) => {
          const level = err instanceof SupernetdError && (err.code === 'ABORTED' || err.code === 'UNAVAILABLE') ? 'info' : 'warn';
          this.logger[level]({ err, experiment: id, steps: n }, 'katib background training round not run to the end');
        },
      )
      .finally(() => this.running.delete(id));
    this.running.set(id, round);
  }

  /** Starts no more rounds (the manager's shutdown stops the running ones at a step boundary). */
  halt(): void {
    this.stopped = true;
  }

  /** Resolves when the running rounds have ended. */
  async drained(): Promise<void> {
    await Promise.all(this.running.values());
  }
}
