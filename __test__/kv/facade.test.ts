import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { AicoDataError, openDataLayer, type DataLayer } from '../../src/index.js';
import { filesContaining, tempDir } from '../helpers/folders.js';

let data: DataLayer | undefined;
let cleanup: (() => void) | undefined;
afterEach(async () => {
  await data?.close();
  data = undefined;
  cleanup?.();
});

it('openDataLayer exposes an encrypted RocksDB store that persists, and closes it', async () => {
  const t = tempDir('aico-kv-facade-');
  cleanup = t.cleanup;
  const dir = join(t.dir, 'data');
  const canary = 'KV-FACADE-CANARY-value';
  data = await openDataLayer({ dir, password: 'pw' });
  data.kv.put('session', 'active', Buffer.from(canary));
  data.kv.putJson('config', 'theme', { dark: true });
  expect(data.kv.get('session', 'active')?.toString()).toBe(canary);
  await data.close();
  expect(() => data!.kv.get('session', 'active')).toThrow(AicoDataError);
  expect(filesContaining(dir, canary)).toEqual([]);
  data = await openDataLayer({ dir, password: 'pw' });
  expect(data.kv.get('session', 'active')?.toString()).toBe(canary);
  expect(data.kv.getJson('config', 'theme')).toEqual({ dark: true });
});

it('kv: false gives an in-memory store with the same API', async () => {
  const t = tempDir('aico-kv-facade-');
  cleanup = t.cleanup;
  const dir = join(t.dir, 'data');
  data = await openDataLayer({ dir, password: 'pw', kv: false });
  data.kv.put('cache', 'k', Buffer.from('v'));
  expect(data.kv.get('cache', 'k')?.toString()).toBe('v');
  await data.close();
  data = await openDataLayer({ dir, password: 'pw', kv: false });
  expect(data.kv.get('cache', 'k')).toBeUndefined();
});
