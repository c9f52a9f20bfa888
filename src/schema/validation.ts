/**
 * Validation of a component's definition: version shape, duplicate numbers, gaps, and the SQL
 * features plugin schemas may not use.
 */
import type { ComponentType, SchemaVersion } from './types.js';
import { schemaError } from './errors.js';

/**
 * AUTOINCREMENT keeps its counter in `sqlite_sequence`, one table shared by every component. The
 * plugin sandbox denies plugins all access to it (a plugin that set `outbox`'s counter to
 * i64::MAX stopped every core write), so a plugin AUTOINCREMENT table could never be dropped
 * (DROP TABLE deletes its counter row): refused up front. Matching the word anywhere (even in a
 * string) errs on the safe side; the activation check tests the stored table SQL again.
 */
export const AUTOINCREMENT = /\bAUTOINCREMENT\b/i;

function isStringArray(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((s) => typeof s === 'string');
}

/** Returns the versions sorted and frozen, or throws `SCHEMA_INVALID` / `SCHEMA_VERSION_GAP`. */
export function validateVersions(component: string, versions: unknown, type: ComponentType = 'core'): SchemaVersion[] {
  if (!Array.isArray(versions) || versions.length === 0) {
    throw schemaError('SCHEMA_INVALID', `schema ${component}: versions must be a non-empty array`, {
      component,
      reason: 'no-versions',
    });
  }
  const out: SchemaVersion[] = [];
  for (const raw of versions as unknown[]) {
    const v = raw as Partial<SchemaVersion> | null;
    const where = `schema ${component} version ${JSON.stringify(v?.version)}`;
    if (!v || typeof v !== 'object') {
      throw schemaError('SCHEMA_INVALID', `schema ${component}: a version must be an object`, { component, reason: 'shape' });
    }
    if (typeof v.version !== 'number' || !Number.isSafeInteger(v.version) || v.version < 1) {
      throw schemaError('SCHEMA_INVALID', `${where}: version must be an integer >= 1`, { component, reason: 'version-number' });
    }
    if (typeof v.name !== 'string' || v.name.trim() === '') {
      throw schemaError('SCHEMA_INVALID', `${where}: name must be a non-empty string`, { component, version: v.version, reason: 'name' });
    }
    if (v.description !== undefined && typeof v.description !== 'string') {
      throw schemaError('SCHEMA_INVALID', `${where}: description must be a string`, { component, version: v.version, reason: 'description' });
    }
    if (!isStringArray(v.up) || v.up.length === 0 || v.up.some((s) => s.trim() === '')) {
      throw schemaError('SCHEMA_INVALID', `${where}: up must be a non-empty array of non-empty SQL statements`, {
        component,
        version: v.version,
        reason: 'up',
      });
    }
    if (!isStringArray(v.down) || v.down.some((s) => s.trim() === '')) {
      throw schemaError('SCHEMA_INVALID', `${where}: down must be an array of non-empty SQL statements ([] = irreversible)`, {
        component,
        version: v.version,
        reason: 'down',
      });
    }
    if (type === 'plugin' && v.up.some((s) => AUTOINCREMENT.test(s))) {
      throw schemaError('SCHEMA_INVALID', `${where}: plugin tables cannot use AUTOINCREMENT (sqlite_sequence is shared with the core): use INTEGER PRIMARY KEY`, {
        component,
        version: v.version,
        reason: 'autoincrement',
      });
    }
    out.push(
      Object.freeze({
        version: v.version,
        name: v.name,
        description: v.description ?? '',
        up: Object.freeze([...v.up]),
        down: Object.freeze([...v.down]),
      }),
    );
  }
  out.sort((a, b) => a.version - b.version);
  for (let i = 1; i < out.length; i++) {
    if (out[i]!.version === out[i - 1]!.version) {
      throw schemaError('SCHEMA_INVALID', `schema ${component}: version ${out[i]!.version} is defined twice`, {
        component,
        version: out[i]!.version,
        reason: 'duplicate-version',
      });
    }
  }
  const missing: number[] = [];
  let expect = 1;
  for (const v of out) {
    while (expect < v.version) missing.push(expect++);
    expect = v.version + 1;
  }
  if (missing.length > 0) {
    throw schemaError(
      'SCHEMA_VERSION_GAP',
      `schema ${component}: versions must be numbered 1..n without gaps; missing ${missing.join(', ')}`,
      { component, missing, versions: out.map((v) => v.version) },
    );
  }
  return out;
}

/** A version with statements in `up` but none in `down` cannot be undone. */
export function isIrreversible(v: SchemaVersion): boolean {
  return v.down.length === 0;
}
