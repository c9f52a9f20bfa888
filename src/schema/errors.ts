/**
 * Error helpers of the schema layer. Codes the schema layer adds to `AicoErrorCode` are listed
 * in `SCHEMA_ERROR_CODES`; until `src/errors.ts` lists them all, they are cast here, once.
 */
import { AicoDataError, type AicoErrorCode } from '../errors.js';

export const SCHEMA_ERROR_CODES = [
  'SCHEMA_CONFLICT', // two components registered under one name
  'SCHEMA_VERSION_GAP', // versions not numbered 1..n
  'SCHEMA_INVALID', // malformed definition (duplicate version number, empty up, bad field...)
  'SCHEMA_CYCLE', // dependsOn cycle
  'SCHEMA_DEPENDENCY', // dependency missing, not applied, core depending on a plugin, dependents block a down
  'SCHEMA_DRIFT', // an applied version was edited
  'SCHEMA_TOO_NEW', // the database has a higher version than the registered code
  'MIGRATION_FAILED', // a statement failed; the version was rolled back
  'IRREVERSIBLE', // a down migration crosses a version without down statements
  'PLUGIN_INACTIVE', // pluginSql() of a plugin that is not active
  'SANDBOX_UNAVAILABLE', // the native authorizer hook is missing: plugin SQL refused (fail closed)
  'TIMEOUT', // waited too long for another process's migration lock
  'NOT_FOUND', // unknown component or plugin
] as const;

export type SchemaErrorCode = (typeof SCHEMA_ERROR_CODES)[number] | 'INVALID_ARGUMENT' | 'NOT_AUTHORIZED' | 'INTERNAL';

export function schemaError(
  code: SchemaErrorCode,
  message: string,
  details?: Record<string, unknown>,
  cause?: unknown,
): AicoDataError {
  return new AicoDataError(code as AicoErrorCode, message, details, cause === undefined ? undefined : { cause });
}

/** The `code` of anything thrown (AicoDataError or a native error carrying one). */
export function errorCode(e: unknown): string | undefined {
  if (e && typeof e === 'object' && 'code' in e && typeof (e as { code: unknown }).code === 'string') {
    return (e as { code: string }).code;
  }
  if (e instanceof Error) {
    const m = /^\[([A-Z_]+)\]/.exec(e.message);
    if (m) return m[1];
  }
  return undefined;
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
