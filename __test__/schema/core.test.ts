/** The core schemas, applied by openDataLayer on a real encrypted database. */
import { afterEach, describe, expect, it } from 'vitest';
import { CORE_SCHEMAS, METADATA_TABLE, HISTORY_TABLE, defaultRegistry } from '../../src/schema/index.js';
import { cleanupAll, expectCode, freshDir, openLayer, schemasOf } from './helpers.js';

afterEach(cleanupAll);

async function columns(layer: Awaited<ReturnType<typeof openLayer>>, table: string): Promise<Record<string, string>> {
  const rows = await layer.sql.query<{ name: string; type: string }>(`SELECT name, type FROM pragma_table_info(?)`, [table]);
  return Object.fromEntries(rows.map((r) => [r.name, r.type]));
}

async function seedConversation(layer: Awaited<ReturnType<typeof openLayer>>) {
  await layer.sql.execute(`INSERT INTO users (id, name) VALUES ('u1', 'Ada')`);
  await layer.sql.execute(`INSERT INTO conversations (id, user_id, title) VALUES ('c1', 'u1', 'hello')`);
}

describe('core schemas at open', () => {
  it('applies every core component, each with its own version counter and checksums', async () => {
    const layer = await openLayer(freshDir());
    const status = await schemasOf(layer).status();
    for (const name of CORE_SCHEMAS) {
      const s = status.find((x) => x.name === name);
      expect(s, name).toBeDefined();
      expect(s!.type).toBe('core');
      expect(s!.state).toBe('active');
      expect(s!.version).toBe(defaultRegistry.get(name)!.latest);
      expect(s!.pending).toBe(0);
      expect(s!.drift).toEqual([]);
    }
    const meta = await layer.sql.query<{ name: string; type: string; current_version: number; checksums: string }>(
      `SELECT name, type, current_version, checksums FROM ${METADATA_TABLE}`,
    );
    expect(meta.map((m) => m.name).sort()).toEqual([...CORE_SCHEMAS].sort());
    for (const m of meta) {
      const c = defaultRegistry.get(m.name)!;
      const sums = JSON.parse(m.checksums) as Record<string, string>;
      expect(Object.keys(sums).map(Number)).toEqual(c.versions.map((v) => v.version));
      expect(sums['1']).toBe(c.checksums[0]);
    }
    const history = await schemasOf(layer).history();
    const expected = CORE_SCHEMAS.reduce((n, name) => n + defaultRegistry.get(name)!.latest, 0);
    expect(history).toHaveLength(expected);
    expect(history.every((h) => h.success && h.direction === 'up' && h.durationMs !== null && h.finishedAt !== null)).toBe(true);
    // dependency order: users before conversations before memories before search
    const first = (n: string) => history.findIndex((h) => h.component === n);
    expect(first('users')).toBeLessThan(first('conversations'));
    expect(first('conversations')).toBeLessThan(first('memories'));
    expect(first('memories')).toBeLessThan(first('search'));
  });

  it('creates the tracking tables with the documented columns', async () => {
    const layer = await openLayer(freshDir());
    expect(Object.keys(await columns(layer, METADATA_TABLE))).toEqual(['name', 'type', 'current_version', 'checksums', 'state', 'created_at', 'updated_at']);
    const h = Object.keys(await columns(layer, HISTORY_TABLE));
    for (const c of ['id', 'component', 'version', 'direction', 'checksum', 'started_at', 'finished_at', 'duration_ms', 'success', 'error']) {
      expect(h).toContain(c);
    }
  });

  it('is a no-op on the next open', async () => {
    const dir = freshDir();
    const a = await openLayer(dir);
    const before = await schemasOf(a).history();
    await a.close();
    const b = await openLayer(dir);
    expect(await schemasOf(b).history()).toEqual(before);
    expect(await schemasOf(b).plan()).toEqual([]);
  });

  it('messages and memories have the columns the product needs', async () => {
    const layer = await openLayer(freshDir());
    const m = await columns(layer, 'messages');
    expect(m).toMatchObject({ sentiment: 'REAL', response_time_ms: 'INTEGER', role: 'TEXT', content: 'TEXT', created_at: 'TEXT', model: 'TEXT', prompt_tokens: 'INTEGER', completion_tokens: 'INTEGER' });
    const mem = await columns(layer, 'memories');
    for (const c of ['type', 'importance', 'content', 'user_id', 'created_at', 'updated_at', 'deleted_at', 'confidence', 'valid_from', 'valid_to', 'source_message_id', 'embedding_model', 'embedding_dimension', 'accessed_at', 'access_count']) {
      expect(Object.keys(mem)).toContain(c);
    }
    const dev = await columns(layer, 'devices');
    for (const c of ['id', 'name', 'type', 'platform', 'public_key', 'trust_level', 'sync_policy', 'last_seen_at', 'revoked_at']) {
      expect(Object.keys(dev)).toContain(c);
    }
    for (const t of ['users', 'user_preferences', 'conversations', 'system_config', 'outbox']) {
      expect(Object.keys(await columns(layer, t)).length, t).toBeGreaterThan(0);
    }
    const idx = await layer.sql.query<{ name: string }>(`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'messages'`);
    expect(idx.map((i) => i.name)).toEqual(expect.arrayContaining(['messages_conversation_created', 'messages_user_created']));
  });

  it('enforces foreign keys, checks and cascades', async () => {
    const layer = await openLayer(freshDir());
    await expectCode(layer.sql.execute(`INSERT INTO conversations (id, user_id) VALUES ('c0', 'nobody')`), 'CONSTRAINT');
    await seedConversation(layer);
    await expectCode(
      layer.sql.execute(`INSERT INTO messages (id, conversation_id, user_id, role, content) VALUES ('m0', 'c1', 'u1', 'robot', 'x')`),
      'CONSTRAINT',
    );
    await expectCode(
      layer.sql.execute(`INSERT INTO messages (id, conversation_id, user_id, role, content, sentiment) VALUES ('m0', 'c1', 'u1', 'user', 'x', 3.5)`),
      'CONSTRAINT',
    );
    await layer.sql.execute(
      `INSERT INTO messages (id, conversation_id, user_id, role, content, sentiment, response_time_ms) VALUES ('m1', 'c1', 'u1', 'user', 'hi', 0.5, 120)`,
    );
    await layer.sql.execute(`INSERT INTO memories (id, user_id, type, content, source_message_id) VALUES ('mem1', 'u1', 'semantic', 'likes tea', 'm1')`);
    await layer.sql.execute(`DELETE FROM users WHERE id = 'u1'`);
    for (const t of ['conversations', 'messages', 'memories']) {
      expect((await layer.sql.queryOne<{ n: number }>(`SELECT count(*) AS n FROM ${t}`))!.n, t).toBe(0);
    }
  });

  it('keeps the FTS5 indexes of messages and memories in sync through triggers', async () => {
    const layer = await openLayer(freshDir());
    await seedConversation(layer);
    const ins = `INSERT INTO messages (id, conversation_id, user_id, role, content) VALUES (?, 'c1', 'u1', 'user', ?)`;
    await layer.sql.execute(ins, ['m1', 'I love green tea in the morning']);
    await layer.sql.execute(ins, ['m2', 'Coffee is fine too']);
    const search = async (q: string) =>
      (
        await layer.sql.query<{ id: string }>(
          `SELECT m.id FROM messages_fts f JOIN messages m ON m.seq = f.rowid WHERE messages_fts MATCH ? ORDER BY m.id`,
          [q],
        )
      ).map((r) => r.id);
    expect(await search('tea')).toEqual(['m1']);
    await layer.sql.execute(`UPDATE messages SET content = 'tea with lemon' WHERE id = 'm2'`);
    expect(await search('tea')).toEqual(['m1', 'm2']);
    expect(await search('coffee')).toEqual([]);
    await layer.sql.execute(`DELETE FROM messages WHERE id = 'm1'`);
    expect(await search('tea')).toEqual(['m2']);

    await layer.sql.execute(`INSERT INTO memories (id, user_id, type, content) VALUES ('x1', 'u1', 'preference', 'prefers jasmine tea')`);
    const mem = await layer.sql.query<{ id: string }>(
      `SELECT m.id FROM memories_fts f JOIN memories m ON m.seq = f.rowid WHERE memories_fts MATCH 'jasmine'`,
    );
    expect(mem).toEqual([{ id: 'x1' }]);
  });
});
