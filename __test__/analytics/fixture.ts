import { join } from 'node:path';
import { openFolder, type NativeFolder, type NativeSql } from '../../src/native/index.js';
import { openAnalyticsStore, type AnalyticsOptions, type AnalyticsStore } from '../../src/stores/analytics/index.js';
import { SqlStore } from '../../src/stores/sql/index.js';
import { tempDir } from '../helpers/folders.js';

export const CANARY = 'CANARY-ts-analytics-91c4-never-on-disk';
/** 2025-03-01T00:00:00Z: the fixed "now" of report tests. */
export const NOW_MS = Date.UTC(2025, 2, 1);

/** The core tables as the schema registry declares them (without users and FTS). */
export const SCHEMA = `
CREATE TABLE conversations (
  id TEXT PRIMARY KEY NOT NULL, user_id TEXT NOT NULL, title TEXT,
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')), deleted_at TEXT);
CREATE TABLE messages (
  seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, conversation_id TEXT NOT NULL, user_id TEXT NOT NULL,
  role TEXT NOT NULL, content TEXT NOT NULL,
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  sentiment REAL, response_time_ms INTEGER, model TEXT, prompt_tokens INTEGER, completion_tokens INTEGER,
  metadata TEXT, deleted_at TEXT);
CREATE TABLE memories (
  seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, user_id TEXT NOT NULL, type TEXT NOT NULL, content TEXT NOT NULL,
  importance REAL NOT NULL DEFAULT 0.5, confidence REAL NOT NULL DEFAULT 1.0, access_count INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')), deleted_at TEXT);
`;

/** A data folder with an encrypted libSQL store holding the core tables. */
export class Fixture {
  readonly dir: string;
  readonly #cleanup: () => void;
  folder!: NativeFolder;
  native!: NativeSql;
  sql!: SqlStore;
  readonly stores: AnalyticsStore[] = [];

  private constructor() {
    const t = tempDir('aico-analytics-');
    this.dir = join(t.dir, 'data');
    this.#cleanup = t.cleanup;
  }

  static async create(schema = SCHEMA): Promise<Fixture> {
    const fx = new Fixture();
    fx.folder = (await openFolder(fx.dir, 'analytics pw', true)) as NativeFolder;
    fx.native = fx.folder.openSql();
    fx.sql = new SqlStore(fx.native);
    if (schema) await fx.sql.exec(schema);
    return fx;
  }

  async open(options: AnalyticsOptions = {}): Promise<AnalyticsStore> {
    const s = await openAnalyticsStore(this.folder, this.native, options);
    this.stores.push(s);
    return s;
  }

  /** `n` messages over `convs` conversations of users u0/u1, spread over the `days` days before NOW_MS. */
  async seed(convs: number, n: number, days: number): Promise<void> {
    const stmts: { sql: string; params: unknown[] }[] = [];
    for (let c = 0; c < convs; c++) {
      stmts.push({ sql: 'INSERT INTO conversations (id, user_id, title) VALUES (?, ?, ?)', params: [`c${c}`, `u${c % 2}`, `conversation ${c}`] });
    }
    for (let i = 0; i < n; i++) {
      const at = new Date(NOW_MS - 1 - ((i * 7_919_113) % (days * 86_400_000))).toISOString();
      stmts.push({
        sql: 'INSERT INTO messages (id, conversation_id, user_id, role, content, created_at, sentiment, response_time_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
        params: [`m${i}`, `c${i % convs}`, `u${(i % convs) % 2}`, i % 2 ? 'assistant' : 'user', `message ${i} ${CANARY}`, at, ((i * 37) % 201) / 100 - 1, (i * 131) % 5000],
      });
    }
    await this.sql.batch(stmts as never);
  }

  async dispose(): Promise<void> {
    for (const s of this.stores) await s.close().catch(() => undefined);
    this.native.close();
    this.folder.close();
    this.#cleanup();
  }
}
