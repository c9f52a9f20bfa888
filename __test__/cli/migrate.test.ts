/**
 * `migrate` (plan, apply, per-component targets) and the plugin lifecycle through the command,
 * with a plugin module loaded by `--plugin`.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDataLayer } from '../../src/index.js';
import { tempDir } from '../helpers/folders.js';
import { ensureBuilt, FIXTURES, json, runCli } from './helpers.js';

const PW = 'cli migrate password';
const PLUGIN = join(FIXTURES, 'notes-plugin.mjs');
let tmp: ReturnType<typeof tempDir>;
let dir: string;
const env = (versions = 2) => ({ AICO_DATA_PASSWORD: PW, AICO_DATA_DIR: dir, AICO_TEST_PLUGIN_VERSIONS: String(versions) });

/** The plugin's tables, read with the library (not through the command under test). */
async function pluginTables(): Promise<string[]> {
  const data = await openDataLayer({ dir, password: PW, create: false, analytics: false, kv: false, vectors: false });
  try {
    const rows = await data.sql.query<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'plugin_clinotes_%' ORDER BY name");
    return rows.map((r) => r.name);
  } finally {
    await data.close();
  }
}

beforeAll(async () => {
  await ensureBuilt();
  tmp = tempDir('aico-cli-migrate-');
  dir = join(tmp.dir, 'data');
  expect((await runCli(['init'], { env: env() })).code).toBe(0);
});
afterAll(() => tmp?.cleanup());

describe('migrate', () => {
  it('--plan on a fresh folder has nothing to do', async () => {
    const r = await runCli(['migrate', '--plan', '--json'], { env: env() });
    expect(r.code, r.stderr).toBe(0);
    expect(json(r).plan).toEqual([]);
  });

  it('<component> --to 0 --plan lists the down steps and changes nothing', async () => {
    const r = await runCli(['migrate', 'devices', '--to', '0', '--plan', '--json'], { env: env() });
    expect(r.code, r.stderr).toBe(0);
    const plan = json(r).plan;
    expect(plan.length).toBeGreaterThan(0);
    expect(plan.every((s: { component: string; direction: string }) => s.component === 'devices' && s.direction === 'down')).toBe(true);
    expect(plan[plan.length - 1].to).toBe(0);
    const status = json(await runCli(['status', '--json'], { env: env() }));
    expect(status.schemas.find((s: { name: string }) => s.name === 'devices').version).toBeGreaterThan(0);
  });

  it('an unknown component exits 4 with NOT_FOUND', async () => {
    const r = await runCli(['migrate', 'no_such_thing', '--plan'], { env: env() });
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('error NOT_FOUND:');
  });
});

describe('plugins', () => {
  it('list shows the registered plugin as not installed; without the module there is none', async () => {
    const without = await runCli(['plugins', 'list', '--json'], { env: env() });
    expect(json(without)).toEqual([]);
    const r = await runCli(['--plugin', PLUGIN, 'plugins', 'list', '--json'], { env: env(1) });
    expect(r.code, r.stderr).toBe(0);
    expect(json(r)).toEqual([expect.objectContaining({ name: 'clinotes', state: 'not-installed', version: 0, latest: 1 })]);
  });

  it('activate applies v1; after an upgrade to v2, migrate --plan shows v2 and migrate applies it; --to 1 rolls back', async () => {
    const act = await runCli(['--plugin', PLUGIN, 'plugins', 'activate', 'clinotes'], { env: env(1) });
    expect(act.code, act.stderr).toBe(0);
    expect(act.stdout).toContain('plugin clinotes active (applied v1 create_items)');
    expect(await pluginTables()).toEqual(['plugin_clinotes_items']);

    const plan = await runCli(['--plugin', PLUGIN, 'migrate', '--plan', '--json'], { env: env(2) });
    expect(plan.code, plan.stderr).toBe(0);
    expect(json(plan).plan.map((s: { component: string; version: number; direction: string }) => [s.component, s.version, s.direction])).toEqual([['clinotes', 2, 'up']]);
    expect(await pluginTables()).toEqual(['plugin_clinotes_items']);

    const applied = await runCli(['--plugin', PLUGIN, 'migrate'], { env: env(2) });
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.stdout).toContain('applied 1 step(s)');
    expect(await pluginTables()).toEqual(['plugin_clinotes_items', 'plugin_clinotes_tags']);

    const back = await runCli(['--plugin', PLUGIN, 'migrate', 'clinotes', '--to', '1', '--json'], { env: env(2) });
    expect(back.code, back.stderr).toBe(0);
    expect(json(back).applied.map((s: { version: number; direction: string }) => [s.version, s.direction])).toEqual([[2, 'down']]);
    expect(await pluginTables()).toEqual(['plugin_clinotes_items']);
  });

  it('deactivate keeps the data; remove needs --yes, then drops the tables', async () => {
    // With only v1 registered (an open applies pending versions of active plugins).
    const off = await runCli(['--plugin', PLUGIN, 'plugins', 'deactivate', 'clinotes'], { env: env(1) });
    expect(off.code, off.stderr).toBe(0);
    expect(await pluginTables()).toEqual(['plugin_clinotes_items']);

    const refused = await runCli(['--plugin', PLUGIN, 'plugins', 'remove', 'clinotes'], { env: env(2) });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('add --yes');
    expect(await pluginTables()).toEqual(['plugin_clinotes_items']);

    const removed = await runCli(['--plugin', PLUGIN, 'plugins', 'remove', 'clinotes', '--yes'], { env: env(2) });
    expect(removed.code, removed.stderr).toBe(0);
    expect(await pluginTables()).toEqual([]);
    const list = json(await runCli(['--plugin', PLUGIN, 'plugins', 'list', '--json'], { env: env(2) }));
    expect(list).toEqual([expect.objectContaining({ name: 'clinotes', state: 'removed', version: 0 })]);
  });

  it('a missing plugin module exits 4', async () => {
    const r = await runCli(['--plugin', join(FIXTURES, 'nope.mjs'), 'plugins', 'list'], { env: env() });
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('plugin module');
  });
});
