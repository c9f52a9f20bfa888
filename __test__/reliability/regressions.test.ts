/**
 * Regression tests for failures the reliability suite found (each fixed in the store it belongs to).
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConversation, createMessage, type User } from '../../src/domain/index.js';
import { AicoDataError, openDataLayer, type DataLayer } from '../../src/index.js';
import { tempDir } from '../helpers/folders.js';

const t = tempDir('aico-rel-regress-');
let data: DataLayer;
let user: User;

beforeAll(async () => {
  data = await openDataLayer({ dir: join(t.dir, 'data'), password: 'regression password', analytics: false });
  ({ user } = await data.services.onboarding.onboardNewUser({ name: 'r' }));
}, 60_000);

afterAll(async () => {
  await data?.close();
  t.cleanup();
});

function codeOf(fn: () => unknown): string {
  try {
    fn();
    return 'no error';
  } catch (e) {
    return e instanceof AicoDataError ? e.code : `not an AicoDataError: ${String(e)}`;
  }
}

describe('arguments the native binding cannot convert are INVALID_ARGUMENT, not INTERNAL (hostile part)', () => {
  it('a string ttlMs, a Buffer topic, a string visibility', () => {
    expect(codeOf(() => data.kv.put('cache', 'k', Buffer.from('v'), { ttlMs: 'soon' as never }))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => data.kv.putJson('cache', 'k', 1, { ttlMs: {} as never }))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => data.kv.queue.enqueue(Buffer.from('topic') as never, 'payload'))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => data.kv.queue.lease('topic', 1, 'long' as never))).toBe('INVALID_ARGUMENT');
  });

  it('objects holding a BigInt (which the binding cannot even describe) as a topic, namespace name or delivery id', () => {
    const big = { n: 10n };
    expect(codeOf(() => data.kv.queue.enqueue(big as never, 'payload'))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => data.kv.queue.lease([big] as never, 1, 1000))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => data.kv.queue.depth(big as never))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => data.kv.queue.ack({ id: big } as never))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => data.kv.defineNamespace(big as never))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => data.kv.defineNamespace('fine', 5 as never))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => [...data.kv.entriesSync([10n] as never)])).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => data.kv.keys({ n: 10n } as never))).toBe('INVALID_ARGUMENT');
  });
});

describe('integrityCheck does not report a sound FTS5 index as malformed (hostile part)', () => {
  it('stays clean across many small writes checked one by one', async () => {
    // Before the fix the reader-side check reported "malformed inverted index for FTS5 table
    // main.messages_fts" after ~15 single-message commits (its cached index structure was stale).
    const conversation = createConversation({ userId: user.id });
    await data.repos.conversations.save(conversation);
    const reports: string[] = [];
    for (let i = 0; i < 40; i++) {
      await data.repos.conversations.saveMessage(createMessage({ conversationId: conversation.id, userId: user.id, role: 'user', content: `word${i} common` }));
      reports.push(...data.sql.integrityCheck(true), ...data.sql.integrityCheck(false));
    }
    expect(reports).toEqual([]);
  });

  it('still reports an FTS5 index that really is damaged', async () => {
    // Zero the largest index segment: the writer-side check confirms the damage.
    await data.sql.execute('UPDATE messages_fts_data SET block = zeroblob(length(block)) WHERE id = (SELECT max(id) FROM messages_fts_data)');
    expect(data.sql.integrityCheck(true)).toContain('malformed inverted index for FTS5 table main.messages_fts');
    await data.sql.execute("INSERT INTO messages_fts(messages_fts) VALUES ('rebuild')");
    expect(data.sql.integrityCheck(true)).toEqual([]);
  });
});

describe('other hostile-input findings', () => {
  it('a plugin name holding a BigInt is INVALID_ARGUMENT (the message used to JSON.stringify it and throw a TypeError)', async () => {
    await expect(data.schemas.activatePlugin({ n: 10n } as never)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(data.schemas.activatePlugin([10n] as never)).rejects.toBeInstanceOf(AicoDataError);
  });

  it('users.list(null) lists instead of throwing a TypeError', async () => {
    const all = await data.repos.users.list(null as never);
    expect(all.map((u) => u.id)).toContain(user.id);
  });
});

describe('concurrent first opens of one folder (concurrency part)', () => {
  it('all succeed, exactly one with a writable KV store, even while the KV store is being created', async () => {
    // Before the fix the openers that lost the race to create the RocksDB store failed with LOCKED
    // (or INTERNAL "Column family not found") instead of opening read-only.
    for (let round = 0; round < 3; round++) {
      const dir = join(t.dir, `race-${round}`);
      await (await openDataLayer({ dir, password: 'race', kv: false, analytics: false })).close();
      const opened = await Promise.allSettled([0, 1, 2].map(() => openDataLayer({ dir, password: 'race', analytics: false })));
      const failed = opened.filter((o) => o.status === 'rejected').map((o) => String((o as PromiseRejectedResult).reason));
      const layers = opened.filter((o): o is PromiseFulfilledResult<DataLayer> => o.status === 'fulfilled').map((o) => o.value);
      const writers = layers.filter((l) => !l.kv.readOnly).length;
      for (const l of layers) await l.close();
      expect(failed).toEqual([]);
      expect(writers).toBe(1);
    }
  }, 60_000);
});
