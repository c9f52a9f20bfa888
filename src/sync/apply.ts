/**
 * Applying changes: the remote change joins the local change log (idempotent: its HLC is
 * unique), then every touched row is re-derived from the log ("materialized"):
 *
 * - `lww` / `union` tables: existence is the last insert/delete in clock order, each column the
 *   last write in clock order (column-level last-writer-wins); rows with distinct keys never
 *   collide, so concurrent messages and conversations are a union, read in `created_at` order.
 * - `versioned` tables (memories): the row is its newest version. Each version lists the heads
 *   its device held (`base`); a version that is neither an ancestor nor a descendant of a head
 *   (concurrent edits on two devices) is recorded in the conflict ledger with both images, so
 *   nothing is silently lost.
 *
 * Because the result depends only on the set of changes, any delivery order converges. A row
 * whose parent is missing (foreign key) waits in `sync_pending_rows` and is retried.
 */
import { createHash } from 'node:crypto';
import { AicoDataError, isAicoError } from '../errors.js';
import type { SqlExecutor, SqlValue } from '../stores/sql/index.js';
import { syncImageSql } from '../schema/core/sync.js';
import { trustIntroducedDevices } from './devices-table.js';
import { decodeValue, parseImage, sameValue, specOf, STICKY_COLUMNS, SYNC_TABLES, type Image, type SyncTableSpec } from './tables.js';
import { checkChange } from './validate.js';
import type { WireChange } from './wire.js';

/** At most this many refused changes are kept for inspection (the oldest go first). */
export const MAX_REJECTED_KEPT = 10_000;
/** A changeset with more refused changes than this is refused whole (`CORRUPT`): no flood of records. */
export const MAX_REJECTED_PER_CHANGESET = 1_000;


/** A divergence found while applying. */
export interface DetectedConflict {
  readonly id: string;
  readonly table: string;
  readonly rowId: string;
  readonly hlcA: string;
  readonly dataA: string | null;
  readonly hlcB: string;
  readonly dataB: string | null;
}

/** What one application did. */
export interface ApplyResult {
  /** Changes new to this device. */
  applied: number;
  /** Changes already known (duplicates). */
  duplicates: number;
  /** Rows written (inserted, updated or deleted). */
  rowsWritten: number;
  /** Rows waiting for a missing parent. */
  pending: number;
  conflicts: DetectedConflict[];
  maxHlc: string;
  /** Changes now held (new or duplicates): only these may advance the version vector. */
  held: { hlc: string; origin: string }[];
  /** Changes refused alone (typed: `CORRUPT`, `SYNC_CLOCK_SKEW`), kept in `sync_rejected_changes`. */
  rejected: { hlc: string | null; origin: string | null; error: AicoDataError }[];
}

interface LogRow {
  hlc: string;
  op: 'I' | 'U' | 'D';
  base: string | null;
  cols: string | null;
  data: string | null;
}

function conflictId(table: string, pk: string, a: string, b: string): string {
  return createHash('sha256').update(`${table}|${pk}|${a}|${b}`).digest('hex').slice(0, 32);
}

/** The desired state of a row from its change log. */
function fold(spec: SyncTableSpec, log: LogRow[]): Image | null {
  if (spec.kind === 'versioned') {
    const last = log.at(-1);
    return last && last.op !== 'D' ? parseImage(last.data) : null;
  }
  const sticky = STICKY_COLUMNS[spec.table] ?? [];
  let exists = false;
  const vals: Image = {};
  for (const r of log) {
    if (r.op === 'D') {
      exists = false;
      continue;
    }
    if (r.op === 'I') exists = true;
    const img = parseImage(r.data);
    const cols = r.op === 'I' ? spec.columns : (r.cols ?? '').split('|').filter(Boolean);
    for (const c of cols) {
      if (!(c in img)) continue;
      if (sticky.includes(c) && vals[c] !== undefined && vals[c] !== null) continue;
      vals[c] = img[c];
    }
  }
  if (!exists) return null;
  if (spec.table === 'sync_conflicts') vals.status = vals.resolution !== undefined && vals.resolution !== null ? 'resolved' : 'open';
  return vals;
}

