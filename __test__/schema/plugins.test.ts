/**
 * Plugin schemas: lifecycle (activate, deactivate, remove) and isolation (namespace and SQL
 * sandbox), on real encrypted databases.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { defineSchema, openSchemas, type SchemaManager, type SchemaVersion } from '../../src/schema/index.js';
import { defaultRegistry } from '../../src/schema/index.js';
import { cleanupAll, expectCode, freshDir, hasTable, openLayer } from './helpers.js';

afterEach(cleanupAll);

const NOTES: SchemaVersion[] = [
  {
    version: 1,
    name: 'items',
    up: [
      'CREATE TABLE plugin_notes_items (id INTEGER PRIMARY KEY, body TEXT NOT NULL)',
      'CREATE INDEX plugin_notes_items_body ON plugin_notes_items (body)',
    ],
    down: ['DROP TABLE plugin_notes_items'],
  },
  {
    version: 2,
    name: 'tags',
    up: ['CREATE TABLE plugin_notes_tags (note_id INTEGER NOT NULL REFERENCES plugin_notes_items (id) ON DELETE CASCADE, tag TEXT NOT NULL)'],
    down: ['DROP TABLE plugin_notes_tags'],
  },
];

const TODO: SchemaVersion[] = [
  { version: 1, name: 'items', up: ['CREATE TABLE plugin_todo_items (id INTEGER PRIMARY KEY, title TEXT)'], down: ['DROP TABLE plugin_todo_items'] },
];

/** A data layer (core schemas applied) and a manager whose registry = core + the given plugins. */
async function setup(plugins: Record<string, SchemaVersion[]> = { notes: NOTES, todo: TODO }, deps: Record<string, string[]> = {}) {
  const layer = await openLayer(freshDir());
  const registry = defaultRegistry.fork((c) => c.type === 'core');
  for (const [name, versions] of Object.entries(plugins)) {
    defineSchema({ name, type: 'plugin', versions, dependsOn: deps[name] ?? [] }, registry);
  }
  const schemas = await openSchemas(layer.sql, { registry });
  await layer.sql.execute(`INSERT INTO users (id, name) VALUES ('u1', 'Ada')`);
  return { layer, schemas };
}

async function statusOf(m: SchemaManager, name: string) {
  return (await m.status()).find((s) => s.name === name)!;
}

