/** Merge rules, the conflict ledger, policies and the schema-version quarantine. */
import { afterEach, describe, expect, it } from 'vitest';
import type { DataLayer } from '../../src/data-layer.js';
import { defaultRegistry } from '../../src/schema/index.js';
import { SyncSchema } from '../../src/schema/core/sync.js';
import { CONFLICT_TOPIC } from '../../src/sync/index.js';
import { expectCode } from '../helpers/errors.js';
import { clockPast } from '../helpers/wait.js';
import { cleanupDevices, openDevice, pairDevices } from './helpers.js';

afterEach(cleanupDevices);

/** Two paired devices sharing user u1 and its preferences. */
async function pair(extra: Parameters<typeof openDevice>[2] = {}): Promise<{ a: DataLayer; b: DataLayer; ab: () => Promise<void>; ba: () => Promise<void> }> {
  const a = await openDevice('a', undefined, extra);
  const b = await openDevice('b', undefined, extra);
  await a.sql.execute(`INSERT INTO users (id, name) VALUES ('u1', 'Ada')`);
  await a.sql.execute(`INSERT INTO user_preferences (user_id) VALUES ('u1')`);
  await a.sync.enable();
  await b.sync.enable();
  await pairDevices(a, b);
  const [aId, bId] = [await a.sync.deviceId(), await b.sync.deviceId()];
  const ab = async () => void (await b.sync.importChanges(await a.sync.exportChanges(bId)));
  const ba = async () => void (await a.sync.importChanges(await b.sync.exportChanges(aId)));
  await ab();
  await ba();
  return { a, b, ab, ba };
}

