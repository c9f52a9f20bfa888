/**
 * What only the RocksDB store does: persistence across reopen, no plaintext on disk, one
 * writer per folder (LOCKED / read-only), queue redelivery after a real crash.
 */
import { spawn, spawnSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { openKvStore } from '../../src/stores/kv/index.js';
import { filesContaining } from '../helpers/folders.js';
import { clockPast } from '../helpers/wait.js';
import { PASSWORD, expectCode, expectCodeAsync, openRocks, text, type Opened } from './helpers.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '../..');
const CHILD = join(HERE, 'fixtures', 'kv-child.mjs');

let o: Opened | undefined;
afterEach(() => {
  o?.close();
  o = undefined;
});

describe('RocksDB KV store', () => {
  it('persists values, TTLs and user namespaces across reopen', async () => {
    o = await openRocks({ namespaces: { prefs: { compression: 'zstd', ttlMs: 86_400_000 } } });
    const kv = o.kv;
    kv.put('prefs', 'theme', Buffer.from('dark'));
    kv.putJson('session', 'ctx', { turn: 3 });
    kv.put('cache', 'brief', Buffer.from('x'), { ttlMs: 50 });
    const briefExpiry = Date.now() + 50; // at or after its expiry (wall clock, as the store's)
    kv.queue.enqueue('jobs', 'persisted');
    kv.close();
    await clockPast(briefExpiry);
    const again = await o.reopen();
    expect(again.namespaces().find((n) => n.name === 'prefs')).toEqual({ name: 'prefs', compression: 'zstd', ttlMs: 86_400_000, builtin: false });
    expect(text(again.get('prefs', 'theme'))).toBe('dark');
    expect(again.getJson('session', 'ctx')).toEqual({ turn: 3 });
    expect(again.get('cache', 'brief')).toBeUndefined();
    expect(again.queue.lease('jobs', 5, 1000).map((m) => m.payload.toString())).toEqual(['persisted']);
    expect(again.persistent).toBe(true);
    expect(again.path).toBe(join(o.dir!, 'kv'));
  });

  it('async calls fall back to the pool when they would wait (cold read, fsync, large value)', async () => {
    o = await openRocks();
    const big = Buffer.alloc(300 * 1024, 7);
    await o.kv.putAsync('cache', 'big', big);
    await o.kv.putManyAsync('cache', [['k', Buffer.from('v')]]);
    o.kv.close();
    const cold = await o.reopen({ sync: true });
    // nothing is in memory after reopen: the reads go to the pool
    expect(text(await cold.getAsync('cache', 'k'))).toBe('v');
    expect((await cold.getManyAsync('cache', ['big', 'k']))[0]!.equals(big)).toBe(true);
    // a store that fsyncs every write never writes on the JS thread
    await cold.putAsync('cache', 'synced', Buffer.from('s'));
    await cold.writeBatchAsync([{ type: 'del', ns: 'cache', key: 'k' }]);
    await cold.deleteAsync('cache', 'big');
    expect(text(cold.get('cache', 'synced'))).toBe('s');
    expect(cold.getMany('cache', ['k', 'big'])).toEqual([undefined, undefined]);
  });

  it('never writes plaintext values to disk (canary scan)', async () => {
    o = await openRocks();
    const canary = 'CANARY-kv-0c1d2e-value-must-stay-sealed';
    const kv = o.kv as Awaited<ReturnType<typeof openKvStore>>;
    for (let i = 0; i < 100; i++) kv.put('session', `visible-key-${i}`, Buffer.from(`${canary} #${i}`));
    kv.putJson('config', 'cfg', { canary });
    kv.queue.enqueue('events', canary);
    expect(filesContaining(o.dir!, canary)).toEqual([]);
    kv.flush();
    kv.compact();
    kv.close();
    expect(filesContaining(o.dir!, canary)).toEqual([]);
    // keys are plaintext by design (ordered scans): documented, and visible here
    expect(filesContaining(join(o.dir!, 'kv'), 'visible-key-1').length).toBeGreaterThan(0);
  });

  it('admits one writer per folder: LOCKED, or read-only on request', async () => {
    o = await openRocks();
    o.kv.put('config', 'k', Buffer.from('v1'));
    await expectCodeAsync(o.reopen(), 'LOCKED');
    await expect(o.reopen()).rejects.toThrow(/LOCK/);
    const ro = await o.reopen({ onLocked: 'readOnly' });
    expect(ro.readOnly).toBe(true);
    expect(text(ro.get('config', 'k'))).toBe('v1');
    expectCode(() => ro.put('config', 'k', Buffer.from('x')), 'LOCKED');
    o.kv.put('config', 'k', Buffer.from('v2'));
    ro.refresh();
    expect(text(ro.get('config', 'k'))).toBe('v2');
  });

  it('refuses a second process with LOCKED naming the lock file; the first keeps working', async () => {
    o = await openRocks();
    o.kv.put('config', 'k', Buffer.from('mine'));
    const other = spawnSync(process.execPath, [CHILD, ROOT, o.dir!, PASSWORD, 'try-open'], { encoding: 'utf8' });
    expect(other.status, other.stderr).toBe(0);
    const result = JSON.parse(other.stdout.trim());
    expect(result.code).toBe('LOCKED');
    expect(result.message).toContain('LOCK');
    expect(text(o.kv.get('config', 'k'))).toBe('mine');
  });

  it('a writer in another process: this one opens read-only on request', async () => {
    o = await openRocks();
    o.kv.put('config', 'k', Buffer.from('v'));
    o.kv.close();
    const holder = spawn(process.execPath, [CHILD, ROOT, o.dir!, PASSWORD, 'hold'], { stdio: ['pipe', 'pipe', 'inherit'] });
    try {
      await new Promise<void>((res, rej) => {
        holder.stdout.on('data', (d) => String(d).includes('ready') && res());
        holder.on('exit', (c) => rej(new Error(`holder exited ${c}`)));
      });
      await expectCodeAsync(o.reopen(), 'LOCKED');
      const ro = await o.reopen({ onLocked: 'readOnly' });
      expect(text(ro.get('config', 'k'))).toBe('v');
    } finally {
      holder.stdin.end();
      await new Promise((r) => holder.on('exit', r));
    }
  });

  it('redelivers messages leased by a process killed before ack', async () => {
    o = await openRocks();
    o.kv.queue.enqueueMany('jobs', ['j1', 'j2', 'j3']);
    o.kv.close();
    const child = spawnSync(process.execPath, [CHILD, ROOT, o.dir!, PASSWORD, 'lease-and-die'], { encoding: 'utf8' });
    expect(child.signal).toBe('SIGKILL');
    const leasedIds: string[] = JSON.parse(child.stdout.trim());
    expect(leasedIds).toHaveLength(2);

    const kv = await o.reopen();
    const again = kv.queue.lease('jobs', 10, 60_000);
    expect(again.map((m) => m.payload.toString())).toEqual(['j1', 'j2', 'j3']);
    expect(again.map((m) => m.attempt)).toEqual([2, 2, 1]);
    expect(kv.queue.ack(leasedIds[0]!)).toBe(false);
    for (const m of again) expect(kv.queue.ack(m)).toBe(true);
    expect(kv.queue.depth('jobs')).toEqual({ ready: 0, waiting: 0, dead: 0 });
  });
});
