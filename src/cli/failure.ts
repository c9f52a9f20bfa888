/**
 * How the command reports a failure: one line with the error `code` and message, one line
 * with the fix, and the matching exit code. Stack traces only with `AICO_DATA_DEBUG=1`, since
 * an end user can do nothing with one.
 */
import { AicoDataError, ERROR_HINTS, toAicoError, type AicoErrorCode } from '../errors.js';
import { EXIT, exitCodeFor, type ExitCode } from './exit-codes.js';

/** Ctrl-C at a prompt or during long work. */
export class Interrupted extends Error {
  constructor() {
    super('interrupted');
    this.name = 'Interrupted';
  }
}

/** A check (`doctor`) failed: the report was printed already, only the exit code remains. */
export class CheckFailed extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CheckFailed';
  }
}

/** Prints `e` to stderr and returns the exit code. */
export function reportFailure(e: unknown, write: (s: string) => void = (s) => process.stderr.write(s)): ExitCode {
  if (e instanceof Interrupted) {
    write('interrupted\n');
    return EXIT.INTERRUPTED;
  }
  if (e instanceof CheckFailed) {
    write(`${e.message}\n`);
    return EXIT.CHECK_FAILED;
  }
  const err = e instanceof AicoDataError ? e : toAicoError(e);
  write(`error ${err.code}: ${err.message}\nfix: ${cliFix(err)}\n`);
  if (process.env.AICO_DATA_DEBUG === '1' && e instanceof Error && e.stack) write(`${e.stack}\n`);
  return exitCodeFor(err.code);
}

/**
 * Code-level fixes worded for a command-line user where the API's would name an API call or
 * say too little (a throw site's own hint wins over these).
 */
export const CLI_HINTS: Partial<Record<AicoErrorCode, string>> = {
  INVALID_ARGUMENT: 'the message names the argument and what it accepts: see `aico-data <command> --help`',
  NOT_FOUND: 'check the id or name: `aico-data users` lists user ids, `aico-data plugins list` the plugins, `aico-data sync devices` the devices',
  CLOSED: 'run the command again',
  LOCKED: 'another process has this data folder open: close it (the app) and retry',
  EMBEDDING_MISMATCH: 'the vectors were made by another embedder: open the folder with that embedder in the app, or re-embed there (vectors.reembed)',
};

/** The fix printed for `err`: the throw site's CLI hint, its `details.fix`, its own hint, the CLI wording of its code. */
export function cliFix(err: AicoDataError): string {
  if (err.cliHint !== undefined) return err.cliHint;
  const hint = err.hint;
  if (hint !== ERROR_HINTS[err.code]) return hint;
  return CLI_HINTS[err.code] ?? hint;
}
