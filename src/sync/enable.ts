/**
 * Turning sync on for a folder: the identity, the snapshot of the rows that existed before
 * capture started (so the first peer receives them), the default policies and the own device row.
 */
import { invalidArgument } from '../errors.js';
import { syncImageSql } from '../schema/core/sync.js';
import { insertOwnDevice } from './devices-table.js';
import { createIdentity, loadIdentity, type Identity } from './identity.js';
import { ensureRegistry } from './registry-bootstrap.js';
import type { SyncSession } from './session.js';
import { DEFAULT_POLICIES, SYNC_TABLES } from './tables.js';

/** How this device describes itself to its peers. */
export interface EnableOptions {
  readonly name?: string;
  readonly type?: string;
  readonly platform?: string;
}

/** Enables sync on the session's folder (idempotent) and returns this device's identity. */
export async function enableSync(s: SyncSession, options: EnableOptions): Promise<Identity> {
  await s.init();
  const name = options.name ?? 'this device';
  const type = options.type ?? 'other';
  const platform = options.platform ?? process.platform;
  for (const [k, v] of Object.entries({ name, type, platform })) {
    if (typeof v !== 'string' || v.trim() === '' || v.length > 200) throw invalidArgument(`${k} must be a non-empty string of at most 200 characters`);
  }
  if (s.identity) return s.identity;
  s.identity = await s.sql.transaction(async (tx) => {
    const again = await loadIdentity(tx, s.sealer);
    if (again) return again;
    const id = await createIdentity(tx, s.sealer);
    const clock = await tx.queryOne<{ wall: number; counter: number }>(`SELECT wall, counter FROM sync_clock WHERE id = 1`);
    const wall = Math.max(Date.now(), Number(clock!.wall) + 1);
    let n = 0;
    for (const spec of SYNC_TABLES) {
      const r = await tx.execute(
        `INSERT INTO sync_changes (hlc, origin, tbl, pk, op, base, cols, data, schema_version)
         SELECT printf('%015d.%05d.%s', :wall + ((:n + rn) / 100000), (:n + rn) % 100000, :dev), :dev, '${spec.table}', t.${spec.pk}, 'I', NULL, NULL, ${syncImageSql(spec, 't')}, :sv
         FROM (SELECT *, row_number() OVER () AS rn FROM ${spec.table}) t`,
        { wall, n, dev: id.deviceId, sv: s.schemaVersion },
      );
      n += r.changes + 1;
    }
    await tx.execute(
      `INSERT INTO sync_heads (tbl, pk, hlc) SELECT tbl, pk, hlc FROM sync_changes WHERE tbl IN (${SYNC_TABLES.filter((t) => t.kind === 'versioned').map((t) => `'${t.table}'`).join(', ')})`,
    );
    await tx.execute(`UPDATE sync_clock SET device = ?, wall = ?, counter = ?, capture = 1, schema_version = ? WHERE id = 1`, [
      id.deviceId,
      wall + Math.floor(n / 100000),
      n % 100000,
      s.schemaVersion,
    ]);
    for (const [tbl, mode] of Object.entries(DEFAULT_POLICIES)) {
      await tx.execute(`INSERT OR IGNORE INTO sync_policies (tbl, mode) VALUES (?, ?)`, [tbl, mode]);
    }
    await insertOwnDevice(tx, id.deviceId, { name, type, platform }, id.signPublic, id.kexPublic);
    return id;
  });
  await ensureRegistry(s.sql, s.identity);
  return s.identity;
}
