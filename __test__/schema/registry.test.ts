/** Registration, validation, ordering and checksums: pure logic, no database. */
import { describe, expect, it } from 'vitest';
import {
  CORE_SCHEMAS,
  SchemaRegistry,
  checksumVersion,
  defaultRegistry,
  defineSchema,
  findCycle,
  normalizeStatement,
  orderComponents,
  pluginPrefix,
  registerSchema,
  schemaOf,
  type SchemaVersion,
} from '../../src/schema/index.js';
import { planComponent } from '../../src/schema/plan.js';
import { expectCode, tableVersions } from './support.js';

const v = (version: number, extra: Partial<SchemaVersion> = {}): SchemaVersion => ({
  version,
  name: `v${version}`,
  up: [`CREATE TABLE t${version} (x)`],
  down: [`DROP TABLE t${version}`],
  ...extra,
});

describe('@registerSchema decorator', () => {
  it('registers the versions held in a static property when the class is defined', () => {
    const registry = new SchemaRegistry();
    @registerSchema('notes', 'plugin', { priority: 7, dependsOn: ['users'], registry })
    class NotesSchema {
      static versions = [v(2), v(1)];
    }
    const c = registry.get('notes');
    expect(c).toBeDefined();
    expect(c!.type).toBe('plugin');
    expect(c!.priority).toBe(7);
    expect(c!.dependsOn).toEqual(['users']);
    expect(c!.versions.map((x) => x.version)).toEqual([1, 2]);
    expect(c!.latest).toBe(2);
    expect(c!.checksums).toHaveLength(2);
    expect(c!.checksums[0]).toMatch(/^[0-9a-f]{64}$/);
    expect(schemaOf(NotesSchema)).toBe(c);
  });

  it('reads an instance property when there is no static one', () => {
    const registry = new SchemaRegistry();
    @registerSchema('tasks', 'plugin', { registry })
    class TasksSchema {
      versions = [v(1)];
    }
    expect(registry.get('tasks')?.latest).toBe(1);
    expect(schemaOf(TasksSchema)?.name).toBe('tasks');
  });

  it('refuses a class without versions', async () => {
    const registry = new SchemaRegistry();
    await expectCode(() => {
      @registerSchema('empty', 'plugin', { registry })
      class Empty {}
      return Empty;
    }, 'SCHEMA_INVALID');
    expect(registry.has('empty')).toBe(false);
  });

  it('refuses a duplicate name, like defineSchema', async () => {
    const registry = new SchemaRegistry();
    defineSchema({ name: 'dup', type: 'core', versions: [v(1)] }, registry);
    const err = await expectCode(() => {
      @registerSchema('dup', 'core', { registry })
      class Dup {
        static versions = [v(1)];
      }
      return Dup;
    }, 'SCHEMA_CONFLICT');
    expect(err.message).toContain('dup');
  });
});

