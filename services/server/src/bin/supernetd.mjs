#!/usr/bin/env node
// The `supernetd` command: registers the tsx loader (no build step), then runs a subcommand:
// `serve` (this package's CLI), or `search`, `report` and `export` (the @supernetd/search package,
// when it is installed; the container image ships the server only).
import { register } from 'tsx/esm/api';

const USAGE = `Usage: supernetd <command> [options]

Commands:
  serve     run the gRPC server                       supernetd serve --help
  search    train a supernet, export one subnet per budget, write a report
                                                      supernetd search --help
  report    combined report (Pareto front) of several search runs
                                                      supernetd report --runs D1,D2 --out D
  export    write one subnet's TF.js files to a directory
                                                      supernetd export --server HOST:PORT --experiment ID
                                                        (--subnet ID | --flops N | --params N) --out DIR

Run 'supernetd <command> --help' for a command's options.
`;

register();
const [command, ...rest] = process.argv.slice(2);

/** The @supernetd/search package, or exit 2 naming the command that needs it. */
async function searchPackage(name) {
  try {
    return await import('@supernetd/search');
  } catch (err) {
    process.stderr.write(`supernetd: '${name}' needs the @supernetd/search package (${err.message})\n`);
    process.exit(2);
  }
}

if (command === undefined || command === '-h' || command === '--help' || command === 'help') {
  process.stdout.write(USAGE);
} else if (command === 'search') {
  process.exit(await (await searchPackage('search')).runSearchCommand(rest));
} else if (command === 'report') {
  process.exit(await (await searchPackage('report')).runSearchCommand(['report', ...rest]));
} else if (command === 'export') {
  process.exit(await (await searchPackage('export')).runExportCommand(rest));
} else if (command === 'serve' || command.startsWith('-')) {
  // `supernetd --port 1 serve` and the like: cli.ts reads the whole argument list
  await import('../cli.ts');
} else {
  process.stderr.write(`supernetd: unknown command '${command}'\n\n${USAGE}`);
  process.exit(2);
}
