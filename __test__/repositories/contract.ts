/**
 * THE repository contract: one suite, run against the libSQL repositories (libsql.test.ts,
 * real encrypted data folder) and the in-memory twins (memory.test.ts). Both must behave the
 * same for every case, including errors, ranking, pagination and unit-of-work rollback.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createConversation,
  createDevice,
  createMemory,
  createMessage,
  createServices,
  createUser,
  createUserPreferences,
  newestFirst,
  type Conversation,
  type Memory,
  type Message,
  type RecallStrategy,
  type Repositories,
  type UnitOfWork,
  type User,
} from '../../src/domain/index.js';
import type { AicoDataError } from '../../src/errors.js';
import { expectCode } from '../schema/support.js';

/** An implementation under test. */
export interface ContractSubject {
  readonly repos: Repositories;
  readonly unitOfWork: UnitOfWork;
  close(): Promise<void>;
}

export type OpenSubject = (options?: { recall?: RecallStrategy }) => Promise<ContractSubject>;

const T0 = Date.UTC(2025, 0, 1, 12, 0, 0);
const at = (seconds: number) => new Date(T0 + seconds * 1000);

/** Asserts `p` fails with an AicoDataError of `code` (and `field`, when given). */
export async function expectError(p: Promise<unknown> | (() => unknown), code: string, field?: string): Promise<AicoDataError> {
  const e = await expectCode(p, code);
  if (field !== undefined) expect(e.details?.field, e.message).toBe(field);
  return e;
}

