/**
 * Changesets from a newer schema wait in `sync_quarantine` instead of failing, and apply once
 * this folder migrated. The import itself is passed in, so this file does not depend on it.
 */
import { isAicoError } from '../errors.js';
import type { SqlExecutor } from '../stores/sql/index.js';
import type { ChangesetHeader } from './envelope.js';
import type { SyncSession } from './session.js';

/** Keeps a verified changeset aside (once per changeset id). */
export async function quarantine(sql: SqlExecutor, h: ChangesetHeader, bytes: Uint8Array): Promise<void> {
  await sql.execute(`INSERT OR IGNORE INTO sync_quarantine (id, sender, schema_version, bytes) VALUES (?, ?, ?, ?)`, [h.id, h.from, h.sv, Buffer.from(bytes)]);
}

/**
 * Imports every quarantined changeset this folder's schema now covers, oldest first, and drops
 * it unless an unexpected error stops the retry (an untrusted or damaged one is dropped too).
 * Returns how many applied.
 */
export async function retryQuarantined(s: SyncSession, importOne: (bytes: Uint8Array) => Promise<{ status: string }>): Promise<number> {
  const rows = await s.sql.query<{ id: string; bytes: Uint8Array }>(`SELECT id, bytes FROM sync_quarantine WHERE schema_version <= ? ORDER BY received_at`, [s.schemaVersion]);
  let n = 0;
  for (const r of rows) {
    try {
      const res = await importOne(r.bytes);
      if (res.status === 'applied') n++;
    } catch (e) {
      if (!isAicoError(e, 'SYNC_UNTRUSTED') && !isAicoError(e, 'CORRUPT')) throw e;
    }
    await s.sql.execute(`DELETE FROM sync_quarantine WHERE id = ?`, [r.id]);
  }
  return n;
}
