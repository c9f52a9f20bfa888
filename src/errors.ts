/**
 * Errors of aico-data. Every failure the library reports is an {@link AicoDataError} with a
 * stable {@link AicoErrorCode}: match on `code`, never on `message`.
 *
 * Native errors arrive as `[CODE] message` and are converted once, at the boundary, by
 * {@link toAicoError}.
 */

/** Stable error codes. New codes may be added; existing ones never change meaning. */
export const ERROR_CODES = [
  'WRONG_PASSWORD',
  'CORRUPT',
  'SQL_ERROR',
  'CONSTRAINT',
  'BUSY',
  'INVALID_ARGUMENT',
  'CLOSED',
  'IO',
  'NOT_AUTHORIZED',
  'LOCKED',
  'NOT_FOUND',
  'MIGRATION_FAILED',
  'SCHEMA_DRIFT',
  'SCHEMA_CONFLICT',
  'SCHEMA_VERSION_GAP',
  'SCHEMA_INVALID',
  'SCHEMA_CYCLE',
  'SCHEMA_DEPENDENCY',
  'SCHEMA_TOO_NEW',
  'IRREVERSIBLE',
  'PLUGIN_INACTIVE',
  'SANDBOX_UNAVAILABLE',
  'UNAVAILABLE',
  'TIMEOUT',
  'CONFLICT',
  'EMBEDDING_MISMATCH',
  'MALFORMED_MESSAGE',
  'SYNC_UNTRUSTED',
  'SYNC_KEY_UNAVAILABLE',
  'SYNC_PAIRING_REJECTED',
  'SYNC_CLOCK_SKEW',
  'INTERNAL',
] as const;

export type AicoErrorCode = (typeof ERROR_CODES)[number];

const CODE_SET: ReadonlySet<string> = new Set(ERROR_CODES);

/** One-line hints printed by the CLI next to an error code. */
export const ERROR_HINTS: Record<AicoErrorCode, string> = {
  WRONG_PASSWORD: 'check the master password; nothing was changed',
  CORRUPT: 'a file is damaged or was altered: restore the data folder from a backup',
  SQL_ERROR: 'fix the SQL statement',
  CONSTRAINT: 'the write breaks a UNIQUE/NOT NULL/CHECK/FOREIGN KEY rule',
  BUSY: 'another writer held the database too long: retry, or raise busyTimeoutMs',
  INVALID_ARGUMENT: 'the message names the argument and what it accepts: pass a value of that form',
  CLOSED: 'the data layer was closed: open it again',
  IO: 'check the folder exists, is writable and the disk has space',
  NOT_AUTHORIZED: 'this operation is not allowed from SQL',
  LOCKED: 'another process has this data folder open',
  NOT_FOUND: 'check the id or name in the message: create the item first, or use one that exists',
  MIGRATION_FAILED: 'fix the named migration statement; nothing of that version was applied',
  SCHEMA_DRIFT: 'an applied schema version was edited: restore it or register a new version',
  SCHEMA_CONFLICT: 'two schemas or plugins claim the same name',
  SCHEMA_VERSION_GAP: 'number the versions of a component 1, 2, 3... without gaps',
  SCHEMA_INVALID: 'fix the schema definition named in the message',
  SCHEMA_CYCLE: 'remove the dependsOn cycle named in the message',
  SCHEMA_DEPENDENCY: 'register and apply the dependency first (core schemas cannot depend on plugins)',
  SCHEMA_TOO_NEW: 'the data folder was migrated by a newer aico-data: upgrade the package',
  IRREVERSIBLE: 'that version has no down statements: it cannot be rolled back',
  PLUGIN_INACTIVE: 'activate the plugin first',
  SANDBOX_UNAVAILABLE: 'the native plugin sandbox is missing: rebuild the addon',
  UNAVAILABLE: 'a server the layer depends on is down: see `aico-data doctor`',
  TIMEOUT: 'the operation took longer than its timeout',
  CONFLICT: 'a concurrent change conflicts with this one',
  EMBEDDING_MISMATCH: 'the embedder differs from the one the vectors were made with: use the same model or run vectors.reembed(newEmbedder)',
  MALFORMED_MESSAGE: 'a bus message was not a valid AICO envelope: it was dropped; fix its sender',
  SYNC_UNTRUSTED: 'the changeset comes from an unknown or revoked device, or its signature is wrong: pair the device first',
  SYNC_KEY_UNAVAILABLE: 'this device holds no sync key for the changeset (it was revoked, or the key has not reached it yet): pair again',
  SYNC_PAIRING_REJECTED: 'the pairing code or payload does not match: restart pairing and compare the codes on both devices',
  SYNC_CLOCK_SKEW: "a change is stamped more than 24 h ahead of this device's clock: it was kept aside, not applied; fix the clock of the device that made it",
  INTERNAL: 'a bug: please report it with the message',
};

