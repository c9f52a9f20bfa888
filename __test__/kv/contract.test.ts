/**
 * The key-value contract, run against the encrypted RocksDB store and the in-memory
 * fallback alike: the two must be interchangeable behind KvStoreLike.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { KvStoreLike } from '../../src/stores/kv/index.js';
import { clockPast } from '../helpers/wait.js';
import { STORES, expectCode, expectCodeAsync, text, type Opened } from './helpers.js';

describe.each(STORES)('KV contract: %s', (_name, open) => {
  let o: Opened;
  let kv: KvStoreLike;
  beforeEach(async () => {
    o = await open();
    kv = o.kv;
  });
  afterEach(() => o.close());

  it('puts, gets, checks and deletes', () => {
    kv.put('session', 'user:1', Buffer.from('alice'));
    expect(text(kv.get('session', 'user:1'))).toBe('alice');
    expect(kv.get('config', 'user:1')).toBeUndefined();
    expect(kv.has('session', 'user:1')).toBe(true);
    // a string key and its UTF-8 bytes are the same key
    expect(text(kv.get('session', Buffer.from('user:1')))).toBe('alice');
    kv.put('session', new Uint8Array([0, 255, 1]), new Uint8Array([9, 8, 7]));
    expect([...kv.get('session', Buffer.from([0, 255, 1]))!]).toEqual([9, 8, 7]);
    kv.put('cache', 'empty', Buffer.alloc(0));
    expect(kv.get('cache', 'empty')).toEqual(Buffer.alloc(0));
    kv.delete('session', 'user:1');
    expect(kv.get('session', 'user:1')).toBeUndefined();
    expect(kv.has('session', 'user:1')).toBe(false);
    kv.delete('session', 'never-there');
  });

  it('returns copies: mutating a result or the input does not change the store', () => {
    const v = Buffer.from('abc');
    kv.put('cache', 'k', v);
    v[0] = 0x7a;
    const got = kv.get('cache', 'k')!;
    got[1] = 0x7a;
    expect(text(kv.get('cache', 'k'))).toBe('abc');
  });

  it('has async twins', async () => {
    await kv.putAsync('cache', 'a', Buffer.from('1'));
    expect(text(await kv.getAsync('cache', 'a'))).toBe('1');
    await kv.putManyAsync('cache', [['b', Buffer.from('2')]]);
    expect((await kv.getManyAsync('cache', ['a', 'b', 'c'])).map(text)).toEqual(['1', '2', undefined]);
    await kv.writeBatchAsync([{ type: 'del', ns: 'cache', key: 'a' }]);
    await kv.deleteAsync('cache', 'b');
    expect(await kv.getAsync('cache', 'a')).toBeUndefined();
    expect(await kv.getAsync('cache', 'b')).toBeUndefined();
    await kv.putJsonAsync('config', 'j', { x: 1 });
    expect(await kv.getJsonAsync('config', 'j')).toEqual({ x: 1 });
    await expectCodeAsync(kv.getAsync('nope', 'k'), 'INVALID_ARGUMENT');
    await expectCodeAsync(kv.putAsync('cache', '', Buffer.from('x')), 'INVALID_ARGUMENT');
  });

  it('reads and writes many in one call', () => {
    const entries = new Map<string, Buffer>();
    for (let i = 0; i < 100; i++) entries.set(`k${String(i).padStart(3, '0')}`, Buffer.from(`v${i}`));
    kv.putMany('cache', entries);
    expect(kv.getMany('cache', ['k000', 'missing', 'k099']).map(text)).toEqual(['v0', undefined, 'v99']);
    expect(kv.getMany('cache', [])).toEqual([]);
  });

  it('applies a write batch atomically', () => {
    kv.put('cache', 'old', Buffer.from('x'));
    kv.writeBatch([
      { type: 'put', ns: 'session', key: 'a', value: Buffer.from('1') },
      { type: 'del', ns: 'cache', key: 'old' },
    ]);
    expect(text(kv.get('session', 'a'))).toBe('1');
    expect(kv.get('cache', 'old')).toBeUndefined();
    expectCode(
      () =>
        kv.writeBatch([
          { type: 'put', ns: 'session', key: 'b', value: Buffer.from('2') },
          { type: 'put', ns: 'session', key: 'c', value: 'not bytes' as unknown as Buffer },
        ]),
      'INVALID_ARGUMENT',
    );
    expect(kv.get('session', 'b')).toBeUndefined();
    expectCode(() => kv.writeBatch([{ type: 'put', ns: 'nope', key: 'b', value: Buffer.from('2') }]), 'INVALID_ARGUMENT');
    expectCode(() => kv.writeBatch([{ type: 'upsert', ns: 'session', key: 'b' } as never]), 'INVALID_ARGUMENT');
    expectCode(() => kv.putMany('cache', [['ok', Buffer.from('1')], ['', Buffer.from('2')]]), 'INVALID_ARGUMENT');
    expect(kv.get('cache', 'ok')).toBeUndefined();
  });

  it('stores JSON', () => {
    kv.putJson('config', 'prefs', { theme: 'dark', n: [1, 2] });
    expect(kv.getJson('config', 'prefs')).toEqual({ theme: 'dark', n: [1, 2] });
    expect(kv.getJson('config', 'missing')).toBeUndefined();
    kv.put('config', 'raw', Buffer.from([0xff, 0x00]));
    expectCode(() => kv.getJson('config', 'raw'), 'INVALID_ARGUMENT');
    expectCode(() => kv.putJson('config', 'u', undefined), 'INVALID_ARGUMENT');
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expectCode(() => kv.putJson('config', 'c', cyclic), 'INVALID_ARGUMENT');
  });

  describe('scans', () => {
    beforeEach(() => {
      for (const k of ['a', 'user:1', 'user:2', 'user:3', 'user:4', 'v']) kv.put('cache', k, Buffer.from(k.toUpperCase()));
    });

    it('by prefix, in order, as an async iterator', async () => {
      const got: Array<[string, string]> = [];
      for await (const [k, v] of kv.entries('cache', { prefix: 'user:' })) got.push([k, v.toString()]);
      expect(got).toEqual([
        ['user:1', 'USER:1'],
        ['user:2', 'USER:2'],
        ['user:3', 'USER:3'],
        ['user:4', 'USER:4'],
      ]);
    });

    it('pages through the native cursor (batchSize) and stops at limit', async () => {
      const keys: string[] = [];
      for await (const k of kv.keys('cache', { batchSize: 2 })) keys.push(k);
      expect(keys).toEqual(['a', 'user:1', 'user:2', 'user:3', 'user:4', 'v']);
      const limited: string[] = [];
      for await (const k of kv.keys('cache', { batchSize: 2, limit: 3 })) limited.push(k);
      expect(limited).toEqual(['a', 'user:1', 'user:2']);
      const none: string[] = [];
      for await (const k of kv.keys('cache', { limit: 0 })) none.push(k);
      expect(none).toEqual([]);
    });

    it('by range, reverse, with Buffer keys, synchronously', () => {
      expect([...kv.keysSync('cache', { gt: 'user:1', lte: 'user:4', reverse: true, batchSize: 2 })]).toEqual(['user:4', 'user:3', 'user:2']);
      expect([...kv.keysSync('cache', { gte: 'user:2', lt: 'user:4' })]).toEqual(['user:2', 'user:3']);
      expect([...kv.keysSync('cache', { prefix: 'user:', gte: 'user:3' })]).toEqual(['user:3', 'user:4']);
      expect([...kv.keysSync('cache', { prefix: 'user:', reverse: true, limit: 1 })]).toEqual(['user:4']);
      const [first] = [...kv.entriesSync('cache', { keyEncoding: 'buffer', limit: 1 })];
      expect(Buffer.isBuffer(first![0])).toBe(true);
      expect(first![0].toString()).toBe('a');
      expect([...kv.keysSync('cache', { prefix: 'zzz' })]).toEqual([]);
      expectCode(() => [...kv.keysSync('cache', { gt: 'a', gte: 'b' })], 'INVALID_ARGUMENT');
      expectCode(() => [...kv.keysSync('cache', { batchSize: 0 })], 'INVALID_ARGUMENT');
    });

    it('can be abandoned early', async () => {
      for await (const [k] of kv.entries('cache', { batchSize: 1 })) {
        expect(k).toBe('a');
        break;
      }
      expect(text(kv.get('cache', 'v'))).toBe('V');
    });

    it('skips expired entries', async () => {
      kv.put('cache', 'user:5', Buffer.from('x'), { ttlMs: 1 });
      await clockPast(Date.now() + 1); // expiry is by wall clock at read time: its 1 ms has certainly passed
      expect([...kv.keysSync('cache', { prefix: 'user:' })]).toHaveLength(4);
    });
  });

  it('expires values by TTL (per put and per namespace)', async () => {
    // Expiry is by wall clock at read time. "Still alive" is checked on lifetimes of a minute,
    // which no stall overruns; expiry on 1 ms lifetimes, once the clock is certainly past them.
    kv.defineNamespace('lasting', { ttlMs: 60_000 });
    kv.defineNamespace('short', { ttlMs: 1 });
    kv.put('lasting', 'default-ttl', Buffer.from('x'));
    kv.put('cache', 'explicit-lasting', Buffer.from('x'), { ttlMs: 60_000 });
    expect(kv.has('lasting', 'default-ttl')).toBe(true);
    expect(kv.get('cache', 'explicit-lasting')).toBeDefined();
    kv.put('short', 'default-ttl', Buffer.from('x'));
    kv.put('short', 'forever', Buffer.from('x'), { ttlMs: 0 });
    kv.put('cache', 'explicit', Buffer.from('x'), { ttlMs: 1 });
    kv.put('cache', 'infinite', Buffer.from('x'), { ttlMs: Infinity });
    await clockPast(Date.now() + 1);
    expect(kv.get('short', 'default-ttl')).toBeUndefined();
    expect(kv.has('short', 'default-ttl')).toBe(false);
    expect(kv.get('cache', 'explicit')).toBeUndefined();
    expect(kv.getMany('cache', ['explicit', 'infinite']).map((v) => v !== undefined)).toEqual([false, true]);
    expect(kv.get('short', 'forever')).toBeDefined();
    expectCode(() => kv.put('cache', 'k', Buffer.from('x'), { ttlMs: -1 }), 'INVALID_ARGUMENT');
  });

  it('manages namespaces', () => {
    kv.defineNamespace('prefs', { compression: 'zstd', ttlMs: 1000 });
    kv.put('prefs', 'k', Buffer.from('v'));
    const list = kv.namespaces();
    expect(list.map((n) => n.name)).toEqual(['cache', 'config', 'prefs', 'queue', 'session']);
    expect(list.find((n) => n.name === 'prefs')).toEqual({ name: 'prefs', compression: 'zstd', ttlMs: 1000, builtin: false });
    expect(list.find((n) => n.name === 'cache')).toEqual({ name: 'cache', compression: 'lz4', builtin: true });
    kv.defineNamespace('prefs', { compression: 'lz4' });
    expect(kv.namespaces().find((n) => n.name === 'prefs')).toEqual({ name: 'prefs', compression: 'lz4', builtin: false });
    expect(text(kv.get('prefs', 'k'))).toBe('v');
    kv.dropNamespace('prefs');
    expectCode(() => kv.get('prefs', 'k'), 'INVALID_ARGUMENT');
    expectCode(() => kv.dropNamespace('session'), 'INVALID_ARGUMENT');
    expectCode(() => kv.dropNamespace('prefs'), 'INVALID_ARGUMENT');
    for (const bad of ['', 'default', '_x', 'a b', 'x'.repeat(65)]) expectCode(() => kv.defineNamespace(bad), 'INVALID_ARGUMENT');
    expectCode(() => kv.defineNamespace('n', { compression: 'snappy' as never }), 'INVALID_ARGUMENT');
    expectCode(() => kv.defineNamespace('queue', { ttlMs: 5 }), 'INVALID_ARGUMENT');
  });

  it('clears one namespace', () => {
    kv.put('cache', 'a', Buffer.from('1'));
    kv.put('cache', Buffer.alloc(64 * 1024, 0xff), Buffer.from('2'));
    kv.put('session', 'a', Buffer.from('3'));
    kv.clear('cache');
    expect(kv.get('cache', 'a')).toBeUndefined();
    expect(kv.get('cache', Buffer.alloc(64 * 1024, 0xff))).toBeUndefined();
    expect(text(kv.get('session', 'a'))).toBe('3');
  });

  it('refuses bad input with INVALID_ARGUMENT', () => {
    expectCode(() => kv.put('cache', '', Buffer.from('v')), 'INVALID_ARGUMENT');
    expectCode(() => kv.get('cache', Buffer.alloc(0)), 'INVALID_ARGUMENT');
    expectCode(() => kv.put('cache', Buffer.alloc(64 * 1024 + 1), Buffer.from('v')), 'INVALID_ARGUMENT');
    kv.put('cache', Buffer.alloc(64 * 1024, 1), Buffer.from('max key'));
    expectCode(() => kv.put('cache', 'k', Buffer.alloc(64 * 1024 * 1024 + 1)), 'INVALID_ARGUMENT');
    for (const bad of ['text', 42, { a: 1 }, null, undefined, [1, 2]]) {
      expectCode(() => kv.put('cache', 'k', bad as unknown as Buffer), 'INVALID_ARGUMENT');
    }
    for (const bad of [42, null, undefined, { a: 1 }]) expectCode(() => kv.get('cache', bad as unknown as string), 'INVALID_ARGUMENT');
    expectCode(() => kv.get('nope', 'k'), 'INVALID_ARGUMENT');
    expectCode(() => kv.get(42 as unknown as string, 'k'), 'INVALID_ARGUMENT');
    expectCode(() => kv.put('queue', 'k', Buffer.from('v')), 'INVALID_ARGUMENT');
    expectCode(() => kv.getMany('cache', ['ok', 7 as unknown as string]), 'INVALID_ARGUMENT');
    expect(kv.get('cache', 'k')).toBeUndefined();
  });

  it('fails with CLOSED after close', async () => {
    kv.close();
    kv.close(); // idempotent
    expect(kv.closed).toBe(true);
    expectCode(() => kv.get('cache', 'k'), 'CLOSED');
    expectCode(() => kv.put('cache', 'k', Buffer.from('v')), 'CLOSED');
    expectCode(() => kv.namespaces(), 'CLOSED');
    expectCode(() => kv.queue.enqueue('t', 'x'), 'CLOSED');
    expectCode(() => [...kv.keysSync('cache')], 'CLOSED');
    await expectCodeAsync(kv.getAsync('cache', 'k'), 'CLOSED');
  });

  describe('queue', () => {
    it('keeps per-topic order; leases hide messages; ack deletes', () => {
      for (let i = 0; i < 4; i++) {
        kv.queue.enqueue('a', `a${i}`);
        kv.queue.enqueue('b', Buffer.from(`b${i}`));
      }
      const seqs = kv.queue.enqueueMany('a', ['a4', 'a5']);
      expect(seqs[1]! - seqs[0]!).toBe(1);
      const first = kv.queue.lease('a', 3, 60_000);
      expect(first.map((m) => m.payload.toString())).toEqual(['a0', 'a1', 'a2']);
      expect(first.every((m) => m.attempt === 1 && m.topic === 'a' && m.leaseUntil > m.enqueuedAt)).toBe(true);
      expect(kv.queue.lease('a', 10, 60_000).map((m) => m.payload.toString())).toEqual(['a3', 'a4', 'a5']);
      expect(kv.queue.lease('a', 10, 60_000)).toEqual([]);
      expect(kv.queue.lease('b', 1, 60_000)[0]!.payload.toString()).toBe('b0');
      expect(kv.queue.ack(first[0]!)).toBe(true);
      expect(kv.queue.ack(first[0]!.id)).toBe(false);
      expect(kv.queue.depth('a')).toEqual({ ready: 0, waiting: 5, dead: 0 });
      expect(kv.queue.depth('b')).toEqual({ ready: 3, waiting: 1, dead: 0 });
    });

    it('redelivers after the lease expires; stale ids cannot settle', async () => {
      kv.queue.enqueueJson('t', { job: 1 });
      const [m1] = kv.queue.lease('t', 1, 40);
      expect(JSON.parse(m1!.payload.toString())).toEqual({ job: 1 });
      await clockPast(m1!.leaseUntil); // leases end by wall clock: this one has certainly ended
      const [m2] = await kv.queue.leaseAsync('t', 1, 60_000);
      expect(m2!.attempt).toBe(2);
      expect(m2!.seq).toBe(m1!.seq);
      expect(kv.queue.ack(m1!)).toBe(false);
      expect(kv.queue.extend(m2!, 60_000)).toBe(true);
      expect(await kv.queue.ackAsync(m2!)).toBe(true);
      expect(kv.queue.depth('t')).toEqual({ ready: 0, waiting: 0, dead: 0 });
    });

    it('nacks, delays, dead-letters after maxAttempts, redrives', async () => {
      kv.queue.enqueue('t', 'poison', { maxAttempts: 2 });
      kv.queue.enqueue('t', 'once', { maxAttempts: 1 });
      await kv.queue.enqueueAsync('t', 'later', { delayMs: 60_000 });
      const l1 = kv.queue.lease('t', 10, 60_000);
      expect(l1.map((m) => m.payload.toString())).toEqual(['poison', 'once']);
      expect(kv.queue.nack(l1[0]!)).toBe(true);
      expect(kv.queue.nack(l1[1]!)).toBe(true); // out of attempts: dead at once
      const l2 = kv.queue.lease('t', 10, 30);
      expect(l2.map((m) => [m.payload.toString(), m.attempt])).toEqual([['poison', 2]]);
      await clockPast(l2[0]!.leaseUntil); // the lease has certainly ended
      expect(kv.queue.lease('t', 10, 60_000)).toEqual([]);
      const dead = kv.queue.deadLetters('t');
      expect(dead.map((d) => [d.payload.toString(), d.attempts])).toEqual([
        ['poison', 2],
        ['once', 1],
      ]);
      expect(kv.queue.depth('t')).toEqual({ ready: 0, waiting: 1, dead: 2 });
      expect(kv.queue.redrive('t')).toBe(2);
      expect(kv.queue.lease('t', 10, 60_000).map((m) => [m.payload.toString(), m.attempt])).toEqual([
        ['poison', 1],
        ['once', 1],
      ]);
      kv.clear('queue');
      expect(kv.queue.depth('t')).toEqual({ ready: 0, waiting: 0, dead: 0 });
    });

    it('refuses bad queue input', () => {
      expectCode(() => kv.queue.enqueue('', 'x'), 'INVALID_ARGUMENT');
      expectCode(() => kv.queue.enqueue('a\0b', 'x'), 'INVALID_ARGUMENT');
      expectCode(() => kv.queue.enqueue('t', 42 as unknown as string), 'INVALID_ARGUMENT');
      expectCode(() => kv.queue.enqueue('t', 'x', { maxAttempts: 0 }), 'INVALID_ARGUMENT');
      expectCode(() => kv.queue.enqueue('t', 'x', { delayMs: -5 }), 'INVALID_ARGUMENT');
      expectCode(() => kv.queue.lease('t', 0, 1000), 'INVALID_ARGUMENT');
      expectCode(() => kv.queue.lease('t', 1, 0), 'INVALID_ARGUMENT');
      expectCode(() => kv.queue.ack('not an id'), 'INVALID_ARGUMENT');
      expect(kv.queue.ack('t#999.1')).toBe(false);
    });
  });
});
