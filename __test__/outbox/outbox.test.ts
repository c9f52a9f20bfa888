import { afterEach, describe, expect, it } from 'vitest';
import type { BusEnvelope } from '../../src/bus/index.js';
import { createMemory, createMessage } from '../../src/domain/index.js';
import { AicoDataError } from '../../src/errors.js';
import { conversationCachePrefix, OutboxDispatcher, userCachePrefix, type OutboxRow, type OutboxTarget } from '../../src/index.js';
import { busBarrier, waitFor } from '../helpers/wait.js';
import { alive, closeAll, openAll, seedUser } from './helpers.js';

afterEach(closeAll);

const pendingRows = async (data: Awaited<ReturnType<typeof openAll>>['data']) =>
  data.sql.query<{ topic: string; aggregate_id: string; payload: string }>(`SELECT topic, aggregate_id, payload FROM outbox WHERE dispatched_at IS NULL ORDER BY seq`);

describe('transactional outbox: rows are written in the writing transaction', () => {
  it('commits outbox rows with the change and rolls them back with it', async () => {
    const { data } = await openAll({ analytics: false, vectors: false, kv: false, outbox: { pollMs: 0 } });
    const { userId, conversationId } = await seedUser(data);
    const seeded = await pendingRows(data);
    expect(seeded.map((r) => r.topic)).toEqual(
      expect.arrayContaining(['data/user/created/v1', 'data/conversation/created/v1', 'data/message/created/v1', 'data/memory/created/v1']),
    );
    // Ids only: no content travels in the outbox.
    for (const r of seeded) expect(Object.keys(JSON.parse(r.payload)).sort()).toEqual(expect.arrayContaining(['id', 'user_id']));
    expect(seeded.some((r) => r.payload.includes('joined'))).toBe(false);

    const before = seeded.length;
    await expect(
      data.unitOfWork(async (repos) => {
        await repos.conversations.saveMessage(createMessage({ conversationId, userId, role: 'user', content: 'never committed' }));
        await repos.memories.save(createMemory({ userId, type: 'semantic', content: 'never committed either' }));
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    expect((await pendingRows(data)).length).toBe(before);

    // Access bookkeeping is not a change worth propagating.
    const mem = await data.sql.queryOne<{ id: string }>(`SELECT id FROM memories LIMIT 1`);
    await data.repos.memories.recordAccess([mem!.id]);
    expect((await pendingRows(data)).length).toBe(before);
    // A soft delete is announced as a delete.
    await data.sql.execute(`UPDATE memories SET deleted_at = '2030-01-01T00:00:00.000Z' WHERE id = ?`, [mem!.id]);
    expect((await pendingRows(data)).at(-1)!.topic).toBe('data/memory/deleted/v1');
  });
});

describe('dispatcher over the real stores (libSQL, DuckDB, RocksDB, Chroma)', () => {
  it('applies rows to every store, publishes events after commit with ids only, and verifies consistent', async () => {
    const { data } = await openAll({ outbox: { pollMs: 0 } });
    const events: BusEnvelope[] = [];
    await data.bus!.subscribe('data/**', (e) => void events.push(e));
    const { userId, conversationId } = await seedUser(data);
    await data.outbox!.drain();
    // While the transaction is open the dispatcher cannot see its rows: no event before commit.
    let messageId = '';
    await data.unitOfWork(async (repos) => {
      const m = createMessage({ conversationId, userId, role: 'user', content: 'secret words about tea' });
      messageId = m.id;
      await repos.conversations.saveMessage(m);
      expect(await data.outbox!.dispatch()).toEqual({ dispatched: 0, retried: 0, deadLettered: 0 });
      await busBarrier(data.bus!); // whatever was published so far has been delivered
      expect(events.filter((e) => (e.payload as { id: string }).id === m.id)).toEqual([]);
    });
    // Cached entries written before the next change of their conversation are invalidated by it.
    await data.kv.putJson('cache', conversationCachePrefix(userId, conversationId) + 'context', { n: 1 });
    await data.kv.putJson('cache', userCachePrefix(userId) + 'profile', { n: 2 });
    const mem = await data.memories.remember({ userId, type: 'preference', content: 'Ana loves green tea', importance: 0.9 });
    await data.outbox!.drain();
    await busBarrier(data.bus!); // in-process delivery is asynchronous: wait until the drained events are delivered

    const created = events.find((e) => e.metadata.message_type === 'data/message/created/v1' && (e.payload as { id: string }).id === messageId);
    expect(created).toBeDefined();
    expect(created!.payload).toEqual({ id: messageId, user_id: userId, conversation_id: conversationId });
    expect(JSON.stringify(events)).not.toContain('secret words');
    expect(events.some((e) => e.metadata.message_type === 'data/memory/created/v1' && (e.payload as { id: string }).id === mem.id)).toBe(true);
    // The event id is the outbox row id.
    const row = await data.sql.queryOne<{ id: string }>(`SELECT id FROM outbox WHERE aggregate_id = ? AND topic = 'data/message/created/v1'`, [messageId]);
    expect(created!.metadata.message_id).toBe(row!.id);

    // Chroma, DuckDB and the cache followed.
    expect((await data.vectors!.memories.get({ ids: [mem.id] })).map((r) => r.id)).toEqual([mem.id]);
    expect(await data.analytics!.query(`SELECT id FROM messages WHERE id = $id`, { id: messageId })).toEqual([{ id: messageId }]);
    expect(data.kv.get('cache', conversationCachePrefix(userId, conversationId) + 'context')).toBeUndefined();
    expect(data.kv.get('cache', userCachePrefix(userId) + 'profile')).toBeDefined(); // only the conversation's part was invalidated

    const status = await data.outbox!.status();
    expect(status).toMatchObject({ pending: 0, dead: 0 });
    expect(status.dispatched).toBeGreaterThan(0);
    const report = await data.verifyConsistency();
    expect(report.ok).toBe(true);
    expect(report.libsql).toMatchObject({ memories: 2, messages: 2 });

    // Forget goes through the outbox too.
    expect(await data.memories.forget(mem.id)).toBe(true);
    expect(await data.vectors!.memories.get({ ids: [mem.id] })).toEqual([]);
    await data.outbox!.drain();
    expect((await data.verifyConsistency()).ok).toBe(true);
  });

  it('remember inside an open unit of work does not wait for the writer it holds; the rows are applied after commit', async () => {
    const { data } = await openAll({ analytics: false, outbox: { pollMs: 0 } });
    const { userId } = await seedUser(data); // committed rows are due: a dispatch now would need the writer
    expect((await pendingRows(data)).length).toBeGreaterThan(0);
    const done = data.unitOfWork(async () => {
      const m = await data.memories.remember({ userId, type: 'semantic', content: 'remembered inside a unit of work' });
      expect(await data.vectors!.memories.get({ ids: [m.id] })).toEqual([]); // not committed yet: not indexed
      return m;
    });
    const winner = await Promise.race([done, new Promise((r) => setTimeout(() => r('deadlocked'), 10_000))]);
    expect(winner).not.toBe('deadlocked');
    const m = await done;
    await data.outbox!.drain();
    expect((await data.vectors!.memories.get({ ids: [m.id] })).map((r) => r.id)).toEqual([m.id]);
  });

  it('puts the entity into events only when configured (eventPayload: entity)', async () => {
    const { data } = await openAll({ analytics: false, vectors: false, outbox: { pollMs: 0, eventPayload: 'entity' } });
    const events: BusEnvelope[] = [];
    await data.bus!.subscribe('data/memory/', (e) => void events.push(e));
    const { userId } = await seedUser(data);
    const m = await data.memories.remember({ userId, type: 'semantic', content: 'Ana collects stamps' });
    await data.outbox!.drain();
    await busBarrier(data.bus!);
    const ev = events.find((e) => (e.payload as { id: string }).id === m.id)!;
    expect((ev.payload as { entity: { content: string } }).entity.content).toBe('Ana collects stamps');
  });

  it('is idempotent: applying every row again changes nothing and republishes with the same ids', async () => {
    const { data } = await openAll({ outbox: { pollMs: 0 } });
    const { userId } = await seedUser(data);
    await data.memories.rememberMany([
      { userId, type: 'semantic', content: 'one' },
      { userId, type: 'semantic', content: 'two' },
    ]);
    await data.outbox!.drain();
    const ids = (await data.vectors!.memories.get({})).map((r) => r.id).sort();
    const seen: string[] = [];
    await data.bus!.subscribe('data/**', (e) => void seen.push(e.metadata.message_id));
    // Duplicate delivery: every row handed out again.
    const n = (await data.sql.execute(`UPDATE outbox SET dispatched_at = NULL`)).changes;
    await data.outbox!.drain();
    await busBarrier(data.bus!);
    expect((await data.vectors!.memories.get({})).map((r) => r.id).sort()).toEqual(ids);
    expect(seen.length).toBe(n);
    const rowIds = (await data.sql.query<{ id: string }>(`SELECT id FROM outbox`)).map((r) => r.id).sort();
    expect([...seen].sort()).toEqual(rowIds);
    expect((await data.verifyConsistency()).ok).toBe(true);
  });

  it('retries while Chroma is down and loses nothing: the next open replays the rows', async () => {
    const first = await openAll({ outbox: { pollMs: 0, baseDelayMs: 10 }, vectors: { server: { autoRestart: false } } });
    const { data, dir } = first;
    const { userId } = await seedUser(data);
    await data.outbox!.drain();
    const pid = data.vectors!.status().pid!;
    expect(alive(pid)).toBe(true);
    process.kill(pid, 'SIGKILL');
    await waitFor(() => !alive(pid), { timeoutMs: 15_000, what: 'the killed Chroma server exiting' });

    const mems = await data.memories.rememberMany([
      { userId, type: 'semantic', content: 'written while chroma is down' },
      { userId, type: 'semantic', content: 'also while chroma is down' },
    ]);
    await data.outbox!.dispatch();
    const s = await data.outbox!.status();
    expect(s.pending).toBe(2);
    expect(s.retrying).toBe(2);
    expect(s.lastError).toMatch(/^UNAVAILABLE: chroma/);
    expect(await data.repos.memories.get(mems[0]!.id)).toBeDefined(); // committed regardless
    await data.close();

    const { data: again } = await openAll({ dir, outbox: { pollMs: 0 } });
    await again.outbox!.drain();
    expect((await again.vectors!.memories.get({ ids: mems.map((m) => m.id) })).length).toBe(2);
    const report = await again.verifyConsistency();
    expect(report.ok).toBe(true);
    expect(report.pendingOutbox).toBe(0);
  });

  it('replays rows committed without a dispatcher when a dispatching process opens the folder', async () => {
    const { data, dir } = await openAll({ outbox: false, vectors: false });
    const { userId } = await seedUser(data);
    await data.repos.memories.save(createMemory({ userId, type: 'semantic', content: 'only in libSQL so far' }));
    expect((await pendingRows(data)).length).toBeGreaterThan(0);
    await data.close();
    const { data: again } = await openAll({ dir }); // background loop on (default)
    await again.outbox!.drain();
    expect((await again.verifyConsistency()).ok).toBe(true);
    expect((await again.vectors!.memories.get({})).length).toBe(2); // the welcome memory and this one
  });
});

/** Wraps a target so that it fails while `failing()` is true. */
function flaky(target: OutboxTarget, failing: () => boolean, code: 'UNAVAILABLE' | 'INTERNAL' = 'UNAVAILABLE'): OutboxTarget & { calls: number } {
  const t = {
    name: `flaky-${target.name}`,
    calls: 0,
    async apply(rows: readonly OutboxRow[]) {
      t.calls++;
      if (failing()) throw new AicoDataError(code, 'injected failure');
      await target.apply(rows);
    },
  };
  return t;
}

describe('retries, backoff and dead letters', () => {
  it('backs off, dead-letters after maxAttempts, shows them in status(), and re-queues them on request', async () => {
    const { data } = await openAll({ analytics: false, vectors: false, kv: false, outbox: false, bus: false });
    await seedUser(data);
    const applied: string[] = [];
    let down = true;
    const target = flaky({ name: 'recorder', apply: async (rows) => void applied.push(...rows.map((r) => r.id)) }, () => down);
    const d = new OutboxDispatcher(data.sql, [target], { pollMs: 0, maxAttempts: 3, baseDelayMs: 300, maxDelayMs: 600 });
    const rows = Number((await data.sql.queryOne<{ n: number }>(`SELECT count(*) AS n FROM outbox`))!.n);
    expect(rows).toBeGreaterThan(2);

    const r1 = await d.dispatch();
    expect(r1).toEqual({ dispatched: 0, retried: rows, deadLettered: 0 });
    const s1 = await d.status();
    expect(s1).toMatchObject({ pending: rows, retrying: rows, dead: 0 });
    // The retry waits for its backoff: an immediate pass finds nothing due.
    const due = await data.sql.queryOne<{ n: number }>(`SELECT count(*) AS n FROM outbox WHERE available_at > strftime('%Y-%m-%dT%H:%M:%fZ', 'now')`);
    expect(Number(due!.n)).toBeGreaterThan(0);

    await expect(d.drain(5000)).resolves.toBeUndefined(); // dead letters do not count as pending
    const s2 = await d.status();
    expect(s2.dead).toBe(rows);
    expect(s2.pending).toBe(0);
    expect(s2.deadLetters[0]).toMatchObject({ attempts: 3, lastError: 'UNAVAILABLE: flaky-recorder: injected failure' });
    expect(s2.totals.deadLettered).toBe(rows);
    expect(applied).toEqual([]);

    down = false;
    expect(await d.retryDeadLetters()).toBe(rows);
    await d.drain(5000);
    expect(await d.status()).toMatchObject({ pending: 0, dead: 0, dispatched: rows });
    expect(new Set(applied).size).toBe(rows);
    await d.close();
  });

  it('isolates a poison row: the others in its batch are applied', async () => {
    const { data } = await openAll({ analytics: false, vectors: false, kv: false, outbox: false, bus: false });
    const { userId } = await seedUser(data);
    const poison = createMemory({ userId, type: 'semantic', content: 'poison' });
    await data.repos.memories.save(poison);
    const applied: string[] = [];
    const target: OutboxTarget = {
      name: 'picky',
      async apply(rows) {
        if (rows.some((r) => r.aggregateId === poison.id)) throw new Error('cannot apply this one');
        applied.push(...rows.map((r) => r.aggregateId!));
      },
    };
    const d = new OutboxDispatcher(data.sql, [target], { pollMs: 0, maxAttempts: 1 });
    const r = await d.dispatch();
    const total = Number((await data.sql.queryOne<{ n: number }>(`SELECT count(*) AS n FROM outbox`))!.n);
    expect(r).toEqual({ dispatched: total - 1, retried: 0, deadLettered: 1 });
    expect(applied).not.toContain(poison.id);
    const s = await d.status();
    expect(s.deadLetters.map((x) => x.aggregateId)).toEqual([poison.id]);
    expect(s.deadLetters[0]!.lastError).toBe('INTERNAL: picky: cannot apply this one');
    await d.close();
  });

  it('rejects bad options and use after close', async () => {
    const { data } = await openAll({ analytics: false, vectors: false, kv: false, outbox: false, bus: false });
    expect(() => new OutboxDispatcher(data.sql, [], { maxAttempts: 0 })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => new OutboxDispatcher(data.sql, [], { pollMs: -1 })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    const d = new OutboxDispatcher(data.sql, [], { pollMs: 0 });
    await d.close();
    await expect(d.dispatch()).rejects.toMatchObject({ code: 'CLOSED' });
    await expect(d.retryDeadLetters('x' as never)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});

describe('verifyConsistency / repair', () => {
  it('finds missing and extra rows in Chroma and RocksDB and repairs them from libSQL', async () => {
    const { data } = await openAll({ outbox: { pollMs: 0 } });
    const { userId } = await seedUser(data);
    const [a, b] = await data.memories.rememberMany([
      { userId, type: 'semantic', content: 'alpha' },
      { userId, type: 'semantic', content: 'beta' },
    ]);
    await data.outbox!.drain();
    expect((await data.verifyConsistency()).ok).toBe(true);

    // Damage the derived stores behind the outbox's back.
    await data.vectors!.memories.delete({ ids: [a!.id] });
    await data.vectors!.memories.upsert([{ id: 'ghost-memory', text: 'not in libSQL', metadata: { userId } }]);
    await data.kv.putJson('cache', userCachePrefix('gone-user') + 'x', 1);
    const bad = await data.verifyConsistency();
    expect(bad.ok).toBe(false);
    const chroma = bad.stores.find((s) => s.store === 'chroma')!;
    expect(chroma.missing.memories).toEqual([a!.id]);
    expect(chroma.extra.memories).toEqual(['ghost-memory']);
    expect(bad.stores.find((s) => s.store === 'rocksdb')!.extra.users).toEqual(['gone-user']);
    expect(bad.stores.find((s) => s.store === 'duckdb')!.missing).toEqual({ conversations: [], messages: [], memories: [] });

    const fixed = await data.repair();
    expect(fixed.fixed).toMatchObject({ chroma: 2, rocksdb: 1 });
    expect(fixed.after.ok).toBe(true);
    expect((await data.vectors!.memories.get({ ids: [a!.id, b!.id] })).length).toBe(2);
  });

  it('reports DuckDB rows missing before the analytics sync and repairs them', async () => {
    const { data } = await openAll({ outbox: false, vectors: false });
    const { userId, conversationId } = await seedUser(data);
    await data.repos.conversations.saveMessage(createMessage({ conversationId, userId, role: 'user', content: 'not synced yet' }));
    const bad = await data.verifyConsistency();
    const duck = bad.stores.find((s) => s.store === 'duckdb')!;
    expect(duck.missing.messages!.length).toBe(2);
    expect(bad.stores.find((s) => s.store === 'chroma')!.checked).toBe(false);
    const fixed = await data.repair();
    expect(fixed.after.ok).toBe(true);
    expect(fixed.fixed.duckdb).toBeGreaterThan(0);
  });
});

describe('forgetUser', () => {
  it('removes the user from every store through the outbox and proves none is left', async () => {
    const { data } = await openAll({ outbox: { pollMs: 0 } });
    const ana = await seedUser(data, 'Ana');
    const bob = await seedUser(data, 'Bob');
    for (const u of [ana, bob]) {
      await data.memories.remember({ userId: u.userId, type: 'semantic', content: `memory of ${u.userId}` });
      await data.services.conversation.processUserMessage(u.userId, 'hello there', () => 'hi!');
    }
    await data.outbox!.drain();
    for (const u of [ana, bob]) {
      await data.kv.putJson('cache', conversationCachePrefix(u.userId, u.conversationId) + 'ctx', 1);
      await data.kv.putJson('session', userCachePrefix(u.userId) + 'token', 'abc');
    }
    const before = await data.forgetStatus(ana.userId);
    expect(before.clean).toBe(false);
    expect(before.chroma).toBe(2);
    expect(before.duckdb!.messages).toBe(3);
    expect(before.rocksdb).toBe(2);

    const events: string[] = [];
    await data.bus!.subscribe('data/user/deleted/v1', (e) => void events.push((e.payload as { id: string }).id));
    const after = await data.forgetUser(ana.userId);
    expect(after).toMatchObject({ clean: true, chroma: 0, rocksdb: 0, outboxPending: 0 });
    expect(Object.values(after.libsql).every((n) => n === 0)).toBe(true);
    expect(Object.values(after.duckdb!).every((n) => n === 0)).toBe(true);
    await busBarrier(data.bus!);
    expect(events).toEqual([ana.userId]);
    // No outbox row names the user any more.
    expect(Number((await data.sql.queryOne<{ n: number }>(`SELECT count(*) AS n FROM outbox WHERE payload LIKE ?`, [`%${ana.userId}%`]))!.n)).toBe(0);
    // Bob is untouched.
    const bobStatus = await data.forgetStatus(bob.userId);
    expect(bobStatus.chroma).toBe(2);
    expect(bobStatus.rocksdb).toBe(2);
    expect((await data.verifyConsistency()).ok).toBe(true);
    // Forgetting again (or an unknown user) is fine and still clean.
    expect((await data.forgetUser(ana.userId)).clean).toBe(true);
    await expect(data.forgetUser('')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});