describe('plugin lifecycle', () => {
  it('activatePlugin applies the versions; the plugin is not applied before', async () => {
    const { layer, schemas } = await setup();
    expect(await statusOf(schemas, 'notes')).toMatchObject({ state: 'not-installed', version: 0, pending: 2 });
    expect(await hasTable(layer, 'plugin_notes_items')).toBe(false);
    const res = await schemas.activatePlugin('notes');
    expect(res.applied.map((s) => s.version)).toEqual([1, 2]);
    expect(await statusOf(schemas, 'notes')).toMatchObject({ type: 'plugin', state: 'active', version: 2, pending: 0 });
    expect(await hasTable(layer, 'plugin_notes_tags')).toBe(true);
    // activating again runs nothing
    expect((await schemas.activatePlugin('notes')).applied).toEqual([]);
  });

  it('deactivatePlugin keeps the data; activating again reuses it', async () => {
    const { layer, schemas } = await setup();
    await schemas.activatePlugin('notes');
    await layer.sql.execute(`INSERT INTO plugin_notes_items (body) VALUES ('keep me')`);
    await schemas.deactivatePlugin('notes');
    expect(await statusOf(schemas, 'notes')).toMatchObject({ state: 'inactive', version: 2 });
    expect(await layer.sql.query(`SELECT body FROM plugin_notes_items`)).toEqual([{ body: 'keep me' }]);
    await schemas.activatePlugin('notes');
    expect(await statusOf(schemas, 'notes')).toMatchObject({ state: 'active', version: 2 });
    expect(await layer.sql.query(`SELECT body FROM plugin_notes_items`)).toEqual([{ body: 'keep me' }]);
  });

  it('removePlugin requires { dropData: true }, then runs the downs to 0', async () => {
    const { layer, schemas } = await setup();
    await schemas.activatePlugin('notes');
    await layer.sql.execute(`INSERT INTO plugin_notes_items (body) VALUES ('x')`);
    await expectCode(schemas.removePlugin('notes'), 'INVALID_ARGUMENT');
    await expectCode(schemas.removePlugin('notes', { dropData: false }), 'INVALID_ARGUMENT');
    expect(await hasTable(layer, 'plugin_notes_items')).toBe(true);
    const res = await schemas.removePlugin('notes', { dropData: true });
    expect(res.applied.map((s) => [s.direction, s.version])).toEqual([
      ['down', 2],
      ['down', 1],
    ]);
    expect(await hasTable(layer, 'plugin_notes_items')).toBe(false);
    expect(await hasTable(layer, 'plugin_notes_tags')).toBe(false);
    expect(await statusOf(schemas, 'notes')).toMatchObject({ state: 'removed', version: 0 });
    // and it can come back
    await schemas.activatePlugin('notes');
    expect(await statusOf(schemas, 'notes')).toMatchObject({ state: 'active', version: 2 });
  });

  it('rejects unknown plugins and names with SQL metacharacters', async () => {
    const { schemas } = await setup();
    await expectCode(schemas.removePlugin('ghost', { dropData: true }), 'NOT_FOUND');
    await expectCode(schemas.activatePlugin('ghost'), 'NOT_FOUND');
    await expectCode(schemas.deactivatePlugin('ghost'), 'NOT_FOUND');
    for (const bad of ["notes'; DROP TABLE users; --", 'notes_x', 'no tes', 'NOTES', '']) {
      await expectCode(schemas.activatePlugin(bad), 'INVALID_ARGUMENT');
      await expectCode(schemas.removePlugin(bad, { dropData: true }), 'INVALID_ARGUMENT');
      await expectCode(() => schemas.pluginSql(bad), 'INVALID_ARGUMENT');
    }
    await expectCode(schemas.activatePlugin('users'), 'INVALID_ARGUMENT'); // 'users' is a core schema, not a plugin
  });

  it('a plugin that depends on another needs it active first', async () => {
    const { schemas } = await setup({ notes: NOTES, todo: TODO }, { todo: ['notes'] });
    await expectCode(schemas.activatePlugin('todo'), 'SCHEMA_DEPENDENCY');
    await schemas.activatePlugin('notes');
    await schemas.activatePlugin('todo');
    await expectCode(schemas.deactivatePlugin('notes'), 'SCHEMA_DEPENDENCY');
    await expectCode(schemas.removePlugin('notes', { dropData: true }), 'SCHEMA_DEPENDENCY');
  });

  it('a failing plugin version rolls back and leaves the plugin inactive', async () => {
    const broken: SchemaVersion[] = [...NOTES, { version: 3, name: 'bad', up: ['CREATE TABLE plugin_notes_x (a)', 'NOT SQL'], down: ['DROP TABLE plugin_notes_x'] }];
    const { layer, schemas } = await setup({ notes: broken });
    const err = await expectCode(schemas.activatePlugin('notes'), 'MIGRATION_FAILED');
    expect(err.details).toMatchObject({ component: 'notes', version: 3, statementIndex: 1 });
    expect(await statusOf(schemas, 'notes')).toMatchObject({ version: 2, state: 'inactive' });
    expect(await hasTable(layer, 'plugin_notes_x')).toBe(false);
  });
});

