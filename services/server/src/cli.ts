// The `supernetd` command (commander): `serve` runs the server with the configuration of
// cli-config.ts and shuts it down gracefully (checkpoint, exit 0) on SIGTERM or SIGINT; `search`,
// `report` and `export` come from the @supernetd/runner package when it is installed (the
// container image ships the server only). Each subcommand parses its own options.
import { Command, CommanderError } from 'commander';
import { configFromArgs, serveHelp } from './cli-config.ts';
import { spaceFlopsRange, startInProcessServer, startServer } from './index.ts';

/** Exit code of a command-line mistake. */
const EXIT_USAGE = 2;

async function serve(argv: string[]): Promise<void> {
  let parsed: ReturnType<typeof configFromArgs>;
  try {
    parsed = configFromArgs(argv, process.env);
  } catch (err) {
    process.stderr.write(`supernetd: ${(err as Error).message}\n\n${serveHelp()}`);
    process.exit(EXIT_USAGE);
  }
  if (parsed.help) {
    process.stdout.write(serveHelp());
    return;
  }
  const server = await startServer(parsed.config);
  process.stdout.write(`supernetd listening on ${server.address}\n`);
  if (server.katibPort !== undefined) process.stdout.write(`supernetd katib suggestion service on port ${server.katibPort}\n`);
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    signals++;
    if (signals > 1) process.exit(130);
    process.stderr.write(`supernetd: ${sig} received, checkpointing and shutting down\n`);
    server.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`supernetd: shutdown failed: ${(err as Error).stack ?? String(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

/** What the runner package takes from this command, as it imports neither the server nor the engine. */
const SEARCH_HOST = { startServer: startInProcessServer, spaceFlopsRange };

interface SearchPackage {
  runSearchCommand(argv: string[], host: typeof SEARCH_HOST): Promise<number>;
  runExportCommand(argv: string[]): Promise<number>;
}

/** The @supernetd/runner package, or exit 2 naming the command that needs it. */
async function searchPackage(name: string): Promise<SearchPackage> {
  try {
    // a variable specifier: the server does not depend on the runner package
    const pkg = '@supernetd/runner';
    return (await import(pkg)) as SearchPackage;
  } catch (err) {
    process.stderr.write(`supernetd: '${name}' needs the @supernetd/runner package (${(err as Error).message})\n`);
    process.exit(EXIT_USAGE);
  }
}

/**
 * The top-level program: one entry per subcommand, each handing its arguments unparsed to that
 * command's own parser (which owns its options and `--help`).
 */
function program(): Command {
  const root = new Command('supernetd')
    .description('A gRPC service that trains a weight-sharing supernet and hands out subnets that fit a resource budget.')
    .helpOption('-h, --help', 'this text')
    .helpCommand(false)
    .showHelpAfterError()
    .exitOverride()
    .configureHelp({ subcommandTerm: (c) => `${c.name()} ${c.usage()}` })
    .addHelpText('after', "\nRun 'supernetd <command> --help' for a command's options.\n");
  const passThrough = (name: string, usage: string, description: string, run: (args: string[]) => Promise<void>) =>
    root
      .command(name)
      .usage(usage)
      .description(description)
      .helpOption(false)
      .allowUnknownOption()
      .allowExcessArguments()
      .argument('[args...]')
      .action(async (_args: string[], _opts: unknown, cmd: Command) => run(cmd.args));
  passThrough('serve', '[options]', 'run the gRPC server', (args) => serve(['serve', ...args]));
  passThrough('search', '[options]', 'train a supernet, export one subnet per budget, write a report', async (args) => {
    process.exit(await (await searchPackage('search')).runSearchCommand(args, SEARCH_HOST));
  });
  passThrough('report', '[options]', 'combined report (Pareto front) of several search runs: --runs D1,D2 --out D', async (args) => {
    process.exit(await (await searchPackage('report')).runSearchCommand(['report', ...args], SEARCH_HOST));
  });
  passThrough('export', '[options]', "write one subnet's TF.js files (model.json, weights.bin, arch.json) to a directory", async (args) => {
    process.exit(await (await searchPackage('export')).runExportCommand(args));
  });
  passThrough('trial', '[options]', "a Kubeflow Katib trial: evaluate one subnet's export, print name=value metrics (docs/katib.md)", async (args) => {
    // loaded on use: it brings TensorFlow.js into this process, which serve never does
    process.exit(await (await import('./katib/katib-trial.ts')).runTrialCommand(args));
  });
  return root;
}

async function main(argv: string[]): Promise<void> {
  const first = argv[0];
  // `supernetd --port 1 serve` and the like: the serve parser reads the whole argument list
  if (first !== undefined && first.startsWith('-') && first !== '-h' && first !== '--help') return serve(argv);
  const root = program();
  if (first === undefined) {
    process.stdout.write(root.helpInformation());
    return;
  }
  try {
    await root.parseAsync(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) process.exit(err.code === 'commander.helpDisplayed' ? 0 : EXIT_USAGE);
    throw err;
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`supernetd: ${(err as Error).message}\n`);
  process.exit(1);
});