/** Writes the folded state of one row (`waiting`: it is in `sync_pending_rows`). Returns 'written', 'same' or 'pending'. */
export async function materialize(tx: SqlExecutor, spec: SyncTableSpec, pk: string, waiting = false): Promise<'written' | 'same' | 'pending'> {
  const log = await tx.query<LogRow>(`SELECT hlc, op, base, cols, data FROM sync_changes WHERE tbl = ? AND pk = ? ORDER BY hlc`, [spec.table, pk]);
  const want = fold(spec, log);
  const cur = await tx.queryOne<{ img: string }>(`SELECT ${syncImageSql(spec, 't')} AS img FROM ${spec.table} t WHERE t.${spec.pk} = ?`, [pk]);
  const have = cur ? parseImage(cur.img) : null;
  try {
    if (want === null) {
      if (have === null) return settle(tx, spec, pk, waiting, 'same');
      await tx.execute(`DELETE FROM ${spec.table} WHERE ${spec.pk} = ?`, [pk]);
      return settle(tx, spec, pk, waiting, 'written');
    }
    if (have !== null && spec.columns.filter((c) => c in want).every((c) => sameValue(have[c], want[c]))) return settle(tx, spec, pk, waiting, 'same');
    await upsertImage(tx, spec, want);
    return settle(tx, spec, pk, waiting, 'written');
  } catch (e) {
    // A parent row (foreign key) or a required column has not arrived yet: retry later.
    if (!isAicoError(e, 'CONSTRAINT')) throw e;
    await tx.execute(`INSERT OR REPLACE INTO sync_pending_rows (tbl, pk, reason) VALUES (?, ?, ?)`, [spec.table, pk, e.message.slice(0, 200)]);
    return 'pending';
  }
}

/** Inserts or updates the row an image describes (the columns it holds). */
export async function upsertImage(tx: SqlExecutor, spec: SyncTableSpec, image: Image): Promise<void> {
  const cols = spec.columns.filter((c) => c in image);
  const values: SqlValue[] = cols.map((c) => decodeValue(image[c]));
  const set = cols.filter((c) => c !== spec.pk).map((c) => `${c} = excluded.${c}`);
  await tx.execute(
    `INSERT INTO ${spec.table} (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')})
     ON CONFLICT (${spec.pk}) DO ${set.length ? `UPDATE SET ${set.join(', ')}` : 'NOTHING'}`,
    values,
  );
}

async function settle(tx: SqlExecutor, spec: SyncTableSpec, pk: string, waiting: boolean, r: 'written' | 'same'): Promise<'written' | 'same'> {
  if (waiting) await tx.execute(`DELETE FROM sync_pending_rows WHERE tbl = ? AND pk = ?`, [spec.table, pk]);
  return r;
}

/** True when `x` is a strict ancestor of `y` (following `base` links; stamps only grow along them). */
function isAncestor(x: string, y: string, parents: Map<string, string[]>): boolean {
  const stack = [...(parents.get(y) ?? [])];
  const seen = new Set<string>();
  while (stack.length) {
    const h = stack.pop()!;
    if (h === x) return true;
    if (h > x && !seen.has(h)) {
      seen.add(h);
      stack.push(...(parents.get(h) ?? []));
    }
  }
  return false;
}

/**
 * Updates the row's heads (versions no other version supersedes) with the new arrivals, and
 * returns every arrival/head pair where neither knew the other: a divergence.
 */
async function detectConflicts(tx: SqlExecutor, spec: SyncTableSpec, pk: string, arrivals: string[]): Promise<DetectedConflict[]> {
  const log = await tx.query<LogRow>(`SELECT hlc, op, base, cols, data FROM sync_changes WHERE tbl = ? AND pk = ? ORDER BY hlc`, [spec.table, pk]);
  const parents = new Map(log.map((r) => [r.hlc, r.base ? r.base.split(',') : []]));
  const data = new Map(log.map((r) => [r.hlc, r.op === 'D' ? null : r.data]));
  const heads = new Set((await tx.query<{ hlc: string }>(`SELECT hlc FROM sync_heads WHERE tbl = ? AND pk = ?`, [spec.table, pk])).map((r) => r.hlc));
  const before = [...heads].sort().join(',');
  const out: DetectedConflict[] = [];
  for (const r of [...arrivals].sort()) {
    if (heads.has(r)) continue;
    let superseded = false;
    for (const h of [...heads]) {
      if (isAncestor(h, r, parents)) heads.delete(h);
      else if (isAncestor(r, h, parents)) superseded = true;
      else {
        const [older, newer] = r < h ? [r, h] : [h, r];
        const a = data.get(older) ?? null;
        const b = data.get(newer) ?? null;
        // Two devices deleting, or writing the same values, do not diverge.
        if (!(a === b || (a !== null && b !== null && sameImage(spec, a, b)))) {
          out.push({ id: conflictId(spec.table, pk, older, newer), table: spec.table, rowId: pk, hlcA: older, dataA: a, hlcB: newer, dataB: b });
        }
      }
    }
    if (!superseded) heads.add(r);
  }
  if ([...heads].sort().join(',') !== before) {
    await tx.execute(`DELETE FROM sync_heads WHERE tbl = ? AND pk = ?`, [spec.table, pk]);
    for (const h of heads) await tx.execute(`INSERT INTO sync_heads (tbl, pk, hlc) VALUES (?, ?, ?)`, [spec.table, pk, h]);
  }
  return out;
}

export function sameImage(spec: SyncTableSpec, a: string, b: string): boolean {
  const x = parseImage(a);
  const y = parseImage(b);
  return spec.columns.every((c) => c === 'updated_at' || sameValue(x[c], y[c]));
}

