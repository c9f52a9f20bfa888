/**
 * Attacks on the plugin sandbox (issue 15, items 9-12), made the way a plugin can: with its
 * `pluginSql` handle and its migrations, on real encrypted databases. Each asserts a typed
 * refusal and that the host's data and writes are intact.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { defineSchema, openSchemas, defaultRegistry, type SchemaVersion } from '../../src/schema/index.js';
import type { DataLayer } from '../../src/index.js';
import { cleanupAll, expectCode, freshDir, hasTable, openLayer } from './helpers.js';

afterEach(cleanupAll);

const ITEMS: SchemaVersion = {
  version: 1,
  name: 'items',
  up: ['CREATE TABLE plugin_spy_items (id INTEGER PRIMARY KEY, body TEXT)', 'CREATE TABLE plugin_spy_loot (x TEXT)'],
  down: ['DROP TABLE plugin_spy_loot', 'DROP TABLE plugin_spy_items'],
};

/** A data layer with a user and a message, and a manager that knows plugin `spy` (given versions). */
async function setup(versions: SchemaVersion[] = [ITEMS], dir = freshDir()) {
  const layer = await openLayer(dir);
  const registry = defaultRegistry.fork((c) => c.type === 'core');
  defineSchema({ name: 'spy', type: 'plugin', versions }, registry);
  const schemas = await openSchemas(layer.sql, { registry });
  await seed(layer);
  return { layer, schemas, dir };
}

async function seed(layer: DataLayer) {
  await layer.sql.execute(`INSERT INTO users (id, name) VALUES ('u1', 'Ada')`);
  await layer.sql.execute(`INSERT INTO conversations (id, user_id) VALUES ('c1', 'u1')`);
  await layer.sql.execute(`INSERT INTO messages (id, conversation_id, user_id, role, content) VALUES ('m1', 'c1', 'u1', 'user', 'my secret')`);
}

const ENDLESS = 'WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT max(x) AS n FROM c';
const BUDGET_MS = 2000; // SandboxLimits::DML.timeout

describe('item 9: sqlite_sequence is not the plugins\u2019 to touch', () => {
  it('the outbox counter cannot be exhausted or reset by a plugin; core writes keep working across a reopen', async () => {
    const { layer, schemas, dir } = await setup();
    await schemas.activatePlugin('spy');
    const before = await layer.sql.query(`SELECT name, seq FROM sqlite_sequence ORDER BY name`);
    expect(before.find((r) => r['name'] === 'outbox')).toBeDefined();
    const sql = schemas.pluginSql('spy');
    await expectCode(sql.execute(`UPDATE sqlite_sequence SET seq = 9223372036854775807 WHERE name = 'outbox'`), 'NOT_AUTHORIZED');
    await expectCode(sql.execute(`DELETE FROM sqlite_sequence WHERE name = 'outbox'`), 'NOT_AUTHORIZED');
    await expectCode(sql.execute(`INSERT INTO sqlite_sequence (name, seq) VALUES ('outbox', 9223372036854775807)`), 'NOT_AUTHORIZED');
    await expectCode(sql.query(`SELECT * FROM sqlite_sequence`), 'NOT_AUTHORIZED');
    await expectCode(sql.exec(`UPDATE sqlite_sequence SET seq = 9223372036854775807`), 'NOT_AUTHORIZED');
    await expectCode(
      sql.transaction(async (tx) => tx.execute(`UPDATE sqlite_sequence SET seq = 9223372036854775807 WHERE name = 'outbox'`)),
      'NOT_AUTHORIZED',
    );
    expect(await layer.sql.query(`SELECT name, seq FROM sqlite_sequence ORDER BY name`)).toEqual(before);
    await layer.close();

    const again = await openLayer(dir);
    await again.sql.execute(`INSERT INTO users (id, name) VALUES ('u2', 'Bob')`); // a core write: fires the outbox trigger
    const seqs = await again.sql.query<{ seq: number }>(`SELECT seq FROM outbox ORDER BY seq`);
    expect(seqs.length).toBeGreaterThan(0);
    expect(new Set(seqs.map((r) => r.seq)).size).toBe(seqs.length);
  });

  it('nor by a plugin migration', async () => {
    const { layer, schemas } = await setup([
      { ...ITEMS, up: [...ITEMS.up, `UPDATE sqlite_sequence SET seq = 9223372036854775807 WHERE name = 'outbox'`] },
    ]);
    // The outbox's counter: the failed activation itself records a history row (its own counter moves).
    const outboxSeq = `SELECT seq FROM sqlite_sequence WHERE name = 'outbox'`;
    const before = await layer.sql.query(outboxSeq);
    const err = await expectCode(schemas.activatePlugin('spy'), 'MIGRATION_FAILED');
    expect(err.details?.['causeCode']).toBe('NOT_AUTHORIZED');
    expect(await layer.sql.query(outboxSeq)).toEqual(before);
    expect(await hasTable(layer, 'plugin_spy_items')).toBe(false);
  });

  it('plugin schemas cannot use AUTOINCREMENT (its counter lives in sqlite_sequence)', async () => {
    const registry = defaultRegistry.fork((c) => c.type === 'core');
    const versions = [{ version: 1, name: 'a', up: ['CREATE TABLE plugin_auto_t (id INTEGER PRIMARY KEY AUTOINCREMENT)'], down: ['DROP TABLE plugin_auto_t'] }];
    const err = await expectCode(() => defineSchema({ name: 'auto', type: 'plugin', versions }, registry), 'SCHEMA_INVALID');
    expect(err.details).toMatchObject({ reason: 'autoincrement', version: 1 });
    expect(registry.get('auto')).toBeUndefined();
  });
});

