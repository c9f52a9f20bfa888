/**
 * Plugin isolation.
 *
 * Enforcement belongs to SQLite's authorizer, in the Rust core (the NATIVE HOOK, see below).
 * This module builds the policy, calls the hook when the store provides it, and adds a check
 * that needs no hook: after a plugin version has run (inside its transaction) the catalog
 * (`sqlite_master`, `sqlite_temp_master`) is compared with the one before, and any object
 * created, changed or dropped outside `plugin_<name>_*`, or a foreign key from a plugin table
 * to a table outside the namespace, fails the version (it is rolled back).
 *
 * NATIVE HOOK (requested from the Rust core): a per-connection sandbox policy
 * `{ prefix, allowDdl }` read by the existing authorizer callback, exposed as
 * `SqlStore.sandboxed(policy)` (every statement of the returned handle, on a reader or the
 * writer, is prepared under the policy) and `SqlTransaction.sandboxed(policy)` (same, bound to
 * the open transaction). Statements prepared under a policy must not come from, or go into,
 * the shared prepared-statement cache (authorization runs at prepare time). Rules while a
 * policy is set (names compared case-insensitively; `owned(x)` = x starts with prefix):
 *  - SQLITE_READ / INSERT / UPDATE / DELETE on table t: allow iff owned(t); also allow
 *    `sqlite_sequence`; allow writes to `sqlite_master`/`sqlite_temp_master` only when allowDdl
 *    (SQLite writes the catalog during DDL; the DDL action itself is checked separately).
 *  - CREATE_[TEMP_]TABLE/VIEW, DROP_[TEMP_]TABLE/VIEW (arg1 = name), CREATE_/DROP_[TEMP_]INDEX
 *    and _TRIGGER (arg1 = object, arg2 = table), ALTER_TABLE (arg2 = table), REINDEX,
 *    ANALYZE: allow iff allowDdl and every name given is owned.
 *  - CREATE_VTABLE / DROP_VTABLE (arg1 = table, arg2 = module): allow iff allowDdl, owned and
 *    module is `fts5`.
 *  - PRAGMA: deny, except table_info / table_xinfo / index_list / index_info / index_xinfo /
 *    foreign_key_list whose argument is owned.
 *  - TRANSACTION, SAVEPOINT, ATTACH, DETACH: deny (the data layer owns transactions).
 *  - FUNCTION: the existing deny-list; SELECT, RECURSIVE: allow.
 *  Denials surface as `NOT_AUTHORIZED`. Trigger bodies and views are checked when a statement
 *  using them is prepared, so a plugin trigger or view cannot reach outside the namespace.
 */
import type { PlanStep, SandboxPolicy, SchemaExecutor, SchemaStore, SchemaTransaction } from './types.js';
import { pluginPrefix } from './names.js';

export function pluginPolicy(plugin: string, allowDdl: boolean): SandboxPolicy {
  return Object.freeze({ prefix: pluginPrefix(plugin), allowDdl, label: `plugin ${plugin}` });
}

/** True when the store provides the native sandbox hook. */
export function hasSandbox(sql: SchemaStore): boolean {
  return typeof sql.sandboxed === 'function';
}

/** The executor a plugin step's statements run on: the sandboxed one when the hook exists. */
export function stepExecutor(tx: SchemaTransaction, step: PlanStep): SchemaExecutor {
  if (step.type !== 'plugin' || typeof tx.sandboxed !== 'function') return tx;
  return tx.sandboxed(pluginPolicy(step.component, true));
}

interface CatalogRow {
  readonly schema: string;
  readonly type: string;
  readonly name: string;
  readonly tbl_name: string;
  readonly sql: string | null;
}

export type Catalog = Map<string, CatalogRow>;

export async function snapshotCatalog(db: SchemaExecutor): Promise<Catalog> {
  const rows = await db.query<CatalogRow>(
    `SELECT 'main' AS schema, type, name, tbl_name, sql FROM sqlite_master
     UNION ALL SELECT 'temp' AS schema, type, name, tbl_name, sql FROM sqlite_temp_master`,
  );
  return new Map(rows.map((r) => [`${r.schema}.${r.type}.${r.name}`, r]));
}

function owned(row: CatalogRow, prefix: string): boolean {
  const name = row.name.toLowerCase();
  const table = row.tbl_name.toLowerCase();
  return table.startsWith(prefix) && (name.startsWith(prefix) || name.startsWith(`sqlite_autoindex_${prefix}`));
}

/**
 * Compares the catalog after a plugin step with the one before. Returns a description of the
 * first violation, or `null`.
 */
export async function catalogViolation(db: SchemaExecutor, before: Catalog, plugin: string): Promise<string | null> {
  const prefix = pluginPrefix(plugin);
  const after = await snapshotCatalog(db);
  for (const [key, row] of before) {
    const now = after.get(key);
    if (!now && !owned(row, prefix)) return `dropped ${row.type} ${row.name} outside the plugin namespace ${prefix}*`;
    if (now && now.sql !== row.sql && !owned(row, prefix)) return `altered ${row.type} ${row.name} outside the plugin namespace ${prefix}*`;
  }
  for (const [key, row] of after) {
    const old = before.get(key);
    if (old && old.sql === row.sql) continue;
    if (!owned(row, prefix)) return `created ${row.type} ${row.name} (on ${row.tbl_name}) outside the plugin namespace ${prefix}*`;
    if (row.type === 'table' && row.schema === 'main') {
      const fks = await db.query<{ table: string }>(`SELECT "table" FROM pragma_foreign_key_list(?)`, [row.name]);
      const outside = fks.find((fk) => !fk.table.toLowerCase().startsWith(prefix));
      if (outside) return `table ${row.name} references ${outside.table} outside the plugin namespace ${prefix}*`;
    }
  }
  return null;
}