describe('plugin namespace: DDL outside plugin_<name>_* is refused', () => {
  const cases: Array<[string, string[]]> = [
    ['create an unprefixed table', ['CREATE TABLE notes_items (id INTEGER PRIMARY KEY)']],
    ["create a table in another plugin's namespace", ['CREATE TABLE plugin_todo_sneaky (id INTEGER PRIMARY KEY)']],
    ['drop a core table', ['DROP TABLE users']],
    ['alter a core table', ['ALTER TABLE users ADD COLUMN plugin_notes_flag INTEGER']],
    ['index a core table', ['CREATE INDEX plugin_notes_idx ON users (name)']],
    ['put a trigger on a core table', ["CREATE TRIGGER plugin_notes_trg AFTER INSERT ON users BEGIN SELECT 1; END"]],
    ['reference a core table', ['CREATE TABLE plugin_notes_owned (user_id TEXT REFERENCES users (id))']],
  ];
  for (const [what, up] of cases) {
    it(`cannot ${what}`, async () => {
      const { layer, schemas } = await setup({ notes: [{ version: 1, name: 'evil', up, down: ['SELECT 1'] }], todo: TODO });
      const err = await expectCode(schemas.activatePlugin('notes'), 'MIGRATION_FAILED');
      expect(err.details?.['causeCode']).toBe('NOT_AUTHORIZED');
      expect(await hasTable(layer, 'users')).toBe(true);
      expect(await layer.sql.query(`SELECT id FROM users`)).toEqual([{ id: 'u1' }]);
      expect(await hasTable(layer, 'notes_items')).toBe(false);
      expect(await hasTable(layer, 'plugin_notes_owned')).toBe(false);
      const cols = await layer.sql.query<{ name: string }>(`SELECT name FROM pragma_table_info('users')`);
      expect(cols.map((c) => c.name)).not.toContain('plugin_notes_flag');
      expect(await statusOf(schemas, 'notes')).toMatchObject({ version: 0 });
    });
  }
});

describe('plugin SQL sandbox (SQLite authorizer)', () => {
  it("a plugin's SQL handle reads and writes its own tables only", async () => {
    const { layer, schemas } = await setup();
    await schemas.activatePlugin('notes');
    await schemas.activatePlugin('todo');
    await layer.sql.execute(`INSERT INTO plugin_todo_items (title) VALUES ('theirs')`);
    const sql = schemas.pluginSql('notes');
    expect(sql.prefix).toBe('plugin_notes_');

    await sql.execute(`INSERT INTO plugin_notes_items (body) VALUES (?)`, ['mine']);
    expect(await sql.query(`SELECT body FROM plugin_notes_items`)).toEqual([{ body: 'mine' }]);
    await sql.transaction(async (tx) => {
      await tx.execute(`UPDATE plugin_notes_items SET body = 'mine2'`);
    });
    expect(await sql.queryOne(`SELECT body FROM plugin_notes_items`)).toEqual({ body: 'mine2' });

    await expectCode(sql.query(`SELECT * FROM users`), 'NOT_AUTHORIZED');
    await expectCode(sql.query(`SELECT count(*) FROM plugin_notes_items JOIN users ON 1`), 'NOT_AUTHORIZED');
    await expectCode(sql.execute(`INSERT INTO plugin_todo_items (title) VALUES ('hijack')`), 'NOT_AUTHORIZED');
    await expectCode(sql.query(`SELECT * FROM plugin_todo_items`), 'NOT_AUTHORIZED');
    await expectCode(sql.execute(`DROP TABLE users`), 'NOT_AUTHORIZED');
    await expectCode(sql.execute(`DELETE FROM _aico_schema_metadata`), 'NOT_AUTHORIZED');
    await expectCode(sql.execute(`CREATE TABLE plugin_notes_new (x)`), 'NOT_AUTHORIZED'); // no DDL outside migrations
    expect(await layer.sql.query(`SELECT title FROM plugin_todo_items`)).toEqual([{ title: 'theirs' }]);
    expect(await hasTable(layer, 'users')).toBe(true);
  });

  it("a plugin's migration cannot read core data either", async () => {
    const { layer, schemas } = await setup({
      notes: [{ version: 1, name: 'copy', up: ['CREATE TABLE plugin_notes_copy AS SELECT * FROM users'], down: ['DROP TABLE plugin_notes_copy'] }],
    });
    const err = await expectCode(schemas.activatePlugin('notes'), 'MIGRATION_FAILED');
    expect(err.details?.['causeCode']).toBe('NOT_AUTHORIZED');
    expect(await hasTable(layer, 'plugin_notes_copy')).toBe(false);
  });

  it('an inactive plugin has no SQL handle', async () => {
    const { schemas } = await setup();
    await schemas.activatePlugin('notes');
    const sql = schemas.pluginSql('notes');
    await schemas.deactivatePlugin('notes');
    await expectCode(sql.query('SELECT * FROM plugin_notes_items'), 'PLUGIN_INACTIVE');
    await expectCode(() => schemas.pluginSql('todo'), 'PLUGIN_INACTIVE');
  });
});
