/**
 * `aico-data status`: what the folder holds and how each store is doing: sizes on disk, row
 * counts, schema versions, the outbox, analytics freshness, the KV store, the Chroma server.
 */
import type { Command } from 'commander';
import type { DataLayer } from '../../data-layer.js';
import { buildInfo } from '../../native/index.js';
import { diagnoseVectorServer } from '../../stores/vectors/index.js';
import { withDataLayer, type GlobalOptions } from '../context.js';
import { formatForgetStatus } from './forget-user.js';
import { storeFiles } from '../folder-files.js';
import { formatBytes, formatTable, out, toJson } from '../output.js';
import { unknownUser, userExists } from '../users.js';

/** Core tables whose row counts `status` shows. */
const COUNTED = ['users', 'devices', 'conversations', 'messages', 'memories', 'user_preferences'] as const;

/** Everything `status` reports, as `--json` prints it. */
export interface StatusReport {
  dir: string;
  keyId: string;
  engines: { sqlite: string; cipher: string; duckdb: string };
  files: ReturnType<typeof storeFiles>;
  sql: { quickCheck: string[]; rows: Record<string, number> };
  schemas: Array<{ name: string; type: string; version: number; latest: number | null; state: string; pending: number; drift: readonly number[] }>;
  outbox: { pending: number; retrying: number; dispatched: number; dead: number; oldestPending: string | null; lastError: string | null };
  analytics: { tables: Array<{ name: string; rows: number }>; snapshot: boolean } | null;
  kv: { persistent: boolean; readOnly: boolean; namespaces: string[]; walRecovery: string; walDroppedWrites: number | null; degraded: { mode: string; path: string; code: string; message: string; repair: string } | null };
  /** Stores running degraded (empty when healthy): see `DataLayer.degradations()`. */
  degradations: ReturnType<DataLayer['degradations']>;
  vectors: { state: string; source: string | null; persistDir: string | null; embedder: string | null } | null;
}

async function tableExists(data: DataLayer, name: string): Promise<boolean> {
  return (await data.sql.queryOne("SELECT 1 AS x FROM sqlite_master WHERE type = 'table' AND name = ?", [name])) !== undefined;
}

/** Collects the report (exported for the demo's summary). */
export async function collectStatus(data: DataLayer): Promise<StatusReport> {
  const info = buildInfo();
  const rows: Record<string, number> = {};
  for (const t of COUNTED) {
    if (await tableExists(data, t)) rows[t] = Number((await data.sql.queryOne<{ n: number }>(`SELECT count(*) AS n FROM ${t}`))!.n);
  }
  let outbox: StatusReport['outbox'] = { pending: 0, retrying: 0, dispatched: 0, dead: 0, oldestPending: null, lastError: null };
  if (data.outbox) {
    const o = await data.outbox.status();
    outbox = { pending: o.pending, retrying: o.retrying, dispatched: o.dispatched, dead: o.dead, oldestPending: o.oldestPending, lastError: o.lastError };
  } else if (await tableExists(data, 'outbox')) {
    const o = (await data.sql.queryOne<{ pending: number; retrying: number; dispatched: number; oldest: string | null }>(
      `SELECT count(*) FILTER (WHERE dispatched_at IS NULL) AS pending, count(*) FILTER (WHERE dispatched_at IS NULL AND attempts > 0) AS retrying,
              count(*) FILTER (WHERE dispatched_at IS NOT NULL) AS dispatched, min(created_at) FILTER (WHERE dispatched_at IS NULL) AS oldest
       FROM outbox`,
    ))!;
    outbox = { ...outbox, pending: Number(o.pending), retrying: Number(o.retrying), dispatched: Number(o.dispatched), oldestPending: o.oldest };
  }
  const schemas = (await data.schemas.status()).map((s) => ({ name: s.name, type: s.type, version: s.version, latest: s.latest, state: s.state, pending: s.pending, drift: s.drift }));
  const a = data.analytics?.status();
  const degradations = data.degradations();
  const kvDegraded = degradations.find((d) => d.store === 'kv');
  let vectors: StatusReport['vectors'] = null;
  if (data.vectors) {
    const v = data.vectors.status();
    vectors = { state: v.state, source: v.source ?? null, persistDir: v.persistDir, embedder: v.embedder };
    if (v.source === undefined) vectors.source = (await diagnoseVectorServer()).chosen ?? null;
  }
  return {
    dir: data.dir,
    keyId: data.keyId,
    engines: { sqlite: info.sqliteVersion, cipher: info.libsqlCipher, duckdb: info.duckdbVersion },
    files: storeFiles(data.dir),
    sql: { quickCheck: data.sql.integrityCheck(false), rows },
    schemas,
    outbox,
    analytics: a ? { tables: a.tables.map((t) => ({ name: t.name, rows: t.rows })), snapshot: a.restored != null || a.lastSnapshot != null } : null,
    kv: {
      persistent: data.kv.persistent,
      readOnly: data.kv.readOnly,
      // A degraded store lists nothing (its calls throw CORRUPT): the report says why instead.
      namespaces: kvDegraded?.mode === 'unavailable' ? [] : data.kv.namespaces().map((n) => n.name),
      walRecovery: data.kvWalRecovery,
      walDroppedWrites: data.kvWalDroppedWrites,
      degraded: kvDegraded ? { mode: kvDegraded.mode, path: kvDegraded.path, code: kvDegraded.code, message: kvDegraded.message, repair: kvDegraded.repair } : null,
    },
    degradations,
    vectors,
  };
}

