// `supernetd search` as a standalone entry point until the main CLI dispatches to it:
//   node --import tsx services/search/src/cli.ts [flags]   (same flags as `supernetd search`)
import { runSearchCommand } from './search-command.ts';

process.exitCode = await runSearchCommand(process.argv.slice(2));
