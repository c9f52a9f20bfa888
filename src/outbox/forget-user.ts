/**
 * Forgetting a user everywhere. The libSQL delete (with its cascades) and the outbox rows that
 * carry it to Chroma, DuckDB and RocksDB commit in one transaction, so a crash at any point
 * leaves either nothing done or rows that the next open applies.
 */
import { randomUUID } from 'node:crypto';
import { requireId } from '../domain/validation.js';
import { userCachePrefix, USER_NAMESPACES } from './cache-keys.js';
import { analyticsTables } from './consistency.js';
import type { DerivedStores } from './stores.js';

/** What is left of a user in each store; `clean` when nothing is. */
export interface ForgetStatus {
  readonly userId: string;
  readonly clean: boolean;
  readonly libsql: Readonly<Record<string, number>>;
  /** Memories in Chroma (null: vectors off). */
  readonly chroma: number | null;
  /** Rows per analytics table (null: analytics off). */
  readonly duckdb: Readonly<Record<string, number>> | null;
  /** Keys under the user's prefix in the `cache` and `session` namespaces. */
  readonly rocksdb: number;
  /** Outbox rows about the user not applied yet. */
  readonly outboxPending: number;
  /**
   * Bytes that still name the user or their records on disk although every store answers that
   * they are gone (e.g. deleted keys in RocksDB files before compaction, deleted ids in
   * Chroma's log and free pages), one line per store with what and until when. `forgetUser`
   * removes them (KV compaction, a Chroma scrub) and lists here only what it could not remove;
   * `forgetStatus` alone cannot see freed bytes and leaves it empty.
   */
  readonly residue: readonly string[];
}

/** Counts what every store still holds of `userId`. */
export async function forgetStatus(s: DerivedStores, userId: string): Promise<ForgetStatus> {
  requireId(userId, 'userId');
  const libsql: Record<string, number> = {};
  for (const [t, col] of [
    ['users', 'id'],
    ['user_preferences', 'user_id'],
    ['conversations', 'user_id'],
    ['messages', 'user_id'],
    ['memories', 'user_id'],
  ] as const) {
    libsql[t] = Number((await s.sql.queryOne<{ n: number }>(`SELECT count(*) AS n FROM ${t} WHERE ${col} = ?`, [userId]))!.n);
  }
  const chroma = s.index ? (await s.index.ids(userId)).length : null;
  let duckdb: Record<string, number> | null = null;
  if (s.analytics) {
    duckdb = {};
    const present = await analyticsTables(s.analytics);
    for (const t of ['conversations', 'messages', 'memories']) {
      const r = present.has(t) ? await s.analytics.queryRawAsStored(`SELECT count(*) FROM ${t} WHERE user_id = ?`, [userId]) : [[0]];
      duckdb[t] = Number(r[0]?.[0] ?? 0);
    }
  }
  let rocksdb = 0;
  for (const ns of USER_NAMESPACES) {
    if (!s.kv.namespaces().some((n) => n.name === ns)) continue;
    for await (const _ of s.kv.keys(ns, { prefix: userCachePrefix(userId) })) rocksdb++;
  }
  const outboxPending = Number(
    (await s.sql.queryOne<{ n: number }>(
      `SELECT count(*) AS n FROM outbox WHERE dispatched_at IS NULL AND json_extract(payload, '$.user_id') = ?`,
      [userId],
    ))!.n,
  );
  const clean =
    Object.values(libsql).every((n) => n === 0) && (chroma ?? 0) === 0 && Object.values(duckdb ?? {}).every((n) => n === 0) && rocksdb === 0 && outboxPending === 0;
  return { userId, clean, libsql, chroma, duckdb, rocksdb, outboxPending, residue: [] };
}

/**
 * Removes the bytes the deletes left behind: RocksDB keeps deleted keys (plaintext, they name
 * the user) in its files until a compaction rewrites them; Chroma keeps deleted ids (and their
 * tokens and embeddings) in its log table and SQLite's free pages. Returns what could not be
 * removed, as {@link ForgetStatus.residue} lines.
 */
async function scrubFreedBytes(s: DerivedStores): Promise<string[]> {
  const residue: string[] = [];
  const kv = s.kv as DerivedStores['kv'] & { scrub?: () => void };
  if (kv.persistent) {
    if (kv.readOnly || typeof kv.scrub !== 'function') {
      residue.push(
        'rocksdb: the deleted cache/session keys (they contain the user id) stay in the KV files until the process that holds the store compacts them (this one has it read-only)',
      );
    } else {
      kv.scrub();
    }
  }
  if (s.index && s.scrubVectors) {
    try {
      await s.scrubVectors();
    } catch (e) {
      const code = (e as { code?: string }).code ?? 'INTERNAL';
      residue.push(
        `chroma: the deleted memory ids, their tokens and embeddings stay in chroma.sqlite3 (Chroma's log table and free pages) until a later forgetUser scrubs the store (the scrub failed: ${code}: ${(e as Error).message})`,
      );
    }
  }
  return residue;
}

/**
 * Removes `userId` and everything of theirs from every store, through the outbox, and
 * resolves with {@link forgetStatus} after the dispatcher applied it. Idempotent: forgetting an
 * unknown user still sweeps the derived stores.
 */
export async function forgetUser(s: DerivedStores, userId: string, timeoutMs = 60_000): Promise<ForgetStatus> {
  requireId(userId, 'userId');
  await s.sql.transaction(async (tx) => {
    const r = await tx.execute(`DELETE FROM users WHERE id = ?`, [userId]);
    // The delete trigger wrote the row when the user existed; otherwise write it here so the
    // derived stores are swept anyway (left-overs of an earlier crash or of a restore).
    if (r.changes === 0) {
      await tx.execute(`INSERT INTO outbox (id, topic, aggregate_type, aggregate_id, payload) VALUES (?, 'data/user/deleted/v1', 'user', ?, json_object('id', ?, 'user_id', ?))`, [
        randomUUID(),
        userId,
        userId,
        userId,
      ]);
    }
  });
  if (s.dispatcher) {
    await s.dispatcher.drain(timeoutMs);
    // Applied rows name the user: drop them now rather than after the retention time.
    // Rows a store that is off still has to see (outbox_skipped) stay until it has seen them.
    await s.sql.execute(
      `DELETE FROM outbox WHERE dispatched_at IS NOT NULL AND json_extract(payload, '$.user_id') = ? AND seq NOT IN (SELECT seq FROM outbox_skipped)`,
      [userId],
    );
  }
  const residue = s.dispatcher ? await scrubFreedBytes(s) : [];
  const status = await forgetStatus(s, userId);
  return { ...status, residue, clean: status.clean && residue.length === 0 };
}