describe('item 10: plugin triggers and views keep the plugin rights', () => {
  const STEAL = `CREATE TRIGGER plugin_spy_steal AFTER INSERT ON plugin_spy_items BEGIN
      INSERT INTO plugin_spy_loot SELECT content FROM messages;
      UPDATE users SET name = 'pwned';
    END`;

  it('a migration whose trigger body reads messages and writes users fails activation', async () => {
    const { layer, schemas } = await setup([{ ...ITEMS, up: [...ITEMS.up, STEAL] }]);
    const err = await expectCode(schemas.activatePlugin('spy'), 'MIGRATION_FAILED');
    expect(err.details?.['causeCode']).toBe('NOT_AUTHORIZED');
    expect(err.message).toContain('plugin_spy_steal');
    expect(await hasTable(layer, 'plugin_spy_items')).toBe(false);
  });

  it('a view over core tables fails activation', async () => {
    const { layer, schemas } = await setup([{ ...ITEMS, up: [...ITEMS.up, 'CREATE VIEW plugin_spy_people AS SELECT id, name FROM users'] }]);
    const err = await expectCode(schemas.activatePlugin('spy'), 'MIGRATION_FAILED');
    expect(err.details?.['causeCode']).toBe('NOT_AUTHORIZED');
    expect(await hasTable(layer, 'plugin_spy_items')).toBe(false);
  });

  it('a trigger already in the database (made before this check) cannot copy data when host code fires it', async () => {
    const { layer, schemas } = await setup();
    await schemas.activatePlugin('spy');
    // Planted directly under the plugin's DDL policy, as an older release let migrations do.
    await layer.sql.sandboxed({ prefix: 'plugin_spy_', allowDdl: true }).exec(`${STEAL}; CREATE VIEW plugin_spy_people AS SELECT name FROM users`);
    await expectCode(layer.sql.execute(`INSERT INTO plugin_spy_items (body) VALUES ('host write')`), 'NOT_AUTHORIZED');
    await expectCode(schemas.pluginSql('spy').execute(`INSERT INTO plugin_spy_items (body) VALUES ('plugin write')`), 'NOT_AUTHORIZED');
    await expectCode(layer.sql.query(`SELECT * FROM plugin_spy_people`), 'NOT_AUTHORIZED');
    await expectCode(schemas.pluginSql('spy').query(`SELECT * FROM plugin_spy_people`), 'NOT_AUTHORIZED');
    expect(await layer.sql.query(`SELECT count(*) AS n FROM plugin_spy_loot`)).toEqual([{ n: 0 }]);
    expect(await layer.sql.query(`SELECT name FROM users`)).toEqual([{ name: 'Ada' }]);
    expect(await layer.sql.query(`SELECT content FROM messages`)).toEqual([{ content: 'my secret' }]);
  });

  it('triggers and views inside the namespace still work, from the host and the plugin', async () => {
    const { layer, schemas } = await setup([
      {
        ...ITEMS,
        up: [
          ...ITEMS.up,
          `CREATE TRIGGER plugin_spy_log AFTER INSERT ON plugin_spy_items BEGIN INSERT INTO plugin_spy_loot VALUES (new.body); END`,
          'CREATE VIEW plugin_spy_bodies AS SELECT body FROM plugin_spy_items',
        ],
      },
    ]);
    await schemas.activatePlugin('spy');
    await layer.sql.execute(`INSERT INTO plugin_spy_items (body) VALUES ('host')`);
    const sql = schemas.pluginSql('spy');
    await sql.execute(`INSERT INTO plugin_spy_items (body) VALUES ('plugin')`);
    expect(await sql.query(`SELECT x FROM plugin_spy_loot ORDER BY x`)).toEqual([{ x: 'host' }, { x: 'plugin' }]);
    expect(await layer.sql.query(`SELECT body FROM plugin_spy_bodies ORDER BY body`)).toEqual([{ body: 'host' }, { body: 'plugin' }]);
  });
});

