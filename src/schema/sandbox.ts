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
 *  - READ / INSERT / UPDATE / DELETE (arg1 = table): allow iff owned(table) (never
 *    `sqlite_sequence`); on `sqlite_master`/`sqlite_temp_master` allow only when allowDdl (SQLite
 *    reads and writes the catalog during DDL; the DDL action itself is checked below).
 *    Foreign-key parent lookups are READs too, so an FK to a core table fails at write time.
 *  - CREATE_[TEMP_]TABLE / VIEW, DROP_[TEMP_]TABLE / VIEW (arg1 = name): allowDdl and
 *    owned(name).
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
 *  Denials surface as `NOT_AUTHORIZED`. `sqlite_sequence` is never reachable (it is shared with
 *  the core), so plugin tables may not use AUTOINCREMENT (`SCHEMA_INVALID` at registration).
 *
 * Trigger and view bodies are not resolved when they are created; SQLite authorizes them when
 * a statement that fires or reads them is prepared, naming the inner-most trigger/view in arg4.
 * The Rust authorizer applies the owning plugin's DML policy to every access with a
 * `plugin_<name>_*` arg4, on every connection: a plugin trigger fired by a host write keeps the
 * plugin's rights (without this, one copied `messages` into the plugin's table). On top of that,
 * activation compiles (EXPLAIN, nothing runs) the statements that fire each new trigger and read
 * each new view under the plugin's policy, so a body reaching outside the namespace fails the
 * version instead of failing host writes later.
 *
 * Limits (Rust `SandboxLimits`): a plugin statement gets 2 s (a migration statement 60 s) before
 * it is interrupted with `TIMEOUT`; strings/blobs/rows over 16 MiB and results over 1M rows or
 * 64 MiB fail with `INVALID_ARGUMENT`; closing the store stops running plugin statements
 * (`CLOSED`) and waits for them.
 */
import type { PlanStep, SandboxPolicy, SchemaExecutor, SchemaStore, SchemaTransaction } from './types.js';
import { pluginPrefix } from './names.js';
import { errorCode, errorMessage } from './errors.js';
import { AUTOINCREMENT } from './validation.js';

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

/** An executor that may also hand out a sandboxed one (the migration transaction). */
export type CatalogExecutor = SchemaExecutor & { sandboxed?(policy: SandboxPolicy): SchemaExecutor };

/**
 * Compares the catalog after a plugin step with the one before. Returns a description of the
 * first violation, or `null`.
 */
export async function catalogViolation(db: CatalogExecutor, before: Catalog, plugin: string): Promise<string | null> {
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
    if (row.type === 'table' && AUTOINCREMENT.test(row.sql ?? '')) {
      return `table ${row.name} uses AUTOINCREMENT, which plugin tables cannot (sqlite_sequence is shared with the core)`;
    }
    if (row.type === 'table' && row.schema === 'main') {
      const fks = await db.query<{ table: string }>(`SELECT "table" FROM pragma_foreign_key_list(?)`, [row.name]);
      const outside = fks.find((fk) => !fk.table.toLowerCase().startsWith(prefix));
      if (outside) return `table ${row.name} references ${outside.table} outside the plugin namespace ${prefix}*`;
    }
    if (row.type === 'trigger' || row.type === 'view') {
      const bad = await bodyViolation(db, row, plugin);
      if (bad) return bad;
    }
  }
  return null;
}

const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;

/**
 * Compiles, under the plugin's DML policy and without running them, the statements that read
 * view `row` or fire trigger `row` (INSERT, UPDATE of every column, DELETE on its table): the
 * authorizer then checks the body. Other compile errors (a view cannot take an INSERT without
 * an INSTEAD OF trigger, ...) say nothing about the body and are ignored.
 */
async function bodyViolation(db: CatalogExecutor, row: CatalogRow, plugin: string): Promise<string | null> {
  const confined = typeof db.sandboxed === 'function' ? db.sandboxed(pluginPolicy(plugin, false)) : db;
  const schema = quote(row.schema);
  const probes: string[] = [];
  if (row.type === 'view') {
    probes.push(`SELECT * FROM ${schema}.${quote(row.name)}`);
  } else {
    // A temp trigger may sit on a main table: name the table without a schema.
    const table = quote(row.tbl_name);
    const cols = await db.query<{ name: string }>(`SELECT name FROM pragma_table_info(?)`, [row.tbl_name]);
    probes.push(`INSERT INTO ${table} DEFAULT VALUES`, `DELETE FROM ${table}`);
    if (cols.length > 0) probes.push(`UPDATE ${table} SET ${cols.map((c) => `${quote(c.name)} = ${quote(c.name)}`).join(', ')}`);
  }
  for (const probe of probes) {
    try {
      await confined.queryOne(`EXPLAIN ${probe}`);
    } catch (e) {
      if (errorCode(e) === 'NOT_AUTHORIZED') {
        return `the body of ${row.type} ${row.name} reaches outside the plugin namespace ${pluginPrefix(plugin)}* (${errorMessage(e)})`;
      }
    }
  }
  return null;
}