/** Prints a report for people. */
export function printStatus(r: StatusReport): void {
  out(`data folder ${r.dir} (key id ${r.keyId})`);
  out(`engines: SQLite ${r.engines.sqlite} (${r.engines.cipher}), DuckDB ${r.engines.duckdb}`);
  out('\nfiles:');
  out(formatTable(r.files.map((f) => ({ store: f.store, files: f.files, size: formatBytes(f.bytes) }))));
  out(`\nsql: quick_check ${r.sql.quickCheck.length === 0 ? 'ok' : r.sql.quickCheck.join('; ')}; rows: ${Object.entries(r.sql.rows).map(([t, n]) => `${t} ${n.toLocaleString('en-US')}`).join(', ')}`);
  out('\nschemas:');
  out(formatTable(r.schemas.map((s) => ({ ...s, latest: s.latest ?? 'unregistered', drift: s.drift.join(',') || '-' }))));
  const o = r.outbox;
  out(
    `\noutbox: ${o.pending} pending (${o.retrying} retrying), ${o.dispatched} dispatched, ${o.dead} dead letters` +
      `${o.oldestPending ? `; oldest pending since ${o.oldestPending}` : ''}${o.lastError ? `; last error: ${o.lastError}` : ''}`,
  );
  out(r.analytics ? `analytics: ${r.analytics.tables.map((t) => `${t.name} ${t.rows.toLocaleString('en-US')}`).join(', ')} rows (sealed snapshot: ${r.analytics.snapshot ? 'yes' : 'no'})` : 'analytics: off');
  out(
    r.kv.degraded
      ? `kv: DEGRADED: the RocksDB store at ${r.kv.degraded.path} is damaged (${r.kv.degraded.code}: ${r.kv.degraded.message}); ${r.kv.degraded.mode === 'unavailable' ? 'KV calls fail' : 'damaged records fail'}, everything else works; run \`aico-data repair\``
      : `kv: ${r.kv.persistent ? 'RocksDB' : 'in memory'}${r.kv.readOnly ? ' (read-only: another process holds it)' : ''}; namespaces ${r.kv.namespaces.join(', ')}; WAL recovery ${r.kv.walRecovery}`,
  );
  if (r.kv.walDroppedWrites !== null) {
    out(`kv: the WAL was damaged: this open replayed it up to the damage and dropped ${r.kv.walDroppedWrites.toLocaleString('en-US')} later unflushed writes`);
  }
  for (const d of r.degradations.filter((x) => x.store !== 'kv')) out(`${d.store}: degraded (${d.mode}): ${d.message}`);
  out(
    r.vectors
      ? `vectors: Chroma server ${r.vectors.state}; source ${r.vectors.source ?? 'none usable (see `aico-data doctor`)'}; embedder ${r.vectors.embedder}`
      : 'vectors: off',
  );
}

/** Adds the `status` subcommand to `program`. */
export function registerStatus(program: Command): void {
  program
    .command('status')
    .description('stores, sizes, schema versions, outbox, analytics, KV and the Chroma server')
    .option('--json', 'print the report as JSON')
    .option('--user <id>', "instead: what every store still holds of this user (the proof after forget-user)")
    .action(async (_o: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<GlobalOptions & { json?: boolean; user?: string }>();
      await withDataLayer(opts, async (data) => {
        if (opts.user !== undefined) {
          const left = await data.forgetStatus(opts.user);
          out(opts.json ? toJson(left) : formatForgetStatus(left));
          // The proof still prints (a forgotten user leaves nothing), but an id that is not a
          // user of the folder is not reported as a success: exit 4.
          if (!(await userExists(data, opts.user))) throw unknownUser(opts.user, left.clean ? ' (never created, or forgotten: nothing of it is left in any store)' : ' (its row is gone but data is left: run `aico-data forget-user ID --yes` to finish)');
          return;
        }
        const report = await collectStatus(data);
        if (opts.json) out(toJson(report));
        else printStatus(report);
      });
    });
}
