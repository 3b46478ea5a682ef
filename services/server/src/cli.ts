// `supernetd serve`: starts the server with the configuration of cli-config.ts and shuts it down
// gracefully (checkpoint, exit 0) on SIGTERM or SIGINT.
import { HELP, configFromArgs } from './cli-config.ts';
import { startServer } from './index.ts';

async function main(): Promise<void> {
  let parsed: ReturnType<typeof configFromArgs>;
  try {
    parsed = configFromArgs(process.argv.slice(2), process.env);
  } catch (err) {
    process.stderr.write(`supernetd: ${(err as Error).message}\n\n${HELP}`);
    process.exit(2);
  }
  if (parsed.help) {
    process.stdout.write(HELP);
    return;
  }
  const server = await startServer(parsed.config);
  process.stdout.write(`supernetd listening on ${server.address}\n`);
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

main().catch((err: unknown) => {
  process.stderr.write(`supernetd: ${(err as Error).message}\n`);
  process.exit(1);
});
