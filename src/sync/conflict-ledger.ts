/**
 * The conflict ledger (`sync_conflicts`, itself synced): diverging memory versions found on
 * import are recorded and announced here, listed, and resolved as a normal local change.
 */
import { randomUUID } from 'node:crypto';
import { AicoDataError, invalidArgument } from '../errors.js';
import type { SqlExecutor, SqlStore, SqlValue } from '../stores/sql/index.js';
import { syncImageSql } from '../schema/core/sync.js';
import { sameImage, upsertImage, type DetectedConflict } from './apply.js';
import type { SyncOptions } from './session.js';
import { parseImage, specOf } from './tables.js';

/** Topic published when a diverging edit is recorded in the conflict ledger. */
export const CONFLICT_TOPIC = 'sync/conflict/detected/v1';

/** A conflict ledger entry. */
export interface SyncConflict {
  readonly id: string;
  readonly table: string;
  readonly rowId: string;
  readonly a: { readonly hlc: string; readonly row: Record<string, SqlValue> | null };
  readonly b: { readonly hlc: string; readonly row: Record<string, SqlValue> | null };
  readonly detectedBy: string;
  readonly detectedAt: string;
  readonly status: 'open' | 'resolved';
  readonly resolution: string | null;
}

/** How to resolve a conflict: keep one version, keep both (the other as a new row), or merge fields. */
export type Resolution = { readonly keep: 'a' | 'b' | 'both' } | { readonly merge: Readonly<Record<string, SqlValue>> };

function decodeRow(text: string | null): Record<string, SqlValue> | null {
  if (text === null) return null;
  const img = parseImage(text);
  const out: Record<string, SqlValue> = {};
  for (const [k, v] of Object.entries(img)) {
    out[k] = Array.isArray(v) ? (v[0] === 'b' ? Buffer.from(String(v[1]), 'hex') : Number(v[1])) : (v as SqlValue);
  }
  return out;
}

/**
 * Records the conflicts an import found; returns those new to the ledger. Written as local
 * changes (capture is on again), so the ledger itself syncs.
 */
export async function recordConflicts(tx: SqlExecutor, self: string, found: readonly DetectedConflict[], at: string): Promise<DetectedConflict[]> {
  const added: DetectedConflict[] = [];
  for (const c of found) {
    const ins = await tx.execute(
      `INSERT OR IGNORE INTO sync_conflicts (id, tbl, row_id, hlc_a, data_a, hlc_b, data_b, detected_by, detected_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [c.id, c.table, c.rowId, c.hlcA, c.dataA, c.hlcB, c.dataB, self, at],
    );
    if (ins.changes > 0) added.push(c);
  }
  return added;
}

/** Announces new conflicts after commit, ids only. */
export async function publishConflicts(options: SyncOptions, self: string, added: readonly DetectedConflict[]): Promise<void> {
  for (const c of added) {
    try {
      await options.publish?.(CONFLICT_TOPIC, { conflictId: c.id, table: c.table, rowId: c.rowId, versions: [c.hlcA, c.hlcB], deviceId: self });
    } catch {
      // The ledger is the record; a bus failure must not undo an applied changeset.
    }
  }
}

/** The ledger entries of one status (or all). */
export async function listConflicts(sql: SqlExecutor, status: 'open' | 'resolved' | 'all'): Promise<SyncConflict[]> {
  const rows = await sql.query<Record<string, string | null>>(`SELECT * FROM sync_conflicts ${status === 'all' ? '' : 'WHERE status = ?'} ORDER BY hlc_b, id`, status === 'all' ? [] : [status]);
  return rows.map((r) => ({
    id: r.id!,
    table: r.tbl!,
    rowId: r.row_id!,
    a: { hlc: r.hlc_a!, row: decodeRow(r.data_a ?? null) },
    b: { hlc: r.hlc_b!, row: decodeRow(r.data_b ?? null) },
    detectedBy: r.detected_by!,
    detectedAt: r.detected_at!,
    status: r.status as 'open' | 'resolved',
    resolution: r.resolution ?? null,
  }));
}

/** Writes the chosen outcome as a normal change and marks the entry resolved, in one transaction. */
export async function resolveConflict(sql: SqlStore, conflictId: string, resolution: Resolution): Promise<{ rowId: string; addedRowId?: string }> {
  if (typeof conflictId !== 'string') throw invalidArgument('conflictId must be a string');
  if (!resolution || typeof resolution !== 'object') throw invalidArgument('resolution must be { keep } or { merge }');
  return sql.transaction(async (tx) => {
    const c = await tx.queryOne<Record<string, string | null>>(`SELECT * FROM sync_conflicts WHERE id = ?`, [conflictId]);
    if (!c) throw new AicoDataError('NOT_FOUND', `no conflict ${conflictId}`, { conflictId });
    if (c.status === 'resolved') throw new AicoDataError('CONFLICT', `conflict ${conflictId} is already resolved (${c.resolution})`, { conflictId });
    const spec = specOf(c.tbl!)!;
    const rowId = c.row_id!;
    let out: { rowId: string; addedRowId?: string } = { rowId };
    if ('merge' in resolution) {
      const entries = Object.entries(resolution.merge ?? {});
      const bad = entries.find(([k]) => !spec.columns.includes(k) || k === spec.pk);
      if (entries.length === 0 || bad) throw invalidArgument(`merge must name columns of ${spec.table} other than ${spec.pk}${bad ? ` (not: ${bad[0]})` : ''}`);
      const r = await tx.execute(`UPDATE ${spec.table} SET ${entries.map(([k]) => `${k} = ?`).join(', ')} WHERE ${spec.pk} = ?`, [...entries.map(([, v]) => v), rowId]);
      if (r.changes === 0) {
        const base = parseImage(c.data_b ?? c.data_a ?? '{}');
        const img = { ...base, [spec.pk]: rowId };
        await upsertImage(tx, spec, img);
        await tx.execute(`UPDATE ${spec.table} SET ${entries.map(([k]) => `${k} = ?`).join(', ')} WHERE ${spec.pk} = ?`, [...entries.map(([, v]) => v), rowId]);
      }
    } else if (resolution.keep === 'a' || resolution.keep === 'b') {
      const data = resolution.keep === 'a' ? c.data_a : c.data_b;
      if (data === null || data === undefined) await tx.execute(`DELETE FROM ${spec.table} WHERE ${spec.pk} = ?`, [rowId]);
      else await upsertImage(tx, spec, { ...parseImage(data), updated_at: new Date().toISOString() });
    } else if (resolution.keep === 'both') {
      const cur = await tx.queryOne<{ img: string }>(`SELECT ${syncImageSql(spec, 't')} AS img FROM ${spec.table} t WHERE t.${spec.pk} = ?`, [rowId]);
      const other = cur && c.data_a && sameImage(spec, cur.img, c.data_a) ? c.data_b : cur && c.data_b && sameImage(spec, cur.img, c.data_b) ? c.data_a : (c.data_a ?? c.data_b);
      if (other) {
        const addedRowId = randomUUID();
        await upsertImage(tx, spec, { ...parseImage(other), [spec.pk]: addedRowId });
        out = { rowId, addedRowId };
      }
    } else {
      throw invalidArgument("resolution must be { keep: 'a' | 'b' | 'both' } or { merge: { column: value } }");
    }
    const now = new Date().toISOString();
    await tx.execute(`UPDATE sync_conflicts SET status = 'resolved', resolution = ?, resolved_at = ? WHERE id = ?`, [
      JSON.stringify('merge' in resolution ? { merge: Object.keys(resolution.merge) } : resolution),
      now,
      conflictId,
    ]);
    return out;
  });
}