describe('item 11: plugin statements are bounded in time and size', () => {
  it('an endless recursive CTE is stopped with TIMEOUT within the budget', async () => {
    const { schemas } = await setup();
    await schemas.activatePlugin('spy');
    const sql = schemas.pluginSql('spy');
    const t0 = performance.now();
    await expectCode(sql.query(ENDLESS), 'TIMEOUT');
    expect(performance.now() - t0).toBeLessThan(BUDGET_MS + 2000);
    // the 8M rows: stopped by the row limit or the budget, never buffered whole
    const err = await sql.query('WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 8000000) SELECT x FROM c').catch((e) => e);
    expect(['TIMEOUT', 'INVALID_ARGUMENT']).toContain(err?.code);
    // and it still works afterwards
    expect(await sql.query('SELECT count(*) AS n FROM plugin_spy_items')).toEqual([{ n: 0 }]);
  }, 20_000);

  it('huge strings and blobs are refused', async () => {
    const { layer, schemas } = await setup();
    await schemas.activatePlugin('spy');
    const sql = schemas.pluginSql('spy');
    await expectCode(sql.query('SELECT length(randomblob(200000000)) AS n'), 'INVALID_ARGUMENT');
    await expectCode(sql.execute('INSERT INTO plugin_spy_items (body) VALUES (zeroblob(200000000))'), 'INVALID_ARGUMENT');
    expect(await layer.sql.query('SELECT count(*) AS n FROM plugin_spy_items')).toEqual([{ n: 0 }]);
    // the host's own limit is untouched
    expect(await layer.sql.query('SELECT length(zeroblob(50000000)) AS n')).toEqual([{ n: 50_000_000 }]);
  });

  it('four slow plugin queries do not stall host file reads or SQL; close() stops them with CLOSED', async () => {
    const { layer, schemas, dir } = await setup();
    await schemas.activatePlugin('spy');
    const sql = schemas.pluginSql('spy');
    const file = join(dir, '..', 'host.txt');
    await writeFile(file, 'host data');
    const slow = Array.from({ length: 4 }, () => sql.query(ENDLESS).then(() => null, (e) => e));
    const t0 = performance.now();
    expect(await readFile(file, 'utf8')).toBe('host data');
    expect(await layer.sql.query(`SELECT name FROM users`)).toEqual([{ name: 'Ada' }]);
    expect(performance.now() - t0).toBeLessThan(BUDGET_MS / 2);
    const t1 = performance.now();
    await layer.close();
    expect(performance.now() - t1).toBeLessThan(BUDGET_MS);
    const errors = await Promise.all(slow);
    for (const e of errors) expect(['CLOSED', 'TIMEOUT']).toContain(e?.code);
    expect(errors[0]?.code).toBe('CLOSED'); // the running one was interrupted, not timed out
  }, 20_000);

  it('close() interrupts a running plugin query and returns; the data stays', async () => {
    const { layer, schemas, dir } = await setup();
    await schemas.activatePlugin('spy');
    const sql = schemas.pluginSql('spy');
    await sql.execute(`INSERT INTO plugin_spy_items (body) VALUES ('kept')`);
    const running = sql.query(ENDLESS).then(() => null, (e) => e);
    await layer.sql.query('SELECT 1'); // a round trip through the pool: the plugin query is underway
    const t0 = performance.now();
    await layer.close();
    expect(performance.now() - t0).toBeLessThan(BUDGET_MS);
    expect((await running)?.code).toBe('CLOSED');
    const again = await openLayer(dir);
    expect(await again.sql.query(`SELECT body FROM plugin_spy_items`)).toEqual([{ body: 'kept' }]);
    expect(await again.sql.query(`SELECT name FROM users`)).toEqual([{ name: 'Ada' }]);
  }, 20_000);
});

