import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface, type Interface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import type { CaseSpec } from './net-spec.ts';

const SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'torch_bench.py');

function hasTorch(python: string): boolean {
  const r = spawnSync(python, ['-c', 'import torch'], { stdio: 'ignore' });
  return r.status === 0;
}

function run(cmd: string, args: string[]): boolean {
  console.log(`bench: ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'] });
  return r.status === 0;
}

/**
 * A Python interpreter that imports torch, installing PyTorch when none does: from PyPI with pip when
 * its wheel for this machine is CPU-only, else Debian's `python3-torch` with apt-get (PyPI's default
 * Linux wheel pulls gigabytes of CUDA libraries). Throws when neither works.
 */
export function ensureTorchPython(): string {
  const candidates = [process.env['BENCH_PYTHON'], 'python3', '/usr/bin/python3'].filter((p): p is string => !!p);
  for (const p of candidates) if (hasTorch(p)) return p;
  const dry = spawnSync('python3', ['-m', 'pip', 'install', '--dry-run', '--quiet', '--report', '-', 'torch'], { encoding: 'utf8' });
  if (dry.status === 0) {
    const names = (JSON.parse(dry.stdout) as { install: { metadata: { name: string } }[] }).install.map((i) => i.metadata.name);
    if (!names.some((n) => n.startsWith('nvidia'))) {
      if (run('python3', ['-m', 'pip', 'install', 'torch']) && hasTorch('python3')) return 'python3';
    } else {
      console.log('bench: PyPI torch for this machine pulls CUDA packages; using Debian python3-torch instead');
    }
  }
  if (run('apt-get', ['install', '-y', 'python3-torch']) && hasTorch('/usr/bin/python3')) return '/usr/bin/python3';
  throw new Error('bench: no PyTorch: neither `pip install torch` nor `apt-get install python3-torch` worked');
}

/** The PyTorch side of the benchmark, one long-lived process spoken to in JSON lines. */
export class TorchWorker {
  private readonly proc: ChildProcessWithoutNullStreams;
  private readonly lines: Interface;
  private readonly pending: ((line: string) => void)[] = [];
  private stderr = '';

  constructor(python: string) {
    this.proc = spawn(python, [SCRIPT], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.proc.stderr.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.lines = createInterface({ input: this.proc.stdout });
    this.lines.on('line', (line) => this.pending.shift()?.(line));
    this.proc.on('exit', (code) => {
      for (const p of this.pending.splice(0)) p(JSON.stringify({ error: `python exited ${code}: ${this.stderr.slice(-2000)}` }));
    });
  }

  private request<T>(msg: object): Promise<T> {
    return new Promise((resolve, reject) => {
      this.pending.push((line) => {
        const reply = JSON.parse(line) as T & { error?: string };
        if (reply.error !== undefined) reject(new Error(reply.error));
        else resolve(reply);
      });
      this.proc.stdin.write(JSON.stringify(msg) + '\n');
    });
  }

  hello(): Promise<{ torch: string; default_threads: number }> {
    return this.request({ cmd: 'hello' });
  }

  build(spec: CaseSpec): Promise<{ params: number }> {
    return this.request({ cmd: 'build', case: spec });
  }

  /** Per-step milliseconds of `steps` training steps on `threads` threads. */
  async run(steps: number, threads: number): Promise<number[]> {
    const r = await this.request<{ ms: number[] }>({ cmd: 'run', steps, threads });
    return r.ms;
  }

  /** GFLOP/s of the best of five n x n x n float32 GEMMs, run as 1x1 convolutions, on `threads` threads. */
  async gemm(n: number, threads: number): Promise<number> {
    const r = await this.request<{ gflops: number }>({ cmd: 'gemm', n, threads });
    return r.gflops;
  }

  close(): void {
    this.proc.stdin.end(JSON.stringify({ cmd: 'quit' }) + '\n');
  }
}
