import type { Command } from 'commander';
import type { MessageInitShape } from '@bufbuild/protobuf';
import { ConstraintKind, ExportFormat } from '@supernetd/client';
import type { ExportSubnetRequestSchema } from '@supernetd/client';
import { searchClient } from './search-client.ts';
import { EXIT_USAGE } from './search-command.ts';
import { UsageError, cliParser, parseCli } from './cli-parse.ts';

/** The `export` command's parser (values stay strings; parseExportArgs checks them). */
function exportParser(): Command {
  return cliParser('supernetd export')
    .usage('--server HOST:PORT --experiment ID (--subnet ID | --flops N | --params N) --out DIR')
    .description(
      "Fetches one subnet of an experiment as a TF.js layers model (model.json, weights.bin, arch.json), reassembling the ExportSubnet stream and checking every file's size and SHA-256, and writes the files into DIR (created if missing).",
    )
    .option('--server <host:port>', 'the supernetd server (plaintext)')
    .option('--token <token>', 'bearer token (default: $SUPERNETD_TOKEN)')
    .option('--experiment <id>', 'experiment id')
    .option('--subnet <id>', 'a subnet the experiment handed out (SampleSubnet)')
    .option('--flops <n>', "the strategy's deploy choice for this FLOPs budget (e.g. 5e6)")
    .option('--params <n>', "the strategy's deploy choice for this parameter budget")
    .option('--out <dir>', 'where to write the files');
}

/** `supernetd export --help`. */
export const EXPORT_USAGE = exportParser().helpInformation();

/** What `supernetd export` was asked for. */
export interface ExportOptions {
  server: string;
  token: string | undefined;
  experimentId: string;
  target: NonNullable<MessageInitShape<typeof ExportSubnetRequestSchema>['target']>;
  out: string;
}

function budget(flag: string, raw: string): number {
  const v = Number(raw);
  if (!Number.isFinite(v) || v <= 0) throw new UsageError(`--${flag} must be a positive number, got '${raw}'`);
  return v;
}

/** Parses the arguments after `export`; `help` when -h/--help. Throws UsageError. */
export function parseExportArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): ExportOptions | 'help' {
  const values = parseCli<{ server?: string; token?: string; experiment?: string; subnet?: string; flops?: string; params?: string; out?: string }>(exportParser(), argv);
  if (values === 'help') return 'help';
  if (!values.server) throw new UsageError('export needs --server HOST:PORT');
  if (!values.experiment) throw new UsageError('export needs --experiment ID');
  if (!values.out) throw new UsageError('export needs --out DIR');
  const chosen = [values.subnet, values.flops, values.params].filter((v) => v !== undefined);
  if (chosen.length !== 1) throw new UsageError('export needs exactly one of --subnet ID, --flops N, --params N');
  let target: ExportOptions['target'];
  if (values.subnet !== undefined) target = { case: 'subnetId', value: values.subnet };
  else if (values.flops !== undefined) target = { case: 'constraint', value: { kind: ConstraintKind.FLOPS, target: budget('flops', values.flops) } };
  else target = { case: 'constraint', value: { kind: ConstraintKind.PARAMS, target: budget('params', values.params!) } };
  return { server: values.server, token: values.token ?? (env.SUPERNETD_TOKEN || undefined), experimentId: values.experiment, target, out: values.out };
}

/**
 * Fetches the export (the client checks every file's size and SHA-256) and writes its files under
 * `opts.out`, refusing a path that would lead out of it; returns their paths.
 */
export async function runExport(opts: ExportOptions): Promise<string[]> {
  const api = searchClient(opts.server, opts.token);
  try {
    const exported = await api.exportSubnet({ experimentId: opts.experimentId, target: opts.target, format: ExportFormat.TFJS_LAYERS });
    return await exported.writeTo(opts.out);
  } finally {
    api.close();
  }
}

/** `supernetd export ...`: returns the exit code (0 written, 1 failed, 2 usage error). */
export async function runExportCommand(argv: string[], io: { stdout: { write(s: string): unknown }; stderr: { write(s: string): unknown } } = process): Promise<number> {
  let opts;
  try {
    opts = parseExportArgs(argv);
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr.write(`supernetd export: ${err.message}\n\n${EXPORT_USAGE}`);
      return EXIT_USAGE;
    }
    throw err;
  }
  if (opts === 'help') {
    io.stdout.write(EXPORT_USAGE);
    return 0;
  }
  try {
    const written = await runExport(opts);
    for (const f of written) io.stdout.write(`${f}\n`);
    return 0;
  } catch (err) {
    io.stderr.write(`supernetd export: ${(err as Error).message}\n`);
    return 1;
  }
}
