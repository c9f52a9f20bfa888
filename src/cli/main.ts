#!/usr/bin/env node
/**
 * Entry point of the `aico-data` command (package.json `bin`). Parses the command line,
 * runs one subcommand, and exits with a documented code (`exit-codes.ts`): errors print their
 * `code` and a one-line fix. Ctrl-C closes open stores before exiting.
 */
import { readFileSync } from 'node:fs';
import { CommanderError, type Command } from 'commander';
import { EXIT } from './exit-codes.js';
import { reportFailure } from './failure.js';

function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return '0.0.0';
  }
}

/**
 * The program, or, when the native addon does not load, a program with `doctor` only (the one
 * command that explains why); any other command then fails with `UNAVAILABLE`.
 */
async function loadProgram(version: string, argv: string[]): Promise<Command> {
  try {
    const { createProgram } = await import('./program.js');
    return createProgram(version);
  } catch (e) {
    const { baseProgram } = await import('./base-program.js');
    const { registerDoctor } = await import('./commands/doctor.js');
    const program = baseProgram(version);
    registerDoctor(program);
    if (!argv.includes('doctor') && !argv.some((a) => a === '--help' || a === '-h' || a === '--version' || a === '-V')) {
      const { AicoDataError } = await import('../errors.js');
      throw new AicoDataError('UNAVAILABLE', `the native addon does not load: ${(e as Error).message.split('\n')[0]}`, {
        fix: 'run `aico-data doctor`; from a clone, build it with `npm run build:native`',
      });
    }
    return program;
  }
}

async function main(argv: string[]): Promise<number> {
  let closeAll: (() => Promise<void>) | undefined;
  process.once('SIGINT', () => {
    process.stderr.write('\ninterrupted: closing the stores\n');
    void (closeAll?.() ?? Promise.resolve()).finally(() => process.exit(EXIT.INTERRUPTED));
  });
  try {
    const program = await loadProgram(packageVersion(), argv);
    ({ closeAll } = await import('./context.js').catch(() => ({ closeAll: undefined })));
    await program.parseAsync(argv, { from: 'user' });
    return EXIT.OK;
  } catch (e) {
    if (e instanceof CommanderError) {
      // Help and version end in a CommanderError too, with exit code 0.
      return e.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
    }
    return reportFailure(e);
  }
}

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
  // Everything is closed by now; should a stray handle keep the loop alive, do not hang.
  setTimeout(() => process.exit(code), 2000).unref();
});
