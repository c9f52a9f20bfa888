/**
 * Choosing what to send a peer. Each device keeps a version vector: per origin device, the
 * stamp up to which it holds every change of that origin (`sync_vv`; its own origin is its
 * newest change). A changeset for peer P carries every logged change, of every origin but P,
 * newer than what P last reported holding, plus for each origin the range `(from, to]` it
 * covers completely. P advances its vector only over ranges that start at or below what it
 * already holds, so lost, duplicated or reordered changesets never make it skip a change.
 */
import type { SqlExecutor } from '../stores/sql/index.js';
import type { WireChange } from './apply.js';

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
): Promise<ChangesetBody> {
  const mine = await ownVector(sql, self);
  const origins = (await sql.query<{ origin: string }>(`SELECT DISTINCT origin FROM sync_changes`)).map((r) => r.origin);
  const changes: WireChange[] = [];
  const ranges: Record<string, [string, string]> = {};
  for (const origin of origins) {
    if (origin === peer) continue;
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
      if (!capped && r.hlc <= to) lastIncluded = r.hlc;
      changes.push([r.hlc, r.origin, r.tbl, r.pk, r.op, r.base, r.cols, r.data, Number(r.schema_version)]);
    }
    if (to > from) ranges[origin] = [from, to];
  }
  return { v: 1, vv: mine, ranges, changes };
}
