import { loadRun, writeCombinedReport } from './report.ts';
import { UsageError, parseSearchArgs, SEARCH_USAGE } from './search-args.ts';
import { EXIT_INTERRUPTED, runSearch } from './search-run.ts';
import type { SearchHost } from './search-run.ts';

/** Exit code for a command-line mistake. */
export const EXIT_USAGE = 2;

/**
 * `supernetd search ...`: parses `argv` (the arguments after `search`), runs a search or builds a
 * combined report, and returns the process exit code: 0 done, 1 failed, 2 usage error, 130
 * interrupted (Ctrl-C; the server checkpointed, `--resume` continues). The first Ctrl-C stops
 * training cleanly; a second one exits at once. `host` (from the `supernetd` command) starts the
 * in-process server when `--server` is not given and prices the space for the default budgets.
 */
export async function runSearchCommand(argv: string[], host: SearchHost): Promise<number> {
  let command;
  try {
    command = parseSearchArgs(argv);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`supernetd search: ${err.message}\n\n${SEARCH_USAGE}`);
      return EXIT_USAGE;
    }
    throw err;
  }
  if (command.kind === 'help') {
    process.stdout.write(command.text);
    return 0;
  }
  try {
    if (command.kind === 'report') {
      const runs = await Promise.all(command.runs.map((r) => loadRun(r)));
      await writeCombinedReport(runs, command.out);
      process.stdout.write(`report: ${command.out}/report.md\n`);
      return 0;
    }
    const controller = new AbortController();
    let interrupts = 0;
    const onSigint = (): void => {
      interrupts++;
      if (interrupts > 1) process.exit(EXIT_INTERRUPTED);
      process.stderr.write('\nstopping after the current step (Ctrl-C again to quit at once)...\n');
      controller.abort();
    };
    process.on('SIGINT', onSigint);
    try {
      return await runSearch(command.options, { stderr: process.stderr, stdout: process.stdout, signal: controller.signal }, host);
    } finally {
      process.off('SIGINT', onSigint);
    }
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`supernetd search: ${err.message}\n`);
      return EXIT_USAGE;
    }
    process.stderr.write(`supernetd search: ${(err as Error).message}\n`);
    return 1;
  }
}
