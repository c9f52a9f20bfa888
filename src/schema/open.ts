/**
 * The entry point the data layer calls at open: `openSchemas(sql, options)` applies the core
 * schemas (and pending versions of active plugins) and returns the `SchemaManager` exposed as
 * `DataLayer.schemas`.
 *
 * Order of checks, all before anything is written: dependency graph (cycles, missing
 * dependencies), `SCHEMA_TOO_NEW` (a core component above the registered code),
 * `SCHEMA_DRIFT` (an applied version edited, unless accepted). Then, only if something is
 * pending, the migration lock is taken and the plan is recomputed under it, so that of several
 * processes opening at once exactly one migrates and the others wait, then see the result.
 */
import type { DriftAcceptance, MigrationResult, SchemaStore } from './types.js';
import { defaultRegistry, type SchemaRegistry } from './registry.js';
import { SchemaManager } from './manager.js';
import './core/index.js';

export interface SchemaOpenOptions {
  /** Registry to apply (default: `defaultRegistry`, which holds the core schemas). */
  readonly registry?: SchemaRegistry;
  /** Accept edited applied versions (recorded in the history as `accept_drift`). */
  readonly acceptDrift?: DriftAcceptance;
  /** How long to wait for another process's migration (default 120 s). */
  readonly lockTimeoutMs?: number;
  /** Migration lease, renewed by every version (default 30 s). */
  readonly lockLeaseMs?: number;
}

/** What `openSchemas` returns: the manager, plus what the open applied. */
export interface OpenedSchemas {
  readonly manager: SchemaManager;
  readonly applied: MigrationResult;
}

/**
 * Applies the core schemas to `sql` and returns the manager. Throws `SCHEMA_TOO_NEW`,
 * `SCHEMA_DRIFT`, `SCHEMA_CYCLE`, `SCHEMA_DEPENDENCY`, `MIGRATION_FAILED` or `TIMEOUT`.
 */
export async function openSchemas(sql: SchemaStore, options: SchemaOpenOptions = {}): Promise<SchemaManager> {
  return (await openSchemasDetailed(sql, options)).manager;
}

/** `openSchemas`, also returning what was applied. */
export async function openSchemasDetailed(sql: SchemaStore, options: SchemaOpenOptions = {}): Promise<OpenedSchemas> {
  const manager = new SchemaManager(sql, options.registry ?? defaultRegistry, {
    ...(options.lockTimeoutMs !== undefined ? { timeoutMs: options.lockTimeoutMs } : {}),
    ...(options.lockLeaseMs !== undefined ? { leaseMs: options.lockLeaseMs } : {}),
  });
  const applied = await manager.applyPending(options.acceptDrift !== undefined ? { acceptDrift: options.acceptDrift } : {});
  return { manager, applied };
}
