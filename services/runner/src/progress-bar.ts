import { SingleBar } from 'cli-progress';

/** Where progress goes: stderr, or anything with the same shape. */
export interface ProgressSink {
  write(chunk: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

/** One progress observation. */
export interface ProgressUpdate {
  step: number;
  targetStep: number;
  /** Losses of the last step, by name. */
  losses: Readonly<Record<string, number>>;
  /** Training steps per second over the recent past; undefined when not known yet. */
  stepsPerSecond?: number;
  /** Seconds until targetStep; undefined when not known yet. */
  etaSeconds?: number;
  phase?: string;
}

/** `1h02m`, `4m05s`, `12s`; `?` for unknown or non-finite values. */
export function formatDuration(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  if (h > 0) return `${h}h${String(m).padStart(2, '0')}m`;
  if (m > 0) return `${m}m${String(r).padStart(2, '0')}s`;
  return `${r}s`;
}

/** The loss shown on the bar: `total` when the strategy reports one, else the mean of all losses. */
export function headlineLoss(losses: Readonly<Record<string, number>>): number | undefined {
  if (losses.total !== undefined && Number.isFinite(losses.total)) return losses.total;
  const vals = Object.values(losses).filter((v) => Number.isFinite(v));
  return vals.length > 0 ? vals.reduce((a, b) => a + b, 0) / vals.length : undefined;
}

/**
 * One plain progress line for logs and CI (no bar: nothing is redrawn there): step/total with the
 * percentage, loss, steps/s, the ETA given (the server's) and the phase when it is not `train`.
 */
export function formatProgressLine(u: ProgressUpdate): string {
  const total = Math.max(1, u.targetStep);
  const frac = Math.min(1, Math.max(0, u.step / total));
  const loss = headlineLoss(u.losses);
  const parts = [
    `step ${u.step}/${u.targetStep} (${Math.floor(frac * 100)}%)`,
    `loss ${loss === undefined ? '?' : loss.toFixed(4)}`,
    `${u.stepsPerSecond === undefined || !Number.isFinite(u.stepsPerSecond) ? '?' : u.stepsPerSecond.toFixed(2)} steps/s`,
    `ETA ${formatDuration(u.etaSeconds)}`,
  ];
  if (u.phase && u.phase !== 'train') parts.push(u.phase);
  return parts.join('  ');
}

/** The TTY bar's layout (cli-progress tokens; `loss`, `rate`, `eta` and `phase` come from the update). */
const TTY_FORMAT = '[{bar}] {value}/{total} {percentage}%  loss {loss}  {rate} steps/s  ETA {eta_text}{phase}';

/** cli-progress payload of one update: the texts `TTY_FORMAT` shows besides the counts. */
function payloadOf(u: ProgressUpdate): Record<string, string> {
  const loss = headlineLoss(u.losses);
  return {
    loss: loss === undefined ? '?' : loss.toFixed(4),
    rate: u.stepsPerSecond === undefined || !Number.isFinite(u.stepsPerSecond) ? '?' : u.stepsPerSecond.toFixed(2),
    // the ETA the caller got from the server's progress stream; cli-progress's own estimate is not used
    eta_text: formatDuration(u.etaSeconds),
    phase: u.phase && u.phase !== 'train' ? `  ${u.phase}` : '',
  };
}

/**
 * Renders training progress: on a TTY a cli-progress bar redrawn in place (throttled by the
 * library); elsewhere (logs, CI) one plain line (formatProgressLine) every `everySteps` steps and on
 * the last update, so logs stay readable (cli-progress's own non-TTY output, `noTTYOutput`, is paced
 * by time, `notTTYSchedule`, not by steps, and prints the bar each time).
 */
export class ProgressBar {
  private lastPrintedStep = -Infinity;
  private bar: SingleBar | undefined;

  constructor(
    private readonly sink: ProgressSink,
    private readonly everySteps = 50,
  ) {}

  /** Shows `u` (redraw on a TTY; a new line when due otherwise). */
  update(u: ProgressUpdate): void {
    if (this.sink.isTTY) {
      const total = Math.max(1, u.targetStep);
      if (this.bar === undefined) {
        this.bar = new SingleBar({
          stream: this.sink as unknown as NodeJS.WritableStream,
          format: TTY_FORMAT,
          barCompleteChar: '#',
          barIncompleteChar: '.',
          barsize: 30,
          hideCursor: false,
          gracefulExit: false,
          clearOnComplete: false,
        });
        this.bar.start(total, u.step, payloadOf(u));
        return;
      }
      if (this.bar.getTotal() !== total) this.bar.setTotal(total);
      this.bar.update(u.step, payloadOf(u));
      return;
    }
    if (u.step - this.lastPrintedStep >= this.everySteps || u.step >= u.targetStep) {
      this.sink.write(`${formatProgressLine(u)}\n`);
      this.lastPrintedStep = u.step;
    }
  }

  /** Draws the bar a last time and ends its line, so later output starts on a fresh line. */
  finish(): void {
    this.bar?.stop();
    this.bar = undefined;
  }

  /**
   * Prints a message without garbling the bar: on a TTY the bar ends where it stands (its line
   * stays) and a new one starts below the message at the next update.
   */
  log(message: string): void {
    this.finish();
    this.sink.write(`${message}\n`);
  }
}

/**
 * Steps per second and ETA from (time, step) observations over a sliding window, so a slow start
 * (dataset load, first compile) does not skew the estimate for long.
 */
export class RateEstimator {
  private readonly samples: { t: number; step: number }[] = [];

  constructor(private readonly window = 8) {}

  /** Records that `step` was reached at `timeMs`; returns the current rate and ETA to `target`. */
  observe(timeMs: number, step: number, target: number): { stepsPerSecond?: number; etaSeconds?: number } {
    this.samples.push({ t: timeMs, step });
    while (this.samples.length > this.window) this.samples.shift();
    const first = this.samples[0]!;
    const dt = (timeMs - first.t) / 1000;
    const ds = step - first.step;
    if (dt <= 0 || ds <= 0) return {};
    const rate = ds / dt;
    return { stepsPerSecond: rate, etaSeconds: Math.max(0, target - step) / rate };
  }
}