describe('item 12: names with multi-byte characters', () => {
  it('are refused as plugin names at registration and as sandbox prefixes', async () => {
    const registry = defaultRegistry.fork((c) => c.type === 'core');
    for (const name of ['notés', 'é', 'plugin\u00e9', 'n\u0301otes', 'ノート']) {
      await expectCode(() => defineSchema({ name, type: 'plugin', versions: [ITEMS] }, registry), 'INVALID_ARGUMENT');
    }
    const { layer, schemas } = await setup();
    await expectCode(() => schemas.pluginSql('notés'), 'INVALID_ARGUMENT');
    await expectCode(layer.sql.sandboxed({ prefix: 'plugin_é_', allowDdl: false }).query('SELECT 1'), 'INVALID_ARGUMENT');
  });

  it('a table name with a multi-byte character across the prefix is denied, not a panic', async () => {
    // "plugin_spy" + "é": the 2-byte character straddles the 11-byte prefix "plugin_spy_".
    const { layer, schemas } = await setup([{ ...ITEMS, up: [...ITEMS.up, 'CREATE TABLE "plugin_spyé" (x)'] }]);
    const err = await expectCode(schemas.activatePlugin('spy'), 'MIGRATION_FAILED');
    expect(err.details?.['causeCode']).toBe('NOT_AUTHORIZED');
    await layer.sql.exec(`CREATE TABLE "plugin_spyé" (x); INSERT INTO "plugin_spyé" VALUES ('host')`);
    const fixed = await setup([ITEMS]);
    await fixed.schemas.activatePlugin('spy');
    await fixed.layer.sql.exec(`CREATE TABLE "plugin_spyé" (x)`);
    await expectCode(fixed.schemas.pluginSql('spy').query(`SELECT * FROM "plugin_spyé"`), 'NOT_AUTHORIZED');
    expect(await fixed.schemas.pluginSql('spy').query(`SELECT count(*) AS n FROM plugin_spy_items`)).toEqual([{ n: 0 }]);
    expect(await layer.sql.query(`SELECT x FROM "plugin_spyé"`)).toEqual([{ x: 'host' }]);
  });
});
