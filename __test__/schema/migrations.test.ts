/**
 * The migration mechanism on real encrypted databases, with test components in registries of
 * their own (`openSchemas(layer.sql, { registry })`), beside the core schemas.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { HISTORY_TABLE, METADATA_TABLE, SchemaRegistry, defineSchema, openSchemas, type SchemaVersion } from '../../src/schema/index.js';
import { cleanupAll, emptyRegistry, expectCode, freshDir, hasTable, openLayer, schemasOf, tableVersions } from './helpers.js';

afterEach(cleanupAll);

function registryWith(name: string, versions: SchemaVersion[], extra: Partial<Parameters<typeof defineSchema>[0]> = {}): SchemaRegistry {
  const r = emptyRegistry();
  defineSchema({ name, type: 'core', versions, ...extra }, r);
  return r;
}

describe('apply and failure', () => {
  it('a syntax error in version 3 of 5: 1-2 stay applied, 3 is rolled back, the history says so', async () => {
    const layer = await openLayer(freshDir());
    const registry = registryWith('five', tableVersions('five', 5, { version: 3, statement: 'CREAT TABLE oops (x)' }));
    const err = await expectCode(openSchemas(layer.sql, { registry }), 'MIGRATION_FAILED');
    expect(err.details).toMatchObject({ component: 'five', version: 3, direction: 'up', statementIndex: 2, statement: 'CREAT TABLE oops (x)' });
    expect(err.message).toContain('five');
    expect(err.message).toContain('version 3');
    expect(err.message).toContain('CREAT TABLE oops');

    expect(await hasTable(layer, 'five_1')).toBe(true);
    expect(await hasTable(layer, 'five_2')).toBe(true);
    expect(await hasTable(layer, 'five_3')).toBe(false); // its first two statements were rolled back
    expect(await hasTable(layer, 'five_4')).toBe(false);
    const meta = await layer.sql.queryOne<{ current_version: number; checksums: string }>(
      `SELECT current_version, checksums FROM ${METADATA_TABLE} WHERE name = 'five'`,
    );
    expect(meta!.current_version).toBe(2);
    expect(Object.keys(JSON.parse(meta!.checksums))).toEqual(['1', '2']);

    const h = await layer.sql.query<{ version: number; success: number; error: string | null; statement: string | null; direction: string }>(
      `SELECT version, success, error, statement, direction FROM ${HISTORY_TABLE} WHERE component = 'five' ORDER BY id`,
    );
    expect(h.map((r) => [r.version, r.success])).toEqual([
      [1, 1],
      [2, 1],
      [3, 0],
    ]);
    expect(h[2]!.error).toMatch(/syntax error|CREAT/i);
    expect(h[2]!.statement).toBe('CREAT TABLE oops (x)');

    // fixing version 3 and opening again applies 3, 4, 5
    const fixed = registryWith('five', tableVersions('five', 5));
    const m = await openSchemas(layer.sql, { registry: fixed });
    expect((await m.status()).find((s) => s.name === 'five')).toMatchObject({ version: 5, pending: 0 });
    expect(await hasTable(layer, 'five_5')).toBe(true);
  });

  it('keeps one version counter per component and applies dependencies first', async () => {
    const layer = await openLayer(freshDir());
    const r = emptyRegistry();
    defineSchema({ name: 'alpha', type: 'core', priority: 1, dependsOn: ['beta'], versions: tableVersions('alpha', 2) }, r);
    defineSchema({ name: 'beta', type: 'core', priority: 50, versions: tableVersions('beta', 3) }, r);
    const m = await openSchemas(layer.sql, { registry: r });
    const st = await m.status();
    expect(st.filter((s) => s.latest !== null).map((s) => [s.name, s.version])).toEqual([
      ['beta', 3],
      ['alpha', 2],
    ]);
    const h = (await m.history()).filter((x) => x.component === 'alpha' || x.component === 'beta');
    expect(h.map((x) => `${x.component}@${x.version}`)).toEqual(['beta@1', 'beta@2', 'beta@3', 'alpha@1', 'alpha@2']);
  });

  it('opening a database whose schema is newer than the code fails with SCHEMA_TOO_NEW and changes nothing', async () => {
    const layer = await openLayer(freshDir());
    await openSchemas(layer.sql, { registry: registryWith('nx', tableVersions('nx', 3)) });
    const meta = await layer.sql.query(`SELECT * FROM ${METADATA_TABLE} ORDER BY name`);
    const hist = await layer.sql.query(`SELECT * FROM ${HISTORY_TABLE} ORDER BY id`);
    const err = await expectCode(openSchemas(layer.sql, { registry: registryWith('nx', tableVersions('nx', 2)) }), 'SCHEMA_TOO_NEW');
    expect(err.details).toMatchObject({ component: 'nx', databaseVersion: 3, codeVersion: 2 });
    expect(await layer.sql.query(`SELECT * FROM ${METADATA_TABLE} ORDER BY name`)).toEqual(meta);
    expect(await layer.sql.query(`SELECT * FROM ${HISTORY_TABLE} ORDER BY id`)).toEqual(hist);
    expect(await hasTable(layer, 'nx_3')).toBe(true);
  });

  it('openDataLayer refuses a data folder whose core schema is newer than the code', async () => {
    const dir = freshDir();
    const a = await openLayer(dir);
    await a.sql.execute(`UPDATE ${METADATA_TABLE} SET current_version = 99 WHERE name = 'users'`);
    const hist = (await schemasOf(a).history()).length;
    await a.close();
    await expectCode(openLayer(dir), 'SCHEMA_TOO_NEW');
    // the folder was released and nothing was written: open without core schemas to look
    const b = await openLayer(dir, { schemas: { registry: new SchemaRegistry() } });
    expect((await b.sql.queryOne<{ v: number }>(`SELECT current_version AS v FROM ${METADATA_TABLE} WHERE name = 'users'`))!.v).toBe(99);
    expect((await b.sql.query(`SELECT id FROM ${HISTORY_TABLE}`)).length).toBe(hist);
  });
});

describe('checksums and drift', () => {
  it('an edited applied version raises SCHEMA_DRIFT naming it; white space edits do not', async () => {
    const layer = await openLayer(freshDir());
    const versions = tableVersions('dr', 3);
    await openSchemas(layer.sql, { registry: registryWith('dr', versions) });

    const reformatted = versions.map((v) => ({ ...v, up: v.up.map((s) => `  ${s.replace(/ /g, '\n  ')} ;  -- comment`) }));
    await openSchemas(layer.sql, { registry: registryWith('dr', reformatted) }); // no drift

    const edited = versions.map((v) => (v.version === 2 ? { ...v, up: [...v.up, `INSERT INTO dr_2 (v) VALUES ('extra')`] } : v));
    const err = await expectCode(openSchemas(layer.sql, { registry: registryWith('dr', edited) }), 'SCHEMA_DRIFT');
    expect(err.message).toContain('dr v2');
    expect(err.details?.['drift']).toEqual([expect.objectContaining({ component: 'dr', version: 2 })]);
    const before = await layer.sql.query(`SELECT * FROM ${HISTORY_TABLE}`);

    // a drift blocks pending versions too, until accepted
    const editedPlus = [...edited, ...tableVersions('dr', 4).slice(3)];
    await expectCode(openSchemas(layer.sql, { registry: registryWith('dr', editedPlus) }), 'SCHEMA_DRIFT');
    expect(await layer.sql.query(`SELECT * FROM ${HISTORY_TABLE}`)).toEqual(before);
    expect(await hasTable(layer, 'dr_4')).toBe(false);

    // explicit acceptance is recorded in the history, then the pending version runs
    const m = await openSchemas(layer.sql, { registry: registryWith('dr', editedPlus), acceptDrift: [{ component: 'dr', version: 2 }] });
    const h = await m.history('dr');
    const acc = h.filter((x) => x.direction === 'accept_drift');
    expect(acc).toHaveLength(1);
    expect(acc[0]).toMatchObject({ version: 2, success: true });
    expect(acc[0]!.note).toContain(registryWith('dr', edited).get('dr')!.checksums[1]!);
    expect(await hasTable(layer, 'dr_4')).toBe(true);
    // and the next open with the edited code is clean
    await openSchemas(layer.sql, { registry: registryWith('dr', editedPlus) });
  });

  it('acceptDrift for another component or version does not accept this one', async () => {
    const layer = await openLayer(freshDir());
    const versions = tableVersions('da', 2);
    await openSchemas(layer.sql, { registry: registryWith('da', versions) });
    const edited = versions.map((v) => (v.version === 1 ? { ...v, down: ['DROP TABLE IF EXISTS da_1'] } : v));
    await expectCode(openSchemas(layer.sql, { registry: registryWith('da', edited), acceptDrift: [{ component: 'da', version: 2 }] }), 'SCHEMA_DRIFT');
    await expectCode(openSchemas(layer.sql, { registry: registryWith('da', edited), acceptDrift: [{ component: 'other' }] }), 'SCHEMA_DRIFT');
  });
});

describe('migrate, plan, rollback', () => {
  it('plan() and dryRun show the steps without running them', async () => {
    const layer = await openLayer(freshDir());
    const r = registryWith('pl', tableVersions('pl', 3));
    const m = await openSchemas(layer.sql, { registry: r });
    const hist = await m.history();
    const down = await m.plan({ component: 'pl', target: 1 });
    expect(down.map((s) => [s.direction, s.version, s.from, s.to])).toEqual([
      ['down', 3, 3, 2],
      ['down', 2, 2, 1],
    ]);
    expect(down[0]!.statements).toEqual(['DROP TABLE pl_3']);
    const dry = await m.migrate('pl', { target: 1, dryRun: true });
    expect(dry.applied).toEqual([]);
    expect(dry.planned).toEqual(down);
    expect(await m.history()).toEqual(hist);
    expect(await hasTable(layer, 'pl_3')).toBe(true);
  });

  it('migrates down to a target with the down statements, and back up', async () => {
    const layer = await openLayer(freshDir());
    const r = registryWith('mg', tableVersions('mg', 3));
    const m = await openSchemas(layer.sql, { registry: r });
    const res = await m.migrate('mg', { target: 1 });
    expect(res.applied.map((s) => s.version)).toEqual([3, 2]);
    expect(await hasTable(layer, 'mg_1')).toBe(true);
    expect(await hasTable(layer, 'mg_2')).toBe(false);
    expect(await hasTable(layer, 'mg_3')).toBe(false);
    const meta = await layer.sql.queryOne<{ current_version: number; checksums: string }>(`SELECT current_version, checksums FROM ${METADATA_TABLE} WHERE name = 'mg'`);
    expect(meta!.current_version).toBe(1);
    expect(Object.keys(JSON.parse(meta!.checksums))).toEqual(['1']);
    const h = await m.history('mg');
    expect(h.slice(-2).map((x) => [x.direction, x.version, x.success])).toEqual([
      ['down', 3, true],
      ['down', 2, true],
    ]);
    await m.migrate('mg');
    expect((await m.status()).find((s) => s.name === 'mg')!.version).toBe(3);
    expect(await hasTable(layer, 'mg_3')).toBe(true);
  });

  it('refuses to cross an irreversible version, changing nothing', async () => {
    const layer = await openLayer(freshDir());
    const versions: SchemaVersion[] = [
      ...tableVersions('irr', 1),
      { version: 2, name: 'drop_v', up: ['ALTER TABLE irr_1 DROP COLUMN v'], down: [] },
    ];
    const m = await openSchemas(layer.sql, { registry: registryWith('irr', versions) });
    const err = await expectCode(m.migrate('irr', { target: 0 }), 'IRREVERSIBLE');
    expect(err.details?.['irreversible']).toEqual([2]);
    expect((await m.status())[0]!.version).toBe(2);
    expect(await hasTable(layer, 'irr_1')).toBe(true);
  });

  it('a down statement that cannot restore a dropped column fails and leaves the version applied', async () => {
    const layer = await openLayer(freshDir());
    const versions: SchemaVersion[] = [
      ...tableVersions('dc', 1),
      {
        version: 2,
        name: 'drop_v',
        up: ['ALTER TABLE dc_1 DROP COLUMN v'],
        // NOT NULL without a default cannot be added back to a table with rows
        down: ['ALTER TABLE dc_1 ADD COLUMN v TEXT NOT NULL'],
      },
    ];
    const m = await openSchemas(layer.sql, { registry: registryWith('dc', versions) });
    const err = await expectCode(m.migrate('dc', { target: 1 }), 'MIGRATION_FAILED');
    expect(err.details).toMatchObject({ component: 'dc', version: 2, direction: 'down', statementIndex: 0 });
    expect((await m.status())[0]!.version).toBe(2);
    expect((await layer.sql.query(`SELECT * FROM dc_1`)).length).toBe(1);
    const last = (await m.history('dc')).at(-1)!;
    expect(last).toMatchObject({ direction: 'down', version: 2, success: false });
  });

  it('rejects unknown components and bad targets', async () => {
    const layer = await openLayer(freshDir());
    const m = await openSchemas(layer.sql, { registry: registryWith('bt', tableVersions('bt', 2)) });
    await expectCode(m.migrate('nope'), 'NOT_FOUND');
    await expectCode(m.migrate('bt', { target: 3 }), 'INVALID_ARGUMENT');
    await expectCode(m.migrate('bt', { target: 1.5 }), 'INVALID_ARGUMENT');
  });

  it('refuses undoing a component another one depends on', async () => {
    const layer = await openLayer(freshDir());
    const r = emptyRegistry();
    defineSchema({ name: 'base', type: 'core', versions: tableVersions('base', 1) }, r);
    defineSchema({ name: 'top', type: 'core', dependsOn: ['base'], versions: tableVersions('top', 1) }, r);
    const m = await openSchemas(layer.sql, { registry: r });
    await expectCode(m.migrate('base', { target: 0 }), 'SCHEMA_DEPENDENCY');
    expect(await hasTable(layer, 'base_1')).toBe(true);
  });

  it('the core schemas can be rolled back and re-applied on their own lineage', async () => {
    const layer = await openLayer(freshDir());
    const m = schemasOf(layer);
    await m.migrate('search', { target: 0 });
    expect(await hasTable(layer, 'messages_fts')).toBe(false);
    expect((await m.status()).find((s) => s.name === 'search')!.version).toBe(0);
    expect((await m.status()).find((s) => s.name === 'users')!.version).toBe(1);
    await m.applyPending();
    expect(await hasTable(layer, 'messages_fts')).toBe(true);
  });
});
