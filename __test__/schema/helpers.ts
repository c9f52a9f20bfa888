/** Shared helpers of the schema suites: real encrypted data folders, error assertions, test schemas. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDataLayer, type DataLayer } from '../../src/index.js';
import { CORE_SCHEMAS, type SchemaManager } from '../../src/schema/index.js';

export { expectCode, tableVersions, emptyRegistry } from './support.js';

export const PASSWORD = 'correct horse battery staple';

let cleanups: Array<() => void | Promise<void>> = [];

/** Runs the cleanups registered by `freshDir` / `openLayer` (call from afterEach). */
export async function cleanupAll(): Promise<void> {
  const list = cleanups.reverse();
  cleanups = [];
  for (const c of list) {
    try {
      await c();
    } catch {
      /* keep cleaning */
    }
  }
}

/** A fresh temp folder (removed after the test); returns the data folder path inside it. */
export function freshDir(): string {
  const root = mkdtempSync(join(tmpdir(), 'aico-'));
  cleanups.push(() => rmSync(root, { recursive: true, force: true }));
  return join(root, 'data');
}

/** Opens the real encrypted data layer (closed after the test). */
export async function openLayer(dir: string, extra: Record<string, unknown> = {}): Promise<DataLayer> {
  const layer = await openDataLayer({ dir, password: PASSWORD, ...extra } as Parameters<typeof openDataLayer>[0]);
  cleanups.push(() => layer.close());
  return layer;
}

export async function tableNames(layer: DataLayer): Promise<string[]> {
  const rows = await layer.sql.query<{ name: string }>(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`);
  return rows.map((r) => r.name);
}

export async function hasTable(layer: DataLayer, name: string): Promise<boolean> {
  return (await tableNames(layer)).includes(name);
}

/** `layer.schemas` (the SchemaManager the data layer creates at open). */
export function schemasOf(layer: DataLayer): SchemaManager {
  const m = (layer as unknown as { schemas?: SchemaManager }).schemas;
  if (!m) throw new Error('DataLayer.schemas is missing: openDataLayer must call openSchemas(sql, options.schemas)');
  return m;
}

/** Components of a registry that are not in the core set (for status filters). */
export const CORE = new Set<string>(CORE_SCHEMAS);
