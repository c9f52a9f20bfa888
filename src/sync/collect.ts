/**
 * Choosing what to send a peer. Each device keeps a version vector: per origin device, the
 * stamp up to which it holds every change of that origin (`sync_vv`; its own origin is its
 * newest change). A changeset for peer P carries every logged change, of every origin but P,
 * newer than what P last reported holding, plus for each origin the range `(from, to]` it
 * covers completely. P advances its vector only over ranges that start at or below what it
 * already holds, so lost, duplicated or reordered changesets never make it skip a change.
 *
 * A range is a claim, not evidence: P advances only as far as the changes of that origin the
 * changeset actually delivered and P now holds ({@link advanceVector}), and never past a change
 * it refused. A peer claiming "I hold X up to H" without the changes moves nothing.
 *
 * A changeset carries at most {@link CHANGESET_BUDGET_BYTES} of changes: the range of the origin
 * where it fills up ends at its last included change, later origins wait for the next round.
 */
import type { SqlExecutor } from '../stores/sql/index.js';
import type { WireChange } from './wire.js';
import { CHANGESET_BUDGET_BYTES } from './envelope.js';
import { isHlc } from './hlc.js';

/** Per origin device: the stamp up to which every change is held. */
export type VersionVector = Record<string, string>;

/** The decrypted body of a changeset. */
export interface ChangesetBody {
  readonly v: 1;
  /** The sender's version vector (what it holds), so the receiver knows what to send back. */
  readonly vv: VersionVector;
  /** Per origin, the range `[from, to]` (from exclusive) this changeset covers completely. */
  readonly ranges: Record<string, [string, string]>;
  readonly changes: WireChange[];
}

/** This device's version vector, its own origin included. */
export async function ownVector(sql: SqlExecutor, self: string): Promise<VersionVector> {
  const vv: VersionVector = {};
  for (const r of await sql.query<{ origin: string; hlc: string }>(`SELECT origin, hlc FROM sync_vv`)) vv[r.origin] = r.hlc;
  const own = await sql.queryOne<{ h: string | null }>(`SELECT max(hlc) AS h FROM sync_changes WHERE origin = ?`, [self]);
  if (own?.h) vv[self] = own.h;
  return vv;
}

/** What the peer last reported holding. */
export async function peerVector(sql: SqlExecutor, peer: string): Promise<VersionVector> {
  const r = await sql.queryOne<{ vv: string }>(`SELECT vv FROM sync_peers WHERE device_id = ?`, [peer]);
  return r ? (JSON.parse(r.vv) as VersionVector) : {};
}

interface ChangeRow {
  hlc: string;
  origin: string;
  tbl: string;
  pk: string;
  op: 'I' | 'U' | 'D';
  base: string | null;
  cols: string | null;
  data: string | null;
  schema_version: number;
}

/**
 * The body for `peer`: changes newer than `since` per origin, of the tables `include` accepts
 * (a skipped change caps that origin's range below it, so the peer is not told it has it).
 */
export async function collectChanges(
  sql: SqlExecutor,
  self: string,
  peer: string,
  since: VersionVector,
  include: (table: string) => boolean,
  budget = CHANGESET_BUDGET_BYTES,
): Promise<ChangesetBody> {
  const mine = await ownVector(sql, self);
  const origins = (await sql.query<{ origin: string }>(`SELECT DISTINCT origin FROM sync_changes ORDER BY origin`)).map((r) => r.origin);
  const changes: WireChange[] = [];
  const ranges: Record<string, [string, string]> = {};
  let used = 0;
  let full = false;
  for (const origin of origins) {
    if (origin === peer || full) continue;
    const from = since[origin] ?? '';
    const rows = await sql.query<ChangeRow>(
      `SELECT hlc, origin, tbl, pk, op, base, cols, data, schema_version FROM sync_changes WHERE origin = ? AND hlc > ? ORDER BY hlc`,
      [origin, from],
    );
    let to = mine[origin] ?? '';
    let capped = false;
    let lastIncluded = from;
    for (const r of rows) {
      if (!include(r.tbl)) {
        if (!capped) to = lastIncluded < to ? lastIncluded : to;
        capped = true;
        continue;
      }
      const change: WireChange = [r.hlc, r.origin, r.tbl, r.pk, r.op, r.base, r.cols, r.data, Number(r.schema_version)];
      const size = Buffer.byteLength(JSON.stringify(change)) + 1;
      // Full: the range ends at the last change sent (at least one change always goes).
      if (changes.length > 0 && used + size > budget) {
        if (!capped) to = lastIncluded < to ? lastIncluded : to;
        full = true;
        break;
      }
      used += size;
      if (!capped && r.hlc <= to) lastIncluded = r.hlc;
      changes.push(change);
    }
    if (to > from) ranges[origin] = [from, to];
  }
  return { v: 1, vv: mine, ranges, changes };
}

/**
 * Advances this device's vector (`sync_vv`) after an import, inside its transaction. For each
 * origin whose claimed range starts at or below what is held, the vector moves to the newest
 * change of that origin in the range that this changeset delivered and this device now holds
 * (`held`), stopping before the first change of that origin it refused (`refused`). Ranges
 * without delivered changes move nothing.
 */
export async function advanceVector(
  tx: SqlExecutor,
  self: string,
  ranges: unknown,
  held: readonly { hlc: string; origin: string }[],
  refused: readonly { hlc: string | null; origin: string | null }[],
): Promise<void> {
  if (ranges === null || typeof ranges !== 'object' || Array.isArray(ranges)) return;
  for (const [origin, range] of Object.entries(ranges as Record<string, unknown>)) {
    if (origin === self || !Array.isArray(range) || typeof range[0] !== 'string' || !isHlc(range[1])) continue;
    const from = range[0];
    const to = range[1];
    const cur = (await tx.queryOne<{ hlc: string }>(`SELECT hlc FROM sync_vv WHERE origin = ?`, [origin]))?.hlc ?? '';
    if (!(from <= cur && to > cur)) continue;
    // A refused change without a readable stamp cannot be placed: nothing of its origin advances.
    let stop: string | undefined;
    for (const r of refused) {
      if (r.origin !== origin) continue;
      if (r.hlc === null) stop = '';
      else if (r.hlc > cur && (stop === undefined || r.hlc < stop)) stop = r.hlc;
    }
    let reach = cur;
    for (const h of held) {
      if (h.origin === origin && h.hlc > reach && h.hlc <= to && (stop === undefined || h.hlc < stop)) reach = h.hlc;
    }
    if (reach > cur) {
      await tx.execute(`INSERT INTO sync_vv (origin, hlc) VALUES (?, ?) ON CONFLICT (origin) DO UPDATE SET hlc = excluded.hlc`, [origin, reach]);
    }
  }
}
