import { spawn } from 'node:child_process';
import { access } from 'node:fs/promises';
import { delimiter, join } from 'node:path';

/** Outcome of a finished command. */
export interface CommandResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** stdout and stderr interleaved as they arrived. */
  output: string;
  seconds: number;
}

/**
 * Runs `command args` in `cwd` with `env` added to this process's environment, collecting its
 * output; kills it with SIGKILL after `timeoutMs`. Never rejects for a non-zero exit.
 */
export function runCommand(
  command: string,
  args: string[],
  opts: { cwd: string; env?: Record<string, string>; timeoutMs?: number },
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const env: NodeJS.ProcessEnv = { ...process.env, ...opts.env };
    // Set by `node --test` for the files it runs; a nested `node --test` would otherwise report to
    // it in the runner's binary protocol instead of printing TAP.
    delete env['NODE_TEST_CONTEXT'];
    const child = spawn(command, args, { cwd: opts.cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => chunks.push(b));
    child.stderr.on('data', (b: Buffer) => chunks.push(b));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 300_000);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, output: Buffer.concat(chunks).toString('utf8'), seconds: (Date.now() - started) / 1000 });
    });
  });
}

/** Whether an executable named `name` is on PATH. */
export async function onPath(name: string): Promise<boolean> {
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    if (!dir) continue;
    try {
      await access(join(dir, name));
      return true;
    } catch {
      // not in this directory
    }
  }
  return false;
}