export function repositoryContract(name: string, open: OpenSubject): void {
  describe(`repository contract: ${name}`, () => {
    let subject: ContractSubject;
    let repos: Repositories;
    let alice: User;
    let bob: User;
    let chat: Conversation;

    async function seed(): Promise<void> {
      alice = createUser({ name: 'Alice Example', nickname: 'Ali', userType: 'primary', createdAt: at(0) });
      bob = createUser({ name: 'Bob Example', createdAt: at(1) });
      await repos.users.save(alice);
      await repos.users.save(bob);
      chat = createConversation({ userId: alice.id, title: 'First chat', createdAt: at(2) });
      await repos.conversations.save(chat);
    }

    beforeEach(async () => {
      subject = await open();
      repos = subject.repos;
      await seed();
    });
    afterEach(async () => {
      await subject.close();
    });

    function message(content: string, seconds: number, extra: Partial<Parameters<typeof createMessage>[0]> = {}): Message {
      return createMessage({ conversationId: chat.id, userId: alice.id, role: 'user', content, createdAt: at(seconds), ...extra });
    }

    describe('users', () => {
      it('saves, reads back and lists users', async () => {
        expect(await repos.users.get(alice.id)).toEqual(alice);
        expect(await repos.users.get('no-such-user')).toBeUndefined();
        expect((await repos.users.list()).map((u) => u.id)).toEqual([alice.id, bob.id]);
        await repos.users.save(createUser({ ...bob, isActive: false }));
        expect((await repos.users.list({ activeOnly: true })).map((u) => u.id)).toEqual([alice.id]);
      });

      it('updates on save and keeps the original creation time', async () => {
        await repos.users.save(createUser({ ...alice, name: 'Alice Renamed', createdAt: at(500), updatedAt: at(600) }));
        const got = await repos.users.get(alice.id);
        expect(got?.name).toBe('Alice Renamed');
        expect(got?.createdAt).toEqual(alice.createdAt);
        expect(got?.updatedAt).toEqual(at(600));
      });

      it('deletes a user with everything of theirs', async () => {
        await repos.preferences.save(createUserPreferences({ userId: alice.id }));
        const m = message('remember the blue bicycle', 10);
        await repos.conversations.saveMessage(m);
        await repos.memories.save(createMemory({ userId: alice.id, type: 'semantic', content: 'owns a blue bicycle', sourceMessageId: m.id }));
        const device = createDevice({ name: 'Phone', type: 'phone', platform: 'android', publicKey: new Uint8Array([1, 2, 3]), userId: alice.id });
        await repos.devices.register(device);

        expect(await repos.users.delete(alice.id)).toBe(true);
        expect(await repos.users.delete(alice.id)).toBe(false);
        expect(await repos.users.get(alice.id)).toBeUndefined();
        expect(await repos.preferences.get(alice.id)).toBeUndefined();
        expect(await repos.conversations.get(chat.id)).toBeUndefined();
        expect(await repos.conversations.getMessage(m.id)).toBeUndefined();
        expect((await repos.memories.getByUser(alice.id)).items).toEqual([]);
        expect(await repos.conversations.searchByContent('bicycle')).toEqual([]);
        expect((await repos.devices.get(device.id))?.userId).toBeNull();
        expect(await repos.users.get(bob.id)).toEqual(bob);
      });

      it('rejects bad input naming the field', async () => {
        await expectError(repos.users.save({ name: 'x' } as unknown as User), 'INVALID_ARGUMENT', 'id');
        await expectError(repos.users.save({ ...alice, name: '  ' }), 'INVALID_ARGUMENT', 'name');
        await expectError(repos.users.save({ ...alice, userType: 'robot' } as unknown as User), 'INVALID_ARGUMENT', 'userType');
        await expectError(repos.users.get(42 as unknown as string), 'INVALID_ARGUMENT', 'id');
        await expectError(repos.users.save(null as unknown as User), 'INVALID_ARGUMENT', 'user');
      });
    });

    describe('preferences', () => {
      it('saves, replaces and reads back preferences with settings', async () => {
        expect(await repos.preferences.get(alice.id)).toBeUndefined();
        const prefs = createUserPreferences({
          userId: alice.id,
          language: 'de-CH',
          personalityStyle: 'concise',
          privacyLevel: 'strict',
          settings: { voice: 'warm', volume: 0.7, quiet: { from: '22:00', to: '07:00' }, tags: ['a', 'b'], on: true, none: null },
          updatedAt: at(100),
        });
        await repos.preferences.save(prefs);
        expect(await repos.preferences.get(alice.id)).toEqual(prefs);
        const next = createUserPreferences({ userId: alice.id, settings: { volume: 1 }, updatedAt: at(200) });
        await repos.preferences.save(next);
        expect(await repos.preferences.get(alice.id)).toEqual(next);
        expect(await repos.preferences.get(bob.id)).toBeUndefined();
      });

      it('refuses preferences of an unknown user', async () => {
        await expectError(repos.preferences.save(createUserPreferences({ userId: 'ghost' })), 'CONSTRAINT');
        expect(await repos.preferences.get('ghost')).toBeUndefined();
      });
    });

    describe('conversations and messages', () => {
      it('saves conversations, updates titles, lists them newest first', async () => {
        const later = createConversation({ userId: alice.id, title: 'Second', createdAt: at(50) });
        await repos.conversations.save(later);
        await repos.conversations.save(createConversation({ ...chat, title: 'Renamed', status: 'archived' }));
        expect(await repos.conversations.get(chat.id)).toEqual({ ...chat, title: 'Renamed', status: 'archived' });
        const page = await repos.conversations.listByUser(alice.id, { limit: 1 });
        expect(page.items.map((c) => c.id)).toEqual([later.id]);
        const rest = await repos.conversations.listByUser(alice.id, { limit: 1, before: page.nextCursor });
        expect(rest.items.map((c) => c.id)).toEqual([chat.id]);
        expect(rest.nextCursor).toBeNull();
        expect((await repos.conversations.listByUser(bob.id)).items).toEqual([]);
      });

      it("refuses another user's conversation id and unknown users", async () => {
        await expectError(repos.conversations.save(createConversation({ id: chat.id, userId: bob.id, title: 'hijack' })), 'CONFLICT', 'id');
        expect((await repos.conversations.get(chat.id))?.title).toBe('First chat');
        await expectError(repos.conversations.save(createConversation({ userId: 'ghost' })), 'CONSTRAINT');
      });

      it('stores messages with their metrics and never rewrites one', async () => {
        const m = message('How are you?', 10, { role: 'assistant', sentimentScore: -0.25, responseTimeMs: 850, model: 'llama-3', promptTokens: 12, completionTokens: 40 });
        await repos.conversations.saveMessage(m);
        expect(await repos.conversations.getMessage(m.id)).toEqual(m);
        await expectError(repos.conversations.saveMessage(m), 'CONSTRAINT');
        await expectError(repos.conversations.saveMessage(createMessage({ ...m, id: undefined, conversationId: 'nope' })), 'CONSTRAINT');
        await expectError(repos.conversations.saveMessage({ ...m, sentimentScore: 2 }), 'INVALID_ARGUMENT', 'sentimentScore');
        await expectError(repos.conversations.saveMessage({ ...m, role: 'robot' } as unknown as Message), 'INVALID_ARGUMENT', 'role');
      });

      it('pages messages newest first by (createdAt, id), filtering by conversation', async () => {
        const other = createConversation({ userId: alice.id, createdAt: at(3) });
        await repos.conversations.save(other);
        const saved: Message[] = [];
        for (let i = 0; i < 25; i++) {
          // Three messages per second: ties on createdAt are broken by id.
          const m = message(`message ${i}`, 10 + Math.floor(i / 3), { conversationId: i % 2 === 0 ? chat.id : other.id });
          await repos.conversations.saveMessage(m);
          saved.push(m);
        }
        await repos.conversations.saveMessage(createMessage({ conversationId: chat.id, userId: alice.id, role: 'user', content: 'x', createdAt: at(5) }));
        const expected = [...saved].sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? 1 : -1));
        const ids: string[] = [];
        let cursor: string | null = null;
        do {
          const page = await repos.conversations.getByUser(alice.id, { limit: 7, before: cursor, conversationId: undefined });
          ids.push(...page.items.map((m) => m.id));
          cursor = page.nextCursor;
        } while (cursor);
        expect(ids.slice(0, 25)).toEqual(expected.map((m) => m.id));
        expect(ids).toHaveLength(26);
        const onlyOther = await repos.conversations.getByUser(alice.id, { limit: 100, conversationId: other.id });
        expect(onlyOther.items.map((m) => m.id)).toEqual(expected.filter((m) => m.conversationId === other.id).map((m) => m.id));
        expect((await repos.conversations.getByUser(bob.id)).items).toEqual([]);
      });

      it('pages through 10,000 messages, none skipped or repeated, while new ones arrive', async () => {
        const N = 10_000;
        await subject.unitOfWork(async (tx) => {
          for (let i = 0; i < N; i++) await tx.conversations.saveMessage(message(`bulk message ${i}`, 10 + Math.floor(i / 4)));
        });
        const order: Message[] = [];
        let cursor: string | null = null;
        let pages = 0;
        do {
          const page = await repos.conversations.getByUser(alice.id, { limit: 100, before: cursor });
          order.push(...page.items);
          // Newer than everything read so far: keyset paging must neither show it nor shift the pages.
          if (pages === 10) await repos.conversations.saveMessage(message('arrived while paging', 100_000));
          cursor = page.nextCursor;
          pages++;
        } while (cursor);
        expect(pages).toBe(N / 100);
        expect(new Set(order.map((m) => m.id)).size).toBe(N);
        const outOfOrder = order.findIndex((m, i) => i > 0 && newestFirst(order[i - 1]!, m) >= 0);
        expect(outOfOrder).toBe(-1);
        expect((await repos.conversations.getByUser(alice.id, { limit: 1 })).items[0]?.content).toBe('arrived while paging');
      });

      it('rejects forged cursors and bad limits', async () => {
        await expectError(repos.conversations.getByUser(alice.id, { before: 'not a cursor!' }), 'INVALID_ARGUMENT', 'before');
        await expectError(repos.conversations.getByUser(alice.id, { before: Buffer.from('{"a":1}').toString('base64url') }), 'INVALID_ARGUMENT', 'before');
        await expectError(repos.conversations.getByUser(alice.id, { limit: 0 }), 'INVALID_ARGUMENT', 'limit');
        await expectError(repos.conversations.getByUser(alice.id, { limit: 1.5 }), 'INVALID_ARGUMENT', 'limit');
        await expectError(repos.conversations.getByUser(alice.id, { limit: 5000 }), 'INVALID_ARGUMENT', 'limit');
      });
    });

    describe('full-text search', () => {
      it('ranks by BM25: more occurrences in a shorter message first; all words must match', async () => {
        const long = message('I had a coffee this morning before the long meeting about the quarterly budget and the roadmap', 10);
        const strong = message('coffee coffee, always coffee', 11);
        const once = message('coffee with milk', 12);
        const unrelated = message('tea in the afternoon', 13);
        const fillers = ['good night', 'see you tomorrow', 'the weather is nice', 'call mom', 'buy bread'].map((t, i) => message(t, 20 + i));
        for (const m of [long, strong, once, unrelated, ...fillers]) await repos.conversations.saveMessage(m);

        const hits = await repos.conversations.searchByContent('coffee', { userId: alice.id });
        expect(hits.map((h) => h.item.id)).toEqual([strong.id, once.id, long.id]);
        expect(hits[0]!.score).toBeGreaterThan(hits[1]!.score);
        expect(hits[1]!.score).toBeGreaterThan(hits[2]!.score);
        expect(hits[0]!.item).toEqual(strong);

        expect((await repos.conversations.searchByContent('coffee morning')).map((h) => h.item.id)).toEqual([long.id]);
        expect((await repos.conversations.searchByContent('coffee', { limit: 1 })).map((h) => h.item.id)).toEqual([strong.id]);
        expect(await repos.conversations.searchByContent('coffee', { userId: bob.id })).toEqual([]);
      });

      it('matches case- and accent-insensitively', async () => {
        const m = message('Un Café à Zürich', 10);
        await repos.conversations.saveMessage(m);
        expect((await repos.conversations.searchByContent('cafe zurich')).map((h) => h.item.id)).toEqual([m.id]);
        expect((await repos.conversations.searchByContent('CAFÉ')).map((h) => h.item.id)).toEqual([m.id]);
      });

      it('treats hostile queries as plain words, never as search syntax', async () => {
        const m = message('near the OR gate, NOT the AND gate: "quoted" * stars', 10);
        await repos.conversations.saveMessage(m);
        const hostile = ['"', 'near"', 'NEAR(a b)', 'a OR', 'OR', 'NOT', 'AND AND', '*', 'content:near', '^near', '-near', '(((', "'", '', '   ', '\u0000', 'x'.repeat(5000), 'a '.repeat(3000)];
        for (const q of hostile) {
          const hits = await repos.conversations.searchByContent(q);
          expect(Array.isArray(hits), q).toBe(true);
        }
        expect((await repos.conversations.searchByContent('"quoted"')).map((h) => h.item.id)).toEqual([m.id]);
        expect((await repos.conversations.searchByContent('NEAR OR NOT')).map((h) => h.item.id)).toEqual([m.id]);
        expect((await repos.conversations.searchByContent('stars*')).map((h) => h.item.id)).toEqual([m.id]);
        await expectError(repos.conversations.searchByContent(7 as unknown as string), 'INVALID_ARGUMENT', 'query');
        await expectError(repos.conversations.searchByContent('x', { limit: 0 }), 'INVALID_ARGUMENT', 'limit');
      });
    });

    describe('memories', () => {
      function memory(content: string, extra: Partial<Parameters<typeof createMemory>[0]> = {}): Memory {
        return createMemory({ userId: alice.id, type: 'semantic', content, createdAt: at(20), ...extra });
      }

      it('saves, replaces and reads back memories', async () => {
        const src = message('my sister Carol lives in Lyon', 10);
        await repos.conversations.saveMessage(src);
        const m = memory('Sister Carol lives in Lyon', {
          type: 'relationship',
          category: 'family',
          importance: 0.9,
          confidence: 0.8,
          validFrom: at(0),
          validTo: at(10_000),
          sourceConversationId: chat.id,
          sourceMessageId: src.id,
          embeddingModel: 'e5-base',
          embeddingDimension: 768,
        });
        await repos.memories.save(m);
        expect(await repos.memories.get(m.id)).toEqual(m);
        const edited = createMemory({ ...m, content: 'Sister Carol moved to Paris', createdAt: at(999) });
        await repos.memories.save(edited);
        expect(await repos.memories.get(m.id)).toEqual({ ...edited, createdAt: m.createdAt });
        expect((await repos.memories.getByContext('Paris', { userId: alice.id, at: at(30) })).map((h) => h.item.id)).toEqual([m.id]);
        expect(await repos.memories.getByContext('Lyon', { userId: alice.id, at: at(30) })).toEqual([]);
        expect((await repos.memories.getMany([m.id, 'no-such-memory', m.id])).map((x) => x.id)).toEqual([m.id]);
        await expect(repos.memories.getMany(Array.from({ length: 1001 }, (_, i) => `m${i}`))).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
        expect(await repos.memories.delete(m.id)).toBe(true);
        expect(await repos.memories.getMany([m.id])).toEqual([]);
        expect(await repos.memories.delete(m.id)).toBe(false);
        expect(await repos.memories.get(m.id)).toBeUndefined();
      });

      it('refuses broken references and foreign ids', async () => {
        await expectError(repos.memories.save(memory('x', { userId: 'ghost' })), 'CONSTRAINT');
        await expectError(repos.memories.save(memory('x', { sourceMessageId: 'no-such-message' })), 'CONSTRAINT');
        const m = memory('mine');
        await repos.memories.save(m);
        await expectError(repos.memories.save(createMemory({ ...m, userId: bob.id })), 'CONFLICT', 'id');
        await expectError(repos.memories.save({ ...m, importance: 1.5 }), 'INVALID_ARGUMENT', 'importance');
        await expectError(repos.memories.save({ ...m, type: 'dream' } as unknown as Memory), 'INVALID_ARGUMENT', 'type');
      });

      it('pages by user and type', async () => {
        const list: Memory[] = [];
        for (let i = 0; i < 6; i++) {
          const m = memory(`fact ${i}`, { type: i % 2 ? 'episodic' : 'semantic', createdAt: at(30 + i) });
          await repos.memories.save(m);
          list.push(m);
        }
        const first = await repos.memories.getByUser(alice.id, { limit: 2, type: 'episodic' });
        expect(first.items.map((m) => m.id)).toEqual([list[5]!.id, list[3]!.id]);
        const second = await repos.memories.getByUser(alice.id, { limit: 2, type: 'episodic', before: first.nextCursor });
        expect(second.items.map((m) => m.id)).toEqual([list[1]!.id]);
        expect(second.nextCursor).toBeNull();
        await expectError(repos.memories.getByUser(alice.id, { type: 'dream' as 'semantic' }), 'INVALID_ARGUMENT', 'type');
      });

      it('recalls by context: relevant, valid now, this user only, best first', async () => {
        const bike = memory('Alice rides a blue bicycle to work', { importance: 0.4 });
        const bike2 = memory('The bicycle has a bell, the bicycle is blue', { importance: 0.2 });
        const expired = memory('Alice had a red bicycle', { validFrom: at(0), validTo: at(10) });
        const future = memory('Alice will buy a bicycle helmet', { validFrom: at(1000) });
        const cat = memory('Alice has a cat named Miso', { importance: 0.9 });
        const bobs = createMemory({ userId: bob.id, type: 'semantic', content: 'Bob sells bicycles and bicycle parts' });
        const fillers = ['Bob plays chess', 'Bob likes rain', 'Bob cooks pasta', 'Bob reads novels', 'Bob has two sons', 'Bob hates mornings'].map(
          (content) => createMemory({ userId: bob.id, type: 'semantic', content }),
        );
        for (const m of [bike, bike2, expired, future, cat, bobs, ...fillers]) await repos.memories.save(m);

        const hits = await repos.memories.getByContext('Where is my bicycle?', { userId: alice.id, at: at(100) });
        expect(hits.map((h) => h.item.id)).toEqual([bike2.id, bike.id]);
        expect(hits[0]!.score).toBeGreaterThan(0);
        expect((await repos.memories.getByContext('cat or bicycle', { userId: alice.id, at: at(100), limit: 1 })).length).toBe(1);
        expect(await repos.memories.getByContext('', { userId: alice.id })).toEqual([]);
        expect(await repos.memories.getByContext('"NEAR(*', { userId: alice.id })).toEqual([]);
        await expectError(repos.memories.getByContext('bike', { userId: alice.id, limit: 0 }), 'INVALID_ARGUMENT', 'limit');
        await expectError(repos.memories.getByContext('bike', undefined as never), 'INVALID_ARGUMENT', 'options');
      });

      it('records access', async () => {
        const m = memory('likes jazz');
        await repos.memories.save(m);
        await repos.memories.recordAccess([m.id, m.id, 'unknown-id'], at(300));
        await repos.memories.recordAccess([m.id], at(400));
        const got = await repos.memories.get(m.id);
        expect(got?.accessCount).toBe(2);
        expect(got?.accessedAt).toEqual(at(400));
        await expectError(repos.memories.recordAccess('x' as unknown as string[]), 'INVALID_ARGUMENT', 'ids');
      });
    });

    describe('devices', () => {
      const key = (n: number) => new Uint8Array(32).fill(n);

      it('registers, trusts, touches and revokes devices', async () => {
        const laptop = createDevice({ name: 'Laptop', type: 'laptop', platform: 'linux', publicKey: key(1), syncPolicy: 'selective', createdAt: at(1) });
        const phone = createDevice({ name: 'Phone', type: 'phone', platform: 'ios', publicKey: key(2), userId: alice.id, createdAt: at(2) });
        await repos.devices.register(laptop);
        await repos.devices.register(phone);
        expect(await repos.devices.get(laptop.id)).toEqual(laptop);
        expect((await repos.devices.listActive()).map((d) => d.id)).toEqual([laptop.id, phone.id]);

        expect((await repos.devices.trust(phone.id)).trustLevel).toBe('trusted');
        expect((await repos.devices.get(phone.id))?.trustLevel).toBe('trusted');
        expect((await repos.devices.touch(phone.id, at(50))).lastSeenAt).toEqual(at(50));

        const revoked = await repos.devices.revoke(phone.id, at(60));
        expect(revoked.revokedAt).toEqual(at(60));
        expect(revoked.trustLevel).toBe('trusted'); // kept for the record; revokedAt decides
        expect((await repos.devices.revoke(phone.id, at(70))).revokedAt).toEqual(at(60));
        expect(await repos.devices.get(phone.id)).toEqual(revoked);
        expect((await repos.devices.listActive()).map((d) => d.id)).toEqual([laptop.id]);
        await expectError(repos.devices.trust(phone.id), 'CONFLICT', 'id');
        await expectError(repos.devices.touch(phone.id), 'CONFLICT', 'id');
      });

      it('refuses duplicates, unknown devices and bad levels', async () => {
        const d = createDevice({ name: 'Laptop', platform: 'linux', publicKey: key(1) });
        await repos.devices.register(d);
        await expectError(repos.devices.register(d), 'CONSTRAINT');
        await expectError(repos.devices.register(createDevice({ name: 'Clone', platform: 'linux', publicKey: key(1) })), 'CONSTRAINT');
        await expectError(repos.devices.register(createDevice({ name: 'X', platform: 'linux', publicKey: key(3), userId: 'ghost' })), 'CONSTRAINT');
        await expectError(repos.devices.trust('no-such-device'), 'NOT_FOUND', 'id');
        await expectError(repos.devices.revoke('no-such-device'), 'NOT_FOUND', 'id');
        await expectError(repos.devices.trust(d.id, 'god' as 'trusted'), 'INVALID_ARGUMENT', 'trustLevel');
        await expectError(repos.devices.register({ ...d, publicKey: new Uint8Array(0) }), 'INVALID_ARGUMENT', 'publicKey');
        expect(await repos.devices.get('no-such-device')).toBeUndefined();
      });
    });

    describe('unit of work', () => {
      it('commits the writes of several repositories together', async () => {
        const carol = createUser({ name: 'Carol' });
        await subject.unitOfWork(async (tx) => {
          await tx.users.save(carol);
          await tx.preferences.save(createUserPreferences({ userId: carol.id }));
          await tx.memories.save(createMemory({ userId: carol.id, type: 'system', content: 'Carol joined' }));
        });
        expect(await repos.users.get(carol.id)).toEqual(carol);
        expect(await repos.preferences.get(carol.id)).toBeDefined();
        expect((await repos.memories.getByUser(carol.id)).items).toHaveLength(1);
      });

      it('rolls every write back when the work throws, and rethrows the error', async () => {
        const carol = createUser({ name: 'Carol' });
        const boom = new Error('model crashed');
        const m = message('uncommitted words', 10);
        await expect(
          subject.unitOfWork(async (tx) => {
            await tx.users.save(carol);
            await tx.preferences.save(createUserPreferences({ userId: carol.id }));
            await tx.conversations.saveMessage(m);
            await tx.memories.save(createMemory({ userId: carol.id, type: 'system', content: 'Carol joined' }));
            await tx.devices.register(createDevice({ name: 'Tablet', platform: 'ipados', publicKey: new Uint8Array([9]) }));
            expect(await tx.users.get(carol.id)).toEqual(carol); // the work sees its own writes
            throw boom;
          }),
        ).rejects.toBe(boom);
        expect(await repos.users.get(carol.id)).toBeUndefined();
        expect(await repos.preferences.get(carol.id)).toBeUndefined();
        expect(await repos.conversations.getMessage(m.id)).toBeUndefined();
        expect(await repos.conversations.searchByContent('uncommitted')).toEqual([]);
        expect((await repos.memories.getByUser(carol.id)).items).toEqual([]);
        expect(await repos.devices.listActive()).toEqual([]);
      });

      it('rolls back when a statement fails inside it', async () => {
        const carol = createUser({ name: 'Carol' });
        await expectError(
          subject.unitOfWork(async (tx) => {
            await tx.users.save(carol);
            await tx.preferences.save(createUserPreferences({ userId: 'ghost' }));
          }),
          'CONSTRAINT',
        );
        expect(await repos.users.get(carol.id)).toBeUndefined();
      });

      it('hides its writes from readers outside until it commits', async () => {
        const carol = createUser({ name: 'Carol' });
        let release!: () => void;
        const gate = new Promise<void>((r) => (release = r));
        let saved!: () => void;
        const savedSignal = new Promise<void>((r) => (saved = r));
        const work = subject.unitOfWork(async (tx) => {
          await tx.users.save(carol);
          saved();
          await gate;
        });
        await savedSignal;
        // The test's own async context is outside the unit of work, like another request of the app.
        expect(await repos.users.get(carol.id)).toBeUndefined();
        release();
        await work;
        expect(await repos.users.get(carol.id)).toEqual(carol);
      });

      it('lets the outer repositories join it (no deadlock) and nests as a savepoint', async () => {
        const carol = createUser({ name: 'Carol' });
        const dave = createUser({ name: 'Dave' });
        await expect(
          subject.unitOfWork(async () => {
            await repos.users.save(carol); // outer repository, same async context: joins the transaction
            throw new Error('undo');
          }),
        ).rejects.toThrow('undo');
        expect(await repos.users.get(carol.id)).toBeUndefined();

        await subject.unitOfWork(async (tx) => {
          await tx.users.save(carol);
          await expect(
            subject.unitOfWork(async (inner) => {
              await inner.users.save(dave);
              throw new Error('inner fails');
            }),
          ).rejects.toThrow('inner fails');
        });
        expect(await repos.users.get(carol.id)).toEqual(carol);
        expect(await repos.users.get(dave.id)).toBeUndefined();
      });

      it('serialises concurrent units of work', async () => {
        const users = Array.from({ length: 8 }, (_, i) => createUser({ name: `U${i}` }));
        await Promise.all(
          users.map((u, i) =>
            subject
              .unitOfWork(async (tx) => {
                await tx.users.save(u);
                if (i % 2) throw new Error('odd');
              })
              .catch(() => undefined),
          ),
        );
        const ids = new Set((await repos.users.list()).map((u) => u.id));
        for (const [i, u] of users.entries()) expect(ids.has(u.id), `user ${i}`).toBe(i % 2 === 0);
      });
    });

    describe('pluggable recall', () => {
      it('uses an injected strategy and drops stale or foreign candidates', async () => {
        const known = createMemory({ userId: alice.id, type: 'semantic', content: 'unrelated words entirely' });
        const foreign = createMemory({ userId: bob.id, type: 'semantic', content: 'bob secret' });
        const calls: string[] = [];
        const strategy: RecallStrategy = {
          name: 'fake-semantic',
          async recall(q) {
            calls.push(`${q.userId}:${q.text}:${q.limit}`);
            return [
              { memoryId: 'gone', score: 0.99 },
              { memoryId: foreign.id, score: 0.95 },
              { memoryId: known.id, score: 0.9 },
            ];
          },
        };
        const other = await open({ recall: strategy });
        try {
          await other.repos.users.save(alice);
          await other.repos.users.save(bob);
          await other.repos.memories.save(known);
          await other.repos.memories.save(foreign);
          const hits = await other.repos.memories.getByContext('semantic neighbour', { userId: alice.id, limit: 3 });
          expect(hits).toEqual([{ item: known, score: 0.9 }]);
          expect(calls).toEqual([`${alice.id}:semantic neighbour:3`]);
        } finally {
          await other.close();
        }
      });
    });

    describe('services', () => {
      it('onboards a user in one unit of work, or not at all', async () => {
        const services = createServices(repos, subject.unitOfWork, { now: () => T0 + 10_000 });
        const done = await services.onboarding.onboardNewUser({ name: 'Erin', language: 'fr', style: 'playful', privacy: 'strict' });
        expect(await repos.users.get(done.user.id)).toEqual(done.user);
        expect(await repos.preferences.get(done.user.id)).toEqual(done.preferences);
        expect(await repos.memories.get(done.memory.id)).toEqual(done.memory);
        expect(done.memory).toMatchObject({ type: 'system', importance: 0.8, content: 'User Erin joined AICO' });
        expect((await repos.conversations.getByUser(done.user.id)).items).toEqual([done.welcome]);

        const failing = createServices(repos, subject.unitOfWork, {
          welcome: () => {
            throw new Error('template missing');
          },
        });
        await expect(failing.onboarding.onboardNewUser({ name: 'Frank' })).rejects.toThrow('template missing');
        const crashing: UnitOfWork = (work) =>
          subject.unitOfWork(async (tx) => {
            await work(tx);
            throw new Error('crash before commit');
          });
        const broken = createServices(repos, crashing);
        await expect(broken.onboarding.onboardNewUser({ name: 'Gina' })).rejects.toThrow('crash before commit');
        expect((await repos.users.list()).map((u) => u.name)).toEqual(['Alice Example', 'Bob Example', 'Erin']);
        await expectError(services.onboarding.onboardNewUser({ name: '' }), 'INVALID_ARGUMENT', 'name');
        await expectError(services.onboarding.onboardNewUser({ name: 'X', privacy: 'none' as 'strict' }), 'INVALID_ARGUMENT', 'privacyLevel');
      });

      it('processes a message: stores it, recalls memories, stores the timed response', async () => {
        let clock = T0;
        const services = createServices(repos, subject.unitOfWork, { now: () => clock });
        await repos.memories.save(createMemory({ userId: alice.id, type: 'preference', content: 'Alice loves green tea', createdAt: T0 - 1000 }));
        await repos.memories.save(createMemory({ userId: alice.id, type: 'semantic', content: 'Alice works night shifts at the hospital', createdAt: T0 - 1000 }));
        const seen: string[][] = [];
        const out = await services.conversation.processUserMessage(alice.id, 'Can you recommend a tea?', async (ctx) => {
          seen.push(ctx.memories.map((m) => m.content));
          clock += 1234;
          return { content: 'Try a sencha.', model: 'test-model', completionTokens: 5 };
        });
        expect(seen).toEqual([['Alice loves green tea']]);
        expect(out.conversation.id).toBe(chat.id);
        expect(out.response).toMatchObject({ role: 'assistant', content: 'Try a sencha.', responseTimeMs: 1234, model: 'test-model', completionTokens: 5 });
        const page = await repos.conversations.getByUser(alice.id, { conversationId: chat.id });
        expect(page.items).toEqual([out.response, out.userMessage]);
        const recalled = await repos.memories.get(out.memories[0]!.id);
        expect(recalled?.accessCount).toBe(1);

        clock += 10;
        await expect(
          services.conversation.processUserMessage(alice.id, 'again?', () => {
            throw new Error('model offline');
          }),
        ).rejects.toThrow('model offline');
        expect((await repos.conversations.getByUser(alice.id, { limit: 1 })).items[0]?.content).toBe('again?');

        const fresh = await services.conversation.processUserMessage(bob.id, 'hi', () => 'hello');
        expect(fresh.conversation.userId).toBe(bob.id);
        expect(fresh.memories).toEqual([]);
        await expectError(services.conversation.processUserMessage('ghost', 'hi', () => 'x'), 'NOT_FOUND', 'userId');
        await expectError(services.conversation.processUserMessage(bob.id, 'hi', () => 'x', { conversationId: chat.id }), 'NOT_FOUND', 'conversationId');
        await expectError(services.conversation.processUserMessage(bob.id, '', () => 'x'), 'INVALID_ARGUMENT', 'content');
      });
    });
  });
}
