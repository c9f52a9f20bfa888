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
 * writer, is prepared under the policy; it has execute/query/queryOne/exec/transaction) and
 * `SqlTransaction.sandboxed(policy)` (same, bound to the open transaction, so the migrator
 * can write its tracking rows unsandboxed in the same transaction). Authorization runs at
 * prepare time: statements prepared under a policy must bypass the shared prepared-statement
 * cache (or the policy must be part of the cache key). Rules while a policy is set, checked
 * with Python's sqlite3.set_authorizer against SQLite 3.40 (owned(x) = lower(x) starts with
 * prefix; existing deny rules for functions/pragmas/ATTACH still apply first):
 *  - READ / INSERT / UPDATE / DELETE (arg1 = table): allow iff owned(table) or table is
 *    `sqlite_sequence`; on `sqlite_master`/`sqlite_temp_master` allow only when allowDdl (SQLite
 *    reads and writes the catalog during DDL; the DDL action itself is checked below).
 *    Foreign-key parent lookups are READs too, so an FK to a core table fails at write time.
 *  - CREATE_[TEMP_]TABLE / VIEW, DROP_[TEMP_]TABLE / VIEW (arg1 = name): allowDdl and
 *    (owned(name) or name = 'sqlite_sequence', which AUTOINCREMENT creates).
 *  - CREATE_/DROP_[TEMP_]INDEX and _TRIGGER (arg1 = object, arg2 = table): allowDdl and
 *    owned(table) and (owned(object) or object starts with 'sqlite_autoindex_' + prefix).
 *  - ALTER_TABLE (arg2 = table): allowDdl and owned(table). (The new name of a RENAME is not
 *    shown to the authorizer: the catalog check below catches a rename out of the namespace.)
 *  - REINDEX (arg1 = index; CREATE INDEX issues one): allowDdl and owned.
 *  - CREATE_VTABLE / DROP_VTABLE (arg1 = table, arg2 = module): allowDdl, owned, module fts5.
 *  - PRAGMA: `data_version` allowed (FTS5 reads it); table_info / table_xinfo / index_list /
 *    index_info / index_xinfo / foreign_key_list allowed when arg2 is owned; all others denied.
 *  - TRANSACTION, SAVEPOINT, ATTACH, DETACH, ANALYZE: deny (the data layer owns transactions).
 *  - SELECT, FUNCTION (after the existing deny-list), RECURSIVE: allow.
 *  Denials surface as `NOT_AUTHORIZED`. Trigger bodies and views are authorized when a
 *  statement using them is prepared (the trigger/view name is in arg4), so a plugin trigger or
 *  view cannot reach outside the namespace when the plugin's SQL fires it.
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