/**
 * Applies `changes` (from another device, as decrypted: not yet checked) inside the caller's
 * transaction, with capture suppressed (`applying = 1`) so that the remote change, not a new
 * local one, is logged. Each change is checked alone first ({@link checkChange}): a malformed
 * or far-future one is refused and recorded, the others apply.
 */
export async function applyChanges(tx: SqlExecutor, self: string, raw: readonly unknown[], sender = ''): Promise<ApplyResult> {
  const result: ApplyResult = { applied: 0, duplicates: 0, rowsWritten: 0, pending: 0, conflicts: [], maxHlc: '', held: [], rejected: [] };
  const now = Date.now();
  const changes: WireChange[] = [];
  for (const c of raw) {
    const r = checkChange(c, now);
    if (r.ok) {
      changes.push(r.change);
      continue;
    }
    result.rejected.push({ hlc: r.hlc, origin: r.origin, error: r.error });
    if (result.rejected.length > MAX_REJECTED_PER_CHANGESET) {
      throw new AicoDataError('CORRUPT', `not a valid sync changeset: more than ${MAX_REJECTED_PER_CHANGESET} malformed or far-future changes`, { sender });
    }
    let text: string;
    try {
      text = JSON.stringify(c) ?? 'null';
    } catch {
      text = 'null';
    }
    await tx.execute(
      `INSERT OR IGNORE INTO sync_rejected_changes (id, sender, hlc, origin, tbl, code, reason, change) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      [createHash('sha256').update(text).digest('hex').slice(0, 32), sender, r.hlc, r.origin, r.table, r.error.code, r.error.message.slice(0, 300), text],
    );
  }
  if (result.rejected.length > 0) {
    await tx.execute(
      `DELETE FROM sync_rejected_changes WHERE id NOT IN (SELECT id FROM sync_rejected_changes ORDER BY received_at DESC, id LIMIT ${MAX_REJECTED_KEPT})`,
    );
  }
  const hadRejected = (await tx.queryOne<{ n: number }>(`SELECT count(*) AS n FROM sync_rejected_changes`))!.n > 0;
  await tx.execute(`UPDATE sync_clock SET applying = 1 WHERE id = 1`);
  const touched = new Map<string, Set<string>>();
  const arrivals = new Map<string, string[]>();
  for (const c of [...changes].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))) {
    const [hlc, origin, tbl, pk, op, base, cols, data, sv] = c;
    const spec = specOf(tbl);
    if (!spec || origin === self) continue;
    if (hlc > result.maxHlc) result.maxHlc = hlc;
    result.held.push({ hlc, origin });
    // Refused once (e.g. while its stamp was too far ahead), accepted now.
    if (hadRejected) await tx.execute(`DELETE FROM sync_rejected_changes WHERE hlc = ?`, [hlc]);
    const key = `${tbl}\u0000${pk}`;
    const ins = await tx.execute(
      `INSERT OR IGNORE INTO sync_changes (hlc, origin, tbl, pk, op, base, cols, data, schema_version, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [hlc, origin, tbl, pk, op, base, cols, data, sv, new Date().toISOString()],
    );
    if (ins.changes === 0) {
      result.duplicates++;
      continue;
    }
    result.applied++;
    let set = touched.get(tbl);
    if (!set) touched.set(tbl, (set = new Set()));
    set.add(pk);
    if (spec.kind === 'versioned') (arrivals.get(key) ?? arrivals.set(key, []).get(key)!).push(hlc);
  }
  // Parents before children; then rows that waited for a parent.
  const waiting = await tx.query<{ tbl: string; pk: string }>(`SELECT tbl, pk FROM sync_pending_rows`);
  const isWaiting = new Set(waiting.map((w) => `${w.tbl}\u0000${w.pk}`));
  for (const spec of SYNC_TABLES) {
    for (const pk of touched.get(spec.table) ?? []) {
      const r = await materialize(tx, spec, pk, isWaiting.has(`${spec.table}\u0000${pk}`));
      if (r === 'written') result.rowsWritten++;
      if (spec.kind === 'versioned') {
        const key = `${spec.table}\u0000${pk}`;
        result.conflicts.push(...(await detectConflicts(tx, spec, pk, arrivals.get(key) ?? [])));
      }
    }
  }
  const stillWaiting = await tx.query<{ tbl: string; pk: string }>(`SELECT tbl, pk FROM sync_pending_rows`);
  for (const spec of SYNC_TABLES) {
    for (const w of stillWaiting.filter((x) => x.tbl === spec.table)) {
      const r = await materialize(tx, spec, w.pk, true);
      if (r === 'written') result.rowsWritten++;
      if (r === 'pending') result.pending++;
    }
  }
  // Devices introduced by a trusted peer are trusted.
  await trustIntroducedDevices(tx);
  await tx.execute(`UPDATE sync_clock SET applying = 0 WHERE id = 1`);
  return result;
}
