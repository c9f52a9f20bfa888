import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { buildInfo, duckdbSmoke, rocksdbSmoke } from '../../src/native/index.js';
import { tempDir } from '../helpers/folders.js';

let cleanup: (() => void) | undefined;
afterEach(() => cleanup?.());

describe('compiled engines', () => {
  it('reports build information', () => {
    const info = buildInfo();
    expect(info.sqliteVersion).toMatch(/^3\.\d+\.\d+$/);
    expect(info.duckdbVersion).toMatch(/^v\d+\.\d+/);
    expect(info.libsqlCipher).toContain('aes256cbc');
  });

  it('runs DuckDB in memory', () => {
    expect(duckdbSmoke(1000)).toBe(499500);
  });

  it('writes and reads RocksDB with lz4/zstd', () => {
    const t = tempDir();
    cleanup = t.cleanup;
    expect(rocksdbSmoke(join(t.dir, 'kv'))).toBe(true);
  });
});
