/**
 * The KV store's fast paths on real RocksDB: point reads handed out as views of a shared
 * slab (`getInto`), `getMany` packed into one Buffer (`getManyPacked`), `putMany` with
 * borrowed keys and values. Each must behave exactly like one Buffer per value.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { KvStore } from '../../src/stores/kv/index.js';
import { clockPast } from '../helpers/wait.js';
import { expectCode, expectCodeAsync, openRocks, type Opened } from './helpers.js';

let o: Opened | undefined;
afterEach(() => {
  o?.close();
  o = undefined;
});

const valueFor = (i: number, size = 100) => Buffer.alloc(size, i % 251);

describe('KV fast paths', () => {
  it('get returns independent, correct Buffers across many slabs and value sizes', async () => {
    o = await openRocks();
    const kv = o.kv as KvStore;
    const sizes = [0, 1, 7, 100, 4095, 4096, 4097, 12_000, 16_384, 70_000];
    const entries = Array.from({ length: 600 }, (_, i) => [`k:${i}`, valueFor(i, sizes[i % sizes.length])] as const);
    kv.putMany('cache', entries);
    const got: Array<Buffer | undefined> = [];
    for (let round = 0; round < 3; round++) for (const [k] of entries) got.push(kv.get('cache', k));
    got.forEach((v, j) => {
      const i = j % entries.length;
      expect(Buffer.isBuffer(v)).toBe(true);
      expect(v!.equals(entries[i]![1]), `value ${i}`).toBe(true);
    });
    // writing into one returned Buffer changes no other value, returned or stored
    const a = kv.get('cache', 'k:3')!;
    const b = kv.get('cache', 'k:3')!;
    a.fill(0xee);
    expect(b.equals(entries[3]![1])).toBe(true);
    expect(kv.get('cache', 'k:3')!.equals(entries[3]![1])).toBe(true);
    expect(await kv.getAsync('cache', 'k:5')).toEqual(entries[5]![1]);
    expect(kv.get('cache', 'missing')).toBeUndefined();
    expect(await kv.getAsync('cache', 'missing')).toBeUndefined();
    expect(kv.get('cache', Buffer.from('k:9'))!.equals(entries[9]![1])).toBe(true);
  });

  it('expired values read as missing through the slab', async () => {
    o = await openRocks();
    const kv = o.kv as KvStore;
    // Expiry is by wall clock at read time: "alive" on a lifetime no stall overruns, "expired"
    // on one the clock is certainly past.
    kv.put('cache', 'lasting', Buffer.from('x'), { ttlMs: 60_000 });
    expect(kv.get('cache', 'lasting')?.toString()).toBe('x');
    kv.put('cache', 'short', Buffer.from('x'), { ttlMs: 1 });
    await clockPast(Date.now() + 1);
    expect(kv.get('cache', 'short')).toBeUndefined();
    expect(kv.getMany('cache', ['short'])).toEqual([undefined]);
  });

  it('getMany unpacks missing, empty and large values in order', async () => {
    o = await openRocks();
    const kv = o.kv as KvStore;
    kv.putMany('session', [
      ['a', Buffer.from('alpha')],
      ['empty', Buffer.alloc(0)],
      ['big', valueFor(1, 300_000)],
      [Buffer.from([0, 255]), Buffer.from('bin')],
    ]);
    const keys = ['a', 'nope', 'empty', 'big', Buffer.from([0, 255]), 'a'];
    const sync = kv.getMany('session', keys);
    expect(sync.map((v) => v?.length)).toEqual([5, undefined, 0, 300_000, 3, 5]);
    expect(sync[0]!.toString()).toBe('alpha');
    expect(sync[3]!.equals(valueFor(1, 300_000))).toBe(true);
    expect(sync[4]!.toString()).toBe('bin');
    expect(await kv.getManyAsync('session', keys)).toEqual(sync);
    expect(kv.getMany('session', [])).toEqual([]);
  });

  it('putMany and getMany keep their argument errors', async () => {
    o = await openRocks();
    const kv = o.kv as KvStore;
    expectCode(() => kv.putMany('cache', [['ok', Buffer.from('1')], ['', Buffer.from('2')]]), 'INVALID_ARGUMENT');
    expectCode(() => kv.putMany('cache', [['ok', 'text' as unknown as Buffer]]), 'INVALID_ARGUMENT');
    expectCode(() => kv.putMany('cache', [['only-key'] as unknown as [string, Buffer]]), 'INVALID_ARGUMENT');
    expectCode(() => kv.putMany('cache', [[42 as unknown as string, Buffer.from('x')]]), 'INVALID_ARGUMENT');
    expectCode(() => kv.getMany('cache', ['a', 7 as unknown as string]), 'INVALID_ARGUMENT');
    expectCode(() => kv.getMany('nope', ['a']), 'INVALID_ARGUMENT');
    expectCode(() => kv.get('nope', 'a'), 'INVALID_ARGUMENT');
    await expectCodeAsync(kv.getAsync('cache', ''), 'INVALID_ARGUMENT');
    expect(kv.get('cache', 'ok')).toBeUndefined(); // nothing of the failed batches was written
    // a long string key (past the 256-byte inline buffer) round-trips
    const long = 'k'.repeat(5000);
    kv.putMany('cache', [[long, Buffer.from('long')]]);
    expect(kv.get('cache', long)?.toString()).toBe('long');
    expect(kv.getMany('cache', [long, 'x'.repeat(300)])[0]?.toString()).toBe('long');
  });
});
