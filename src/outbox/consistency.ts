/**
 * Consistency between libSQL (the source of truth) and the stores derived from it: which ids
 * each derived store lacks (`missing`) or holds without a live libSQL row (`extra`), and a
 * repair that makes them equal again from libSQL.
 */
import type { AnalyticsStore } from '../stores/analytics/index.js';
import { userCachePrefix, userOfCacheKey, USER_NAMESPACES } from './cache-keys.js';
import type { DerivedStores } from './stores.js';
import { deletePrefix } from './targets/cache.js';

/** Differences of one derived store, per table. */
export interface StoreDifferences {
  /** `chroma`, `duckdb`, `rocksdb`. */
  readonly store: string;
  /** False when the store is off (then nothing was compared). */
  readonly checked: boolean;
  /** Ids live in libSQL but absent here, per table (`memories`, `messages`...). */
  readonly missing: Readonly<Record<string, string[]>>;
  /** Ids here that are not live in libSQL (for RocksDB: user ids with cache entries). */
  readonly extra: Readonly<Record<string, string[]>>;
}

/** What {@link verifyConsistency} found. */
export interface ConsistencyReport {
  /** True when no checked store misses or has extra rows. */
  readonly ok: boolean;
  readonly stores: StoreDifferences[];
  /** Outbox rows not applied yet: their changes may legitimately show up as differences. */
  readonly pendingOutbox: number;
  readonly deadLetters: number;
  /** Live rows counted in libSQL per table. */
  readonly libsql: Readonly<Record<string, number>>;
}

/** What {@link repairConsistency} did, and the check afterwards. */
export interface RepairReport {
  /** Rows written or removed per store. */
  readonly fixed: Readonly<Record<string, number>>;
  readonly after: ConsistencyReport;
}

const ANALYTICS_TABLES = ['conversations', 'messages', 'memories'] as const;

/** Tables DuckDB has now: it creates each at its first sync, and holds nothing before. */
export async function analyticsTables(analytics: AnalyticsStore): Promise<Set<string>> {
  const rows = await analytics.queryRawAsStored(`SELECT table_name FROM information_schema.tables`);
  return new Set(rows.map((r) => String(r[0])));
}

async function liveIds(s: DerivedStores, table: string): Promise<Set<string>> {
  const rows = await s.sql.queryRaw(`SELECT id FROM ${table} WHERE deleted_at IS NULL`);
  return new Set(rows.map((r) => String(r[0])));
}

function diff(truth: ReadonlySet<string>, derived: ReadonlySet<string>): { missing: string[]; extra: string[] } {
  return { missing: [...truth].filter((id) => !derived.has(id)).sort(), extra: [...derived].filter((id) => !truth.has(id)).sort() };
}

async function cacheUsers(s: DerivedStores): Promise<Set<string>> {
  const users = new Set<string>();
  for (const ns of USER_NAMESPACES) {
    if (!s.kv.namespaces().some((n) => n.name === ns)) continue;
    for await (const k of s.kv.keys(ns, { prefix: 'user/' })) {
      const u = userOfCacheKey(k);
      if (u) users.add(u);
    }
  }
  return users;
}

/** Compares every derived store with libSQL. Read-only. */
export async function verifyConsistency(s: DerivedStores): Promise<ConsistencyReport> {
  const stores: StoreDifferences[] = [];
  const libsql: Record<string, number> = {};
  const memories = await liveIds(s, 'memories');
  libsql.memories = memories.size;

  if (s.index) {
    const d = diff(memories, new Set(await s.index.ids()));
    stores.push({ store: 'chroma', checked: true, missing: { memories: d.missing }, extra: { memories: d.extra } });
  } else stores.push({ store: 'chroma', checked: false, missing: {}, extra: {} });

  if (s.analytics) {
    const missing: Record<string, string[]> = {};
    const extra: Record<string, string[]> = {};
    const present = await analyticsTables(s.analytics);
    for (const t of ANALYTICS_TABLES) {
      const truth = t === 'memories' ? memories : await liveIds(s, t);
      libsql[t] = truth.size;
      const rows = present.has(t) ? await s.analytics.queryRawAsStored(`SELECT id FROM ${t}`) : [];
      const d = diff(truth, new Set(rows.map((r) => String(r[0]))));
      missing[t] = d.missing;
      extra[t] = d.extra;
    }
    stores.push({ store: 'duckdb', checked: true, missing, extra });
  } else stores.push({ store: 'duckdb', checked: false, missing: {}, extra: {} });

  const users = await liveIds(s, 'users');
  libsql.users = users.size;
  const cached = await cacheUsers(s);
  stores.push({ store: 'rocksdb', checked: true, missing: {}, extra: { users: [...cached].filter((u) => !users.has(u)).sort() } });

  const o = (await s.sql.queryOne<{ pending: number; dead: number }>(
    `SELECT count(*) FILTER (WHERE dispatched_at IS NULL AND dead_at IS NULL) AS pending, count(*) FILTER (WHERE dead_at IS NOT NULL) AS dead FROM outbox`,
  ))!;
  const ok = stores.every((st) => Object.values(st.missing).every((l) => l.length === 0) && Object.values(st.extra).every((l) => l.length === 0));
  return { ok, stores, pendingOutbox: Number(o.pending), deadLetters: Number(o.dead), libsql };
}

/** Makes every derived store match libSQL, then checks again. */
export async function repairConsistency(s: DerivedStores): Promise<RepairReport> {
  const before = await verifyConsistency(s);
  const fixed: Record<string, number> = { chroma: 0, duckdb: 0, rocksdb: 0 };
  for (const st of before.stores) {
    if (!st.checked) continue;
    if (st.store === 'chroma' && s.index) {
      const missing = st.missing.memories ?? [];
      const extra = st.extra.memories ?? [];
      let written = 0;
      for (let i = 0; i < missing.length; i += 500) {
        const live = await s.repos.memories.getMany(missing.slice(i, i + 500));
        await s.index.upsert(live);
        written += live.length;
      }
      await s.index.remove(extra);
      fixed.chroma = written + extra.length;
    } else if (st.store === 'duckdb' && s.analytics) {
      const n = Object.values(st.missing).reduce((a, l) => a + l.length, 0) + Object.values(st.extra).reduce((a, l) => a + l.length, 0);
      if (n > 0) {
        const r = await s.analytics.sync();
        fixed.duckdb = r.tables.reduce((a, t) => a + t.inserted + t.updated + t.deleted, 0);
      }
    } else if (st.store === 'rocksdb' && !s.kv.readOnly) {
      for (const u of st.extra.users ?? []) for (const ns of USER_NAMESPACES) fixed.rocksdb! += await deletePrefix(s.kv, ns, userCachePrefix(u));
    }
  }
  return { fixed, after: await verifyConsistency(s) };
}