describe('defineSchema validation', () => {
  it('refuses duplicate names', async () => {
    const r = new SchemaRegistry();
    defineSchema({ name: 'a', type: 'core', versions: [v(1)] }, r);
    await expectCode(() => defineSchema({ name: 'a', type: 'core', versions: [v(1)] }, r), 'SCHEMA_CONFLICT');
  });

  it('refuses gaps in version numbers and names the missing ones', async () => {
    const r = new SchemaRegistry();
    const err = await expectCode(() => defineSchema({ name: 'g', type: 'core', versions: [v(1), v(2), v(4), v(6)] }, r), 'SCHEMA_VERSION_GAP');
    expect(err.details?.['missing']).toEqual([3, 5]);
    const err2 = await expectCode(() => defineSchema({ name: 'g2', type: 'core', versions: [v(2)] }, r), 'SCHEMA_VERSION_GAP');
    expect(err2.details?.['missing']).toEqual([1]);
    expect(r.size).toBe(0);
  });

  it('refuses duplicate version numbers, empty up, non-integer versions, missing down', async () => {
    const r = new SchemaRegistry();
    await expectCode(() => defineSchema({ name: 'd', type: 'core', versions: [v(1), v(1)] }, r), 'SCHEMA_INVALID');
    await expectCode(() => defineSchema({ name: 'd', type: 'core', versions: [v(1, { up: [] })] }, r), 'SCHEMA_INVALID');
    await expectCode(() => defineSchema({ name: 'd', type: 'core', versions: [v(1.5)] }, r), 'SCHEMA_INVALID');
    await expectCode(() => defineSchema({ name: 'd', type: 'core', versions: [{ version: 1, name: 'x', up: ['SELECT 1'] } as unknown as SchemaVersion] }, r), 'SCHEMA_INVALID');
    await expectCode(() => defineSchema({ name: 'd', type: 'core', versions: [] }, r), 'SCHEMA_INVALID');
  });

  it('refuses dependency cycles, naming the cycle', async () => {
    const r = new SchemaRegistry();
    defineSchema({ name: 'a', type: 'core', dependsOn: ['c'], versions: [v(1)] }, r);
    defineSchema({ name: 'b', type: 'core', dependsOn: ['a'], versions: [v(1)] }, r);
    const err = await expectCode(() => defineSchema({ name: 'c', type: 'core', dependsOn: ['b'], versions: [v(1)] }, r), 'SCHEMA_CYCLE');
    expect(err.details?.['cycle']).toEqual(['c', 'b', 'a', 'c']);
    expect(r.has('c')).toBe(false);
    await expectCode(() => defineSchema({ name: 's', type: 'core', dependsOn: ['s'], versions: [v(1)] }, r), 'SCHEMA_CYCLE');
  });

  it('refuses a core schema depending on a plugin', async () => {
    const r = new SchemaRegistry();
    defineSchema({ name: 'p', type: 'plugin', versions: [v(1)] }, r);
    await expectCode(() => defineSchema({ name: 'c', type: 'core', dependsOn: ['p'], versions: [v(1)] }, r), 'SCHEMA_DEPENDENCY');
  });

  it('refuses names with SQL metacharacters, and plugin names with underscores', async () => {
    const r = new SchemaRegistry();
    for (const name of ["x'; DROP TABLE users; --", 'a b', 'Users', 'plugin_x', '', '1abc', 'a"b']) {
      await expectCode(() => defineSchema({ name, type: 'core', versions: [v(1)] }, r), 'INVALID_ARGUMENT');
    }
    for (const name of ['my_plugin', "notes'--", 'notes;', 'Notes', 'a-b']) {
      await expectCode(() => defineSchema({ name, type: 'plugin', versions: [v(1)] }, r), 'INVALID_ARGUMENT');
    }
    await expectCode(() => pluginPrefix('x"y'), 'INVALID_ARGUMENT');
    expect(pluginPrefix('notes')).toBe('plugin_notes_');
    expect(r.size).toBe(0);
  });
});

describe('ordering', () => {
  const node = (name: string, priority: number, dependsOn: string[] = []) => ({ name, priority, dependsOn });

  it('orders by priority, then name', () => {
    expect(orderComponents([node('c', 2), node('b', 1), node('a', 2)]).map((n) => n.name)).toEqual(['b', 'a', 'c']);
  });

  it('puts dependencies first even against priority', () => {
    const out = orderComponents([node('search', 1, ['messages']), node('messages', 50, ['users']), node('users', 99), node('other', 10)]);
    expect(out.map((n) => n.name)).toEqual(['other', 'users', 'messages', 'search']);
  });

  it('detects a cycle in a set of nodes', async () => {
    const err = await expectCode(() => orderComponents([node('a', 1, ['b']), node('b', 1, ['a']), node('z', 0)]), 'SCHEMA_CYCLE');
    expect(err.message).toMatch(/a -> b -> a|b -> a -> b/);
    const nodes = new Map([['x', node('x', 0, ['y'])], ['y', node('y', 0, ['x'])]]);
    expect(findCycle('x', (n) => nodes.get(n))).toEqual(['x', 'y', 'x']);
    expect(findCycle('x', () => undefined)).toBeNull();
  });

  it('the default registry holds the core schemas in dependency order', () => {
    const names = defaultRegistry.list('core').map((c) => c.name);
    for (const n of CORE_SCHEMAS) expect(names).toContain(n);
    const at = (n: string) => names.indexOf(n);
    expect(at('users')).toBeLessThan(at('conversations'));
    expect(at('conversations')).toBeLessThan(at('memories'));
    expect(at('memories')).toBeLessThan(at('search'));
    expect(at('users')).toBeLessThan(at('devices'));
  });
});

