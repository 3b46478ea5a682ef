// Command-line parsing of `search`, `search report` and `export` with commander: the parsers are
// built with cliParser(), and parseCli() turns commander's outcome into option values, 'help', or
// a UsageError (commander's own message without its "error: " prefix).
import { Command, CommanderError } from 'commander';

/** A command-line mistake; the message says which flag and why. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** A commander parser that throws instead of exiting or printing: parseCli reports for it. */
export function cliParser(name: string): Command {
  return new Command(name)
    .exitOverride()
    .configureOutput({ writeOut: () => undefined, writeErr: () => undefined })
    .helpOption('-h, --help', 'this text')
    .allowExcessArguments(false);
}

/**
 * Parses `argv` (the arguments after the command's name) with `cmd`. Returns the option values
 * (camelCase names, strings for valued options, true for switches), or 'help' when -h/--help was
 * given. Throws UsageError on an unknown option, a missing value or a stray argument.
 */
export function parseCli<T extends Record<string, string | boolean | undefined>>(cmd: Command, argv: readonly string[]): T | 'help' {
  try {
    cmd.parse([...argv], { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed') return 'help';
      throw new UsageError(err.message.replace(/^error: /, ''));
    }
    throw err;
  }
  return cmd.opts<T>();
}