/** The error type of every aico-data failure. */
export class AicoDataError extends Error {
  /** Stable machine-readable code. */
  readonly code: AicoErrorCode;
  /** Structured context (component, version, field...), never secrets. */
  readonly details?: Readonly<Record<string, unknown>>;

  /** The fix for a command-line user when it differs from {@link hint} (a CLI command instead of an API call). */
  readonly cliHint?: string;
  readonly #hint?: string;

  constructor(code: AicoErrorCode, message: string, details?: Record<string, unknown>, options?: AicoErrorOptions) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AicoDataError';
    this.code = code;
    if (details) this.details = details;
    // Set at the throw site, where the action that helps is known; the code's hint is the fallback.
    if (options?.hint !== undefined) this.#hint = options.hint;
    if (options?.cliHint !== undefined) this.cliHint = options.cliHint;
  }

  /** A one-line fix for humans: the throw site's, else `details.fix`, else the code's {@link ERROR_HINTS}. */
  get hint(): string {
    return this.#hint ?? (typeof this.details?.fix === 'string' ? this.details.fix : ERROR_HINTS[this.code]);
  }
}

/** Options of {@link AicoDataError}: the cause, and the fix for this very failure. */
export interface AicoErrorOptions {
  cause?: unknown;
  /** The action that fixes this failure for an API caller (defaults to the code's hint). */
  hint?: string;
  /** The same for a command-line user, naming `aico-data` commands (defaults to `hint`). */
  cliHint?: string;
}

/** Type guard, optionally for one code. */
export function isAicoError(e: unknown, code?: AicoErrorCode): e is AicoDataError {
  return e instanceof AicoDataError && (code === undefined || e.code === code);
}

const NATIVE_PREFIX = /^\[([A-Z_]+)\] ([\s\S]*)$/;

/** napi statuses raised while converting arguments (besides the `*Expected` family). */
const NAPI_ARGUMENT_STATUS: ReadonlySet<string> = new Set(['InvalidArg']);

/** Converts anything thrown by the native addon (or elsewhere) into an AicoDataError. */
export function toAicoError(e: unknown): AicoDataError {
  if (e instanceof AicoDataError) return e;
  if (e instanceof Error) {
    const m = NATIVE_PREFIX.exec(e.message);
    if (m && CODE_SET.has(m[1]!)) return new AicoDataError(m[1] as AicoErrorCode, m[2]!, undefined, { cause: e });
    const code = (e as { code?: unknown }).code;
    if (code === 'ENOENT' || code === 'EACCES' || code === 'EPERM' || code === 'EROFS' || code === 'ENOSPC' || code === 'ENOTDIR') {
      return new AicoDataError('IO', e.message, { errno: code }, { cause: e });
    }
    if (code === 'ECONNREFUSED' || code === 'ECONNRESET') {
      return new AicoDataError('UNAVAILABLE', e.message, { errno: code }, { cause: e });
    }
    // napi-rs could not convert a JS argument to the Rust type (`NumberExpected`, `StringExpected`...): a wrong argument type.
    if (typeof code === 'string' && (NAPI_ARGUMENT_STATUS.has(code) || /^[A-Z][a-z]+Expected$/.test(code))) {
      return new AicoDataError('INVALID_ARGUMENT', e.message, { napi: code }, { cause: e });
    }
    return new AicoDataError('INTERNAL', e.message, undefined, { cause: e });
  }
  return new AicoDataError('INTERNAL', String(e));
}

/** Shorthand for argument validation. */
export function invalidArgument(message: string, details?: Record<string, unknown>, hints?: Omit<AicoErrorOptions, 'cause'>): AicoDataError {
  return new AicoDataError('INVALID_ARGUMENT', message, details, hints);
}

/** Runs `fn`, converting whatever it throws. */
export function native<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw toAicoError(e);
  }
}

/** Awaits `p`, converting a rejection. */
export async function nativeAsync<T>(p: () => Promise<T>): Promise<T> {
  try {
    return await p();
  } catch (e) {
    throw toAicoError(e);
  }
}