describe('checksums', () => {
  it('ignore comments, white space and trailing semicolons', () => {
    const a = { up: ['CREATE TABLE t (a INTEGER, b TEXT)'], down: ['DROP TABLE t'] };
    const b = {
      up: ['-- the table\nCREATE   TABLE t(\n  a INTEGER , /* first */\n  b TEXT\n);\n'],
      down: ['  DROP TABLE t ;;'],
    };
    expect(normalizeStatement(b.up[0]!)).toBe('CREATE TABLE t(a INTEGER,b TEXT)');
    expect(checksumVersion(a)).toBe(checksumVersion(b));
    expect(checksumVersion(a)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('change when a string literal, an identifier, a statement or a down statement changes', () => {
    const base = { up: ["INSERT INTO t VALUES ('a  b')"], down: ['DELETE FROM t'] };
    const sum = checksumVersion(base);
    expect(normalizeStatement("INSERT INTO t VALUES ('a  b -- not a comment')")).toBe("INSERT INTO t VALUES('a  b -- not a comment')");
    expect(checksumVersion({ ...base, up: ["INSERT INTO t VALUES ('a b')"] })).not.toBe(sum);
    expect(checksumVersion({ ...base, up: ["INSERT INTO T VALUES ('a  b')"] })).not.toBe(sum);
    expect(checksumVersion({ ...base, down: ['DELETE FROM t WHERE 1'] })).not.toBe(sum);
    expect(checksumVersion({ ...base, up: [...base.up, 'SELECT 1'] })).not.toBe(sum);
    // moving a statement from up to down is a change too
    expect(checksumVersion({ up: [], down: [...base.up, ...base.down] })).not.toBe(sum);
  });

  it('keep quoted identifiers byte for byte', () => {
    expect(normalizeStatement('SELECT "a  b", [c  d], `e  f` FROM t')).toBe('SELECT "a  b",[c  d],`e  f` FROM t');
  });
});

describe('planning (pure)', () => {
  const r = new SchemaRegistry();
  const c = defineSchema({ name: 'plan_t', type: 'core', versions: [...tableVersions('pt', 2), { version: 3, name: 'drop_col', up: ['ALTER TABLE pt_1 DROP COLUMN v'], down: [] }] }, r);
  const row = (currentVersion: number) => ({ name: 'plan_t', type: 'core' as const, currentVersion, checksums: {}, state: 'active' as const, createdAt: '', updatedAt: '' });

  it('plans up and down steps with from/to', () => {
    expect(planComponent(c, undefined).map((s) => [s.direction, s.from, s.to])).toEqual([
      ['up', 0, 1],
      ['up', 1, 2],
      ['up', 2, 3],
    ]);
    expect(planComponent(c, row(2), 0).map((s) => [s.direction, s.version])).toEqual([
      ['down', 2],
      ['down', 1],
    ]);
    expect(planComponent(c, row(3))).toEqual([]);
  });

  it('refuses crossing an irreversible version and bad targets', async () => {
    const err = await expectCode(() => planComponent(c, row(3), 1), 'IRREVERSIBLE');
    expect(err.details?.['irreversible']).toEqual([3]);
    await expectCode(() => planComponent(c, row(1), 4), 'INVALID_ARGUMENT');
    await expectCode(() => planComponent(c, row(1), -1), 'INVALID_ARGUMENT');
    await expectCode(() => planComponent(c, row(5)), 'SCHEMA_TOO_NEW');
  });
});
