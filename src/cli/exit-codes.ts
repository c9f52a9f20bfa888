/**
 * Exit codes of the `aico-data` command. Stable: scripts may branch on them. Each
 * {@link AicoDataError} code maps to one exit code, so a script can tell "wrong password" from
 * "folder busy" without parsing text; the error's `code` is printed too.
 */
import type { AicoErrorCode } from '../errors.js';

/** Exit codes, in the order `--help` lists them. */
export const EXIT = {
  /** The command did what it was asked. */
  OK: 0,
  /** Any other failure (the printed `code` says which). */
  FAILURE: 1,
  /** Bad command line or argument (`INVALID_ARGUMENT`). */
  USAGE: 2,
  /** `WRONG_PASSWORD`: nothing was changed. */
  WRONG_PASSWORD: 3,
  /** `NOT_FOUND`: no data folder at `--dir`, or an unknown plugin, report or user. */
  NOT_FOUND: 4,
  /** `LOCKED`, `BUSY`, `TIMEOUT`, `CONFLICT`: another process holds the folder; retry later. */
  BUSY: 5,
  /** `CORRUPT`: a damaged or altered file (or a tampered backup). */
  CORRUPT: 6,
  /** `UNAVAILABLE`: a server or engine the command needs cannot run here (see `doctor`). */
  UNAVAILABLE: 7,
  /** A check failed: `doctor`, or `forget-user` found data left. */
  CHECK_FAILED: 8,
  /** A schema or migration error (`MIGRATION_FAILED`, `SCHEMA_*`, `IRREVERSIBLE`, `PLUGIN_INACTIVE`). */
  SCHEMA: 9,
  /** Interrupted (Ctrl-C). */
  INTERRUPTED: 130,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** The exit code for an error code. */
export function exitCodeFor(code: AicoErrorCode): ExitCode {
  switch (code) {
    case 'INVALID_ARGUMENT':
      return EXIT.USAGE;
    case 'WRONG_PASSWORD':
      return EXIT.WRONG_PASSWORD;
    case 'NOT_FOUND':
      return EXIT.NOT_FOUND;
    case 'LOCKED':
    case 'BUSY':
    case 'TIMEOUT':
    case 'CONFLICT':
      return EXIT.BUSY;
    case 'CORRUPT':
      return EXIT.CORRUPT;
    case 'UNAVAILABLE':
    case 'SANDBOX_UNAVAILABLE':
      return EXIT.UNAVAILABLE;
    case 'MIGRATION_FAILED':
    case 'SCHEMA_DRIFT':
    case 'SCHEMA_CONFLICT':
    case 'SCHEMA_VERSION_GAP':
    case 'SCHEMA_INVALID':
    case 'SCHEMA_CYCLE':
    case 'SCHEMA_DEPENDENCY':
    case 'SCHEMA_TOO_NEW':
    case 'IRREVERSIBLE':
    case 'PLUGIN_INACTIVE':
      return EXIT.SCHEMA;
    default:
      return EXIT.FAILURE;
  }
}

/** The exit-code table for `--help` and the README. */
export const EXIT_HELP = `Exit codes:
  0    ok
  1    failure (the printed code says which; e.g. IO, SQL_ERROR, INTERNAL)
  2    bad command line or argument (INVALID_ARGUMENT)
  3    WRONG_PASSWORD (nothing was changed)
  4    NOT_FOUND (no data folder at --dir: run \`aico-data init\`; unknown plugin, report or user)
  5    LOCKED, BUSY, TIMEOUT or CONFLICT (another process holds the folder: retry)
  6    CORRUPT (a damaged or altered file, or a tampered backup)
  7    UNAVAILABLE (a server or engine cannot run here: see \`aico-data doctor\`)
  8    a check failed (\`doctor\`, or \`forget-user\` found data left)
  9    schema or migration error (MIGRATION_FAILED, SCHEMA_*, IRREVERSIBLE, PLUGIN_INACTIVE)
  130  interrupted`;
