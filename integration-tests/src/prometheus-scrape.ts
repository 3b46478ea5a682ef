/** One sample of a Prometheus text exposition: metric name, labels and value. */
export interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** GETs `http://127.0.0.1:<port>/metrics` and parses the samples. Rejects on a non-200 answer. */
export async function scrapeMetrics(port: number): Promise<PromSample[]> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  if (res.status !== 200) throw new Error(`GET /metrics answered ${res.status}`);
  return parsePromText(await res.text());
}

/** Parses the sample lines of the Prometheus text format (comments and blank lines skipped). */
export function parsePromText(text: string): PromSample[] {
  const out: PromSample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

/** The value of `name` with label `experiment` = `experimentId`, or undefined when absent. */
export function experimentGauge(samples: PromSample[], name: string, experimentId: string): number | undefined {
  return samples.find((s) => s.name === name && s.labels['experiment'] === experimentId)?.value;
}
