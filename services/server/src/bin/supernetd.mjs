#!/usr/bin/env node
// The `supernetd` command: registers the tsx loader (no build step), then runs a subcommand:
// `serve` (this package's CLI) or `search` (the @supernetd/search package, when it is installed;
// the container image ships the server only).
import { register } from 'tsx/esm/api';

register();
const [command] = process.argv.slice(2);
if (command === 'search') {
  let search;
  try {
    search = await import('@supernetd/search');
  } catch (err) {
    process.stderr.write(`supernetd: 'search' needs the @supernetd/search package (${err.message})\n`);
    process.exit(2);
  }
  process.exit(await search.runSearchCommand(process.argv.slice(3)));
} else {
  await import('../cli.ts');
}
