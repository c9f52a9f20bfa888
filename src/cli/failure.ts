/**
 * How the command reports a failure: one line with the error `code` and message, one line
 * with the fix, and the matching exit code. Stack traces only with `AICO_DATA_DEBUG=1`, since
 * an end user can do nothing with one.
 */
import { AicoDataError, toAicoError } from '../errors.js';
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
  const fix = typeof err.details?.fix === 'string' ? err.details.fix : err.hint;
  write(`error ${err.code}: ${err.message}\nfix: ${fix}\n`);
  if (process.env.AICO_DATA_DEBUG === '1' && e instanceof Error && e.stack) write(`${e.stack}\n`);
  return exitCodeFor(err.code);
}