describe('merge rules', () => {
  it('preferences merge column by column, last writer (by HLC) wins per column', async () => {
    const { a, b, ab, ba } = await pair();
    await a.sql.execute(`UPDATE user_preferences SET language = 'de' WHERE user_id = 'u1'`);
    await b.sql.execute(`UPDATE user_preferences SET privacy_level = 'strict' WHERE user_id = 'u1'`);
    await b.sql.execute(`UPDATE user_preferences SET personality_style = 'formal' WHERE user_id = 'u1'`);
    // Stamps are wall milliseconds first: wait until the wall clock is past b's last stamp, so a's write is the later one.
    const bWall = Number((await b.sql.queryOne<{ wall: number }>(`SELECT wall FROM sync_clock WHERE id = 1`))!.wall);
    await clockPast(bWall + 1);
    await a.sql.execute(`UPDATE user_preferences SET personality_style = 'playful' WHERE user_id = 'u1'`); // later: wins
    await ab();
    await ba();
    const want = { language: 'de', privacy_level: 'strict', personality_style: 'playful' };
    const cols = `SELECT language, privacy_level, personality_style FROM user_preferences`;
    expect(await a.sql.queryOne(cols)).toEqual(want);
    expect(await b.sql.queryOne(cols)).toEqual(want);
    expect(await a.sync.conflicts()).toEqual([]); // preferences never go to the ledger
  });

  it('messages from two offline devices are a union in time order; a delete wins over an older edit', async () => {
    const { a, b, ab, ba } = await pair();
    await a.sql.execute(`INSERT INTO conversations (id, user_id) VALUES ('c1', 'u1')`);
    await ab();
    await a.sql.execute(`INSERT INTO messages (id, conversation_id, user_id, role, content, created_at) VALUES ('m-a', 'c1', 'u1', 'user', 'from a', '2026-01-01T10:00:01Z')`);
    await b.sql.execute(`INSERT INTO messages (id, conversation_id, user_id, role, content, created_at) VALUES ('m-b', 'c1', 'u1', 'assistant', 'from b', '2026-01-01T10:00:00Z')`);
    await ab();
    await ba();
    const q = `SELECT id, content FROM messages WHERE conversation_id = 'c1' ORDER BY created_at, id`;
    expect(await a.sql.query(q)).toEqual([{ id: 'm-b', content: 'from b' }, { id: 'm-a', content: 'from a' }]);
    expect(await b.sql.query(q)).toEqual(await a.sql.query(q));
    await b.sql.execute(`UPDATE messages SET content = 'edited' WHERE id = 'm-a'`);
    await a.sql.execute(`DELETE FROM messages WHERE id = 'm-a'`);
    await ab();
    await ba();
    expect(await a.sql.query(q)).toEqual([{ id: 'm-b', content: 'from b' }]);
    expect(await b.sql.query(q)).toEqual([{ id: 'm-b', content: 'from b' }]);
    // Full-text search follows on both devices.
    expect(await b.sql.query(`SELECT rowid FROM messages_fts WHERE messages_fts MATCH 'edited'`)).toEqual([]);
  });

  it('a row whose parent has not arrived waits, and is written once the parent comes', async () => {
    const { a, b } = await pair();
    const bId = await b.sync.deviceId();
    await a.sql.execute(`INSERT INTO conversations (id, user_id) VALUES ('c1', 'u1')`);
    const parentStamp = (await a.sql.queryOne<{ h: string }>(`SELECT max(hlc) AS h FROM sync_changes`))!.h;
    await a.sql.execute(`INSERT INTO messages (id, conversation_id, user_id, role, content) VALUES ('m1', 'c1', 'u1', 'user', 'child first')`);
    // Only what came after the conversation: the message alone.
    const r = await b.sync.importChanges(await a.sync.exportChanges(bId, parentStamp));
    expect(r).toMatchObject({ applied: 1, pending: 1 });
    expect(await b.sql.query(`SELECT id FROM messages`)).toEqual([]);
    expect((await b.sync.status()).pendingRows).toBe(1);
    // b did not advance past the gap, so the next changeset carries the conversation too.
    const r2 = await b.sync.importChanges(await a.sync.exportChanges(bId));
    expect(r2.pending).toBe(0);
    expect(await b.sql.query(`SELECT id, content FROM messages`)).toEqual([{ id: 'm1', content: 'child first' }]);
    expect((await b.sync.status()).pendingRows).toBe(0);
    await expectCode(a.sync.exportChanges(bId, 'not a stamp'), 'INVALID_ARGUMENT');
  });

  it('diverging memory edits go to the ledger with both versions, publish an event, and resolve (keep one, keep both, merge)', async () => {
    const events: { topic: string; payload: Record<string, unknown> }[] = [];
    const { a, b, ab, ba } = await pair({ sync: { publish: (topic, payload) => void events.push({ topic, payload: { ...payload } }) } });
    for (const id of ['m1', 'm2', 'm3', 'm4']) await a.sql.execute(`INSERT INTO memories (id, user_id, type, content) VALUES (?, 'u1', 'fact', 'likes jazz')`, [id]);
    await ab();
    // Sequential edits (b saw a's edit first) are not conflicts.
    await a.sql.execute(`UPDATE memories SET content = 'likes bebop' WHERE id = 'm4'`);
    await ab();
    await b.sql.execute(`UPDATE memories SET content = 'likes cool jazz' WHERE id = 'm4'`);
    await ba();
    expect(await a.sync.conflicts()).toEqual([]);
    // Concurrent edits of m1..m3 on both devices.
    for (const id of ['m1', 'm2', 'm3']) {
      await a.sql.execute(`UPDATE memories SET content = 'likes jazz piano' WHERE id = ?`, [id]);
      await b.sql.execute(`UPDATE memories SET content = 'likes jazz guitar' WHERE id = ?`, [id]);
    }
    await ab();
    await ba();
    const ledger = await a.sync.conflicts();
    expect(ledger.map((c) => c.rowId).sort()).toEqual(['m1', 'm2', 'm3']);
    for (const c of ledger) expect([c.a.row!.content, c.b.row!.content].sort()).toEqual(['likes jazz guitar', 'likes jazz piano']);
    expect((await b.sync.conflicts()).map((c) => c.id).sort()).toEqual(ledger.map((c) => c.id).sort());
    expect(events.length).toBeGreaterThanOrEqual(3);
    expect(events.every((e) => e.topic === CONFLICT_TOPIC && !JSON.stringify(e.payload).includes('jazz'))).toBe(true);
    const same = `SELECT id, content FROM memories ORDER BY id`;
    expect(await b.sql.query(same)).toEqual(await a.sql.query(same));

    const byRow = Object.fromEntries(ledger.map((c) => [c.rowId, c]));
    await a.sync.resolve(byRow.m1!.id, { keep: 'a' });
    const both = await b.sync.resolve(byRow.m2!.id, { keep: 'both' });
    await a.sync.resolve(byRow.m3!.id, { merge: { content: 'likes jazz piano and guitar' } });
    await expectCode(a.sync.resolve(byRow.m1!.id, { keep: 'b' }), 'CONFLICT');
    await expectCode(a.sync.resolve('nope', { keep: 'a' }), 'NOT_FOUND');
    await expectCode(b.sync.resolve(byRow.m3!.id, { merge: { seq: 1 } }), 'INVALID_ARGUMENT');
    await ab();
    await ba();
    await ab();
    expect(await b.sql.query(same)).toEqual(await a.sql.query(same));
    const contents = Object.fromEntries((await a.sql.query<{ id: string; content: string }>(same)).map((r) => [r.id, r.content]));
    expect(contents.m1).toBe(byRow.m1!.a.row!.content);
    expect(contents.m3).toBe('likes jazz piano and guitar');
    expect(both.addedRowId).toBeDefined();
    expect([contents.m2, contents[both.addedRowId!]].sort()).toEqual(['likes jazz guitar', 'likes jazz piano']);
    expect(await a.sync.conflicts()).toEqual([]);
    expect((await b.sync.conflicts({ status: 'resolved' })).length).toBe(3);
  });
});

describe('conflict events on the data layer bus', () => {
  it('by default, sync/conflict/detected/v1 goes to data.bus with ids only', async () => {
    const { a, b, ab, ba } = await pair();
    const seen: { topic: string; payload: Record<string, unknown> }[] = [];
    await a.bus!.subscribe(CONFLICT_TOPIC, (env) => void seen.push({ topic: env.metadata.message_type, payload: env.payload as Record<string, unknown> }));
    await a.sql.execute(`INSERT INTO memories (id, user_id, type, content) VALUES ('m1', 'u1', 'fact', 'tea')`);
    await ab();
    await a.sql.execute(`UPDATE memories SET content = 'green tea' WHERE id = 'm1'`);
    await b.sql.execute(`UPDATE memories SET content = 'black tea' WHERE id = 'm1'`);
    await ba();
    const [conflict] = await a.sync.conflicts();
    for (let i = 0; i < 200 && seen.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(seen).toEqual([{ topic: CONFLICT_TOPIC, payload: expect.objectContaining({ conflictId: conflict!.id, table: 'memories', rowId: 'm1' }) }]);
    expect(JSON.stringify(seen)).not.toContain('tea');
  });
});

describe('derived stores', () => {
  it('rows a changeset writes enter the outbox like local writes, so Chroma (re-embedding the synced text), DuckDB and the bus follow', async () => {
    const { a, b, ab } = await pair({ outbox: undefined });
    await a.sql.execute(`INSERT INTO conversations (id, user_id) VALUES ('c1', 'u1')`);
    await a.sql.execute(`INSERT INTO memories (id, user_id, type, content) VALUES ('mem1', 'u1', 'fact', 'likes tea')`);
    const before = (await b.sql.queryOne<{ n: number }>(`SELECT count(*) AS n FROM outbox WHERE aggregate_id IN ('c1', 'mem1')`))!.n;
    expect(before).toBe(0);
    await ab();
    const rows = await b.sql.query<{ topic: string; aggregate_id: string }>(`SELECT topic, aggregate_id FROM outbox WHERE aggregate_id IN ('c1', 'mem1') ORDER BY seq`);
    expect(rows).toEqual([
      { topic: 'data/conversation/created/v1', aggregate_id: 'c1' },
      { topic: 'data/memory/created/v1', aggregate_id: 'mem1' },
    ]);
  });
});

describe('hybrid logical clock', () => {
  it('a device that saw a change stamps its next write after it, even when the sender clock runs ahead', async () => {
    const { a, b, ba } = await pair();
    // b's clock is an hour ahead of a's.
    await b.sql.execute(`UPDATE sync_clock SET wall = wall + 3600000 WHERE id = 1`);
    await b.sql.execute(`UPDATE users SET nickname = 'from b' WHERE id = 'u1'`);
    const fromB = await b.sql.queryOne<{ hlc: string }>(`SELECT hlc FROM sync_changes ORDER BY seq DESC LIMIT 1`);
    await ba();
    await a.sql.execute(`UPDATE users SET nickname = 'from a, later' WHERE id = 'u1'`);
    const fromA = await a.sql.queryOne<{ hlc: string }>(`SELECT hlc FROM sync_changes WHERE origin = ? ORDER BY seq DESC LIMIT 1`, [await a.sync.deviceId()]);
    expect(fromA!.hlc > fromB!.hlc).toBe(true);
    expect(fromA!.hlc.slice(0, 15)).toBe(fromB!.hlc.slice(0, 15)); // same wall ms, counter moved on
    expect(await a.sql.queryOne(`SELECT nickname FROM users`)).toEqual({ nickname: 'from a, later' });
    // Stamps of one device strictly increase, also within one statement.
    await a.sql.execute(`INSERT INTO system_config (key, value) SELECT 'k' || value, '1' FROM json_each('[1,2,3,4,5]')`);
    const stamps = (await a.sql.query<{ hlc: string }>(`SELECT hlc FROM sync_changes WHERE origin = ? ORDER BY seq`, [await a.sync.deviceId()])).map((r) => r.hlc);
    expect([...stamps].sort()).toEqual(stamps);
    expect(new Set(stamps).size).toBe(stamps.length);
  });
});

describe('policies', () => {
  it('on-demand tables wait for an explicit request without making the peer skip them; never stops capture', async () => {
    const { a, b, ab } = await pair();
    const bId = await b.sync.deviceId();
    await a.sync.setPolicy('memories', 'on_demand');
    await a.sql.execute(`INSERT INTO memories (id, user_id, type, content) VALUES ('m1', 'u1', 'fact', 'on demand')`);
    await a.sql.execute(`INSERT INTO conversations (id, user_id, title) VALUES ('c1', 'u1', 'immediate')`);
    expect((await a.sync.status()).peers[0]).toMatchObject({ deviceId: bId, due: true });
    await ab();
    expect(await b.sql.query(`SELECT id FROM conversations`)).toEqual([{ id: 'c1' }]);
    expect(await b.sql.query(`SELECT id FROM memories`)).toEqual([]);
    // b reported what it holds; the skipped memory is still owed.
    await a.sync.importChanges(await b.sync.exportChanges(await a.sync.deviceId()));
    await ab();
    expect(await b.sql.query(`SELECT id FROM memories`)).toEqual([]);
    await b.sync.importChanges(await a.sync.exportChanges(bId, undefined, { onDemand: true }));
    expect(await b.sql.query(`SELECT id FROM memories`)).toEqual([{ id: 'm1' }]);

    const count = async () => (await a.sql.queryOne<{ n: number }>(`SELECT count(*) AS n FROM sync_changes`))!.n;
    await a.sync.setPolicy('system_config', 'never');
    const n = await count();
    await a.sql.execute(`INSERT INTO system_config (key, value) VALUES ('local', '1')`);
    expect(await count()).toBe(n);
    await expectCode(a.sync.setPolicy('devices', 'never'), 'INVALID_ARGUMENT');
    await expectCode(a.sync.setPolicy('outbox', 'batch'), 'INVALID_ARGUMENT');
    await expectCode(a.sync.setPolicy('users', 'sometimes' as never), 'INVALID_ARGUMENT');
    expect((await a.sync.policies()).memories).toBe('on_demand');
    const st = await a.sync.status();
    expect(st.localOnly).toHaveProperty('kv');
    expect(st.localOnly).toHaveProperty('secrets');
  });
});

describe('selective sync by criticality', () => {
  it('a selective device gets the critical tables only, and the rest once it is widened again', async () => {
    const { a, b, ab } = await pair();
    const bId = await b.sync.deviceId();
    await a.sync.setDevicePolicy(bId, 'selective');
    await a.sql.execute(`INSERT INTO conversations (id, user_id) VALUES ('c1', 'u1')`);
    await a.sql.execute(`INSERT INTO memories (id, user_id, type, content) VALUES ('m1', 'u1', 'fact', 'critical')`);
    await a.sql.execute(`UPDATE user_preferences SET language = 'fr'`);
    await ab();
    expect(await b.sql.query(`SELECT id FROM memories`)).toEqual([{ id: 'm1' }]);
    expect(await b.sql.queryOne(`SELECT language FROM user_preferences`)).toEqual({ language: 'fr' });
    expect(await b.sql.query(`SELECT id FROM conversations`)).toEqual([]);
    await a.sync.importChanges(await b.sync.exportChanges(await a.sync.deviceId()));
    await a.sync.setDevicePolicy(bId, 'none');
    await a.sql.execute(`INSERT INTO memories (id, user_id, type, content) VALUES ('m2', 'u1', 'fact', 'later')`);
    await ab();
    expect(await b.sql.query(`SELECT id FROM memories ORDER BY id`)).toEqual([{ id: 'm1' }]);
    expect((await b.sync.devices()).find((d) => d.id === bId)).toBeDefined(); // the registry still flows
    await a.sync.setDevicePolicy(bId, 'full');
    await ab();
    expect(await b.sql.query(`SELECT id FROM conversations`)).toEqual([{ id: 'c1' }]);
    expect(await b.sql.query(`SELECT id FROM memories ORDER BY id`)).toEqual([{ id: 'm1' }, { id: 'm2' }]);
    await expectCode(a.sync.setDevicePolicy(bId, 'some' as never), 'INVALID_ARGUMENT');
    await expectCode(a.sync.setDevicePolicy('0'.repeat(32), 'full'), 'NOT_FOUND');
  });
});

describe('schema versions', () => {
  it('quarantines a changeset from a newer schema until this folder has migrated', async () => {
    // A "newer release": the sync component with one more version.
    const newer = defaultRegistry.fork((c) => c.name !== 'sync');
    newer.register({
      name: 'sync',
      type: 'core',
      priority: 95,
      dependsOn: [...defaultRegistry.get('sync')!.dependsOn],
      versions: [
        ...SyncSchema.versions,
        { version: SyncSchema.versions.length + 1, name: 'note', up: ['ALTER TABLE sync_peers ADD COLUMN note TEXT'], down: ['ALTER TABLE sync_peers DROP COLUMN note'] },
      ],
    });
    const a = await openDevice('a', undefined, { schemas: { registry: newer } });
    const b = await openDevice('b');
    await a.sync.enable();
    await b.sync.enable();
    await pairDevices(a, b);
    await a.sql.execute(`INSERT INTO users (id, name) VALUES ('u1', 'from a newer schema')`);
    const bytes = await a.sync.exportChanges(await b.sync.deviceId());
    const r = await b.sync.importChanges(bytes);
    expect(r.status).toBe('quarantined');
    expect(await b.sql.query(`SELECT id FROM users`)).toEqual([]);
    expect((await b.sync.status()).quarantined).toBe(1);
    expect(await b.sync.retryQuarantined()).toBe(0);
    const dir = b.dir;
    await b.close();
    const upgraded = await openDevice('b', dir, { schemas: { registry: newer } });
    expect(await upgraded.sql.query(`SELECT name FROM users`)).toEqual([]);
    // The first sync call after the upgrade applies what waited.
    expect((await upgraded.sync.status()).quarantined).toBe(0);
    expect(await upgraded.sql.query(`SELECT name FROM users`)).toEqual([{ name: 'from a newer schema' }]);
    expect(await upgraded.sync.retryQuarantined()).toBe(0);
  });
});
