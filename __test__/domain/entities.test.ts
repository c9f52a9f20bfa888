import { describe, expect, it } from 'vitest';
import {
  createConversation,
  createDevice,
  createMemory,
  createMessage,
  createUser,
  createUserPreferences,
  isMemoryValidAt,
  revokeDevice,
  touchDevice,
  trustDevice,
} from '../../src/domain/index.js';
import { AicoDataError } from '../../src/errors.js';

/** Asserts `fn` throws INVALID_ARGUMENT naming `field`. */
function expectInvalid(fn: () => unknown, field: string): void {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err, `expected INVALID_ARGUMENT for ${field}`).toBeInstanceOf(AicoDataError);
  expect((err as AicoDataError).code).toBe('INVALID_ARGUMENT');
  expect((err as AicoDataError).details?.field, (err as Error).message).toBe(field);
}

const key = new Uint8Array(32).fill(7);

describe('entities', () => {
  it('fill defaults and freeze', () => {
    const u = createUser({ name: '  Ada  ' });
    expect(u).toMatchObject({ name: 'Ada', nickname: null, userType: 'member', isActive: true });
    expect(u.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7/);
    expect(u.updatedAt).toEqual(u.createdAt);
    expect(Object.isFrozen(u)).toBe(true);
    const p = createUserPreferences({ userId: u.id });
    expect(p).toMatchObject({ language: 'en', personalityStyle: 'friendly', privacyLevel: 'standard', settings: {} });
    const m = createMemory({ userId: u.id, type: 'episodic', content: 'went hiking' });
    expect(m).toMatchObject({ importance: 0.5, confidence: 1, validTo: null, accessCount: 0, validFrom: m.createdAt });
    const d = createDevice({ name: 'Phone', platform: 'ios', publicKey: key });
    expect(d).toMatchObject({ type: 'other', trustLevel: 'pending', syncPolicy: 'full', revokedAt: null });
    expect(createConversation({ userId: u.id }).status).toBe('active');
  });

  it('copy what callers could change later', () => {
    const settings = { nested: { a: 1 } };
    const p = createUserPreferences({ userId: 'u1', settings });
    settings.nested.a = 2;
    expect(p.settings).toEqual({ nested: { a: 1 } });
    const bytes = new Uint8Array([1, 2, 3]);
    const d = createDevice({ name: 'X', platform: 'linux', publicKey: bytes });
    bytes[0] = 9;
    expect([...d.publicKey]).toEqual([1, 2, 3]);
    const when = new Date(1000);
    const c = createConversation({ userId: 'u1', createdAt: when });
    when.setTime(5);
    expect(c.createdAt.getTime()).toBe(1000);
  });

  it('accept dates as Date, ISO text or epoch milliseconds', () => {
    const iso = '2025-03-04T05:06:07.089Z';
    expect(createUser({ name: 'a', createdAt: iso }).createdAt.toISOString()).toBe(iso);
    expect(createUser({ name: 'a', createdAt: Date.parse(iso) }).createdAt.toISOString()).toBe(iso);
    expectInvalid(() => createUser({ name: 'a', createdAt: 'yesterday' }), 'createdAt');
    expectInvalid(() => createUser({ name: 'a', createdAt: new Date(NaN) }), 'createdAt');
    expectInvalid(() => createUser({ name: 'a', createdAt: Date.UTC(10_000, 0, 1) }), 'createdAt');
  });

  it.each([
    ['user object', () => createUser(null as never), 'user'],
    ['user name', () => createUser({ name: '' }), 'name'],
    ['user name length', () => createUser({ name: 'x'.repeat(201) }), 'name'],
    ['user id', () => createUser({ id: 'has space', name: 'a' }), 'id'],
    ['user type', () => createUser({ name: 'a', userType: 'robot' as never }), 'userType'],
    ['user isActive', () => createUser({ name: 'a', isActive: 'yes' as never }), 'isActive'],
    ['preferences language', () => createUserPreferences({ userId: 'u', language: 'English' }), 'language'],
    ['preferences style', () => createUserPreferences({ userId: 'u', personalityStyle: 'Very Nice!' }), 'personalityStyle'],
    ['preferences privacy', () => createUserPreferences({ userId: 'u', privacyLevel: 'open' as never }), 'privacyLevel'],
    ['preferences settings', () => createUserPreferences({ userId: 'u', settings: [] as never }), 'settings'],
        ['preferences settings size', () => createUserPreferences({ userId: 'u', settings: { big: 'x'.repeat(70_000) } }), 'settings'],
    ['preferences userId', () => createUserPreferences({ userId: '' }), 'userId'],
    ['conversation userId', () => createConversation({ userId: undefined as never }), 'userId'],
    ['conversation status', () => createConversation({ userId: 'u', status: 'gone' as never }), 'status'],
    ['message role', () => createMessage({ conversationId: 'c', userId: 'u', role: 'bot' as never, content: 'x' }), 'role'],
    ['message content', () => createMessage({ conversationId: 'c', userId: 'u', role: 'user', content: '   ' }), 'content'],
    ['message content length', () => createMessage({ conversationId: 'c', userId: 'u', role: 'user', content: 'x'.repeat(100_001) }), 'content'],
    ['message sentiment', () => createMessage({ conversationId: 'c', userId: 'u', role: 'user', content: 'x', sentimentScore: -1.5 }), 'sentimentScore'],
    ['message response time', () => createMessage({ conversationId: 'c', userId: 'u', role: 'user', content: 'x', responseTimeMs: -1 }), 'responseTimeMs'],
    ['message tokens', () => createMessage({ conversationId: 'c', userId: 'u', role: 'user', content: 'x', promptTokens: 1.5 }), 'promptTokens'],
    ['message conversation', () => createMessage({ conversationId: '../x', userId: 'u', role: 'user', content: 'x' }), 'conversationId'],
    ['memory type', () => createMemory({ userId: 'u', type: 'dream' as never, content: 'x' }), 'type'],
    ['memory importance high', () => createMemory({ userId: 'u', type: 'semantic', content: 'x', importance: 1.01 }), 'importance'],
    ['memory importance low', () => createMemory({ userId: 'u', type: 'semantic', content: 'x', importance: -0.1 }), 'importance'],
    ['memory importance NaN', () => createMemory({ userId: 'u', type: 'semantic', content: 'x', importance: NaN }), 'importance'],
    ['memory confidence', () => createMemory({ userId: 'u', type: 'semantic', content: 'x', confidence: 2 }), 'confidence'],
    ['memory validity', () => createMemory({ userId: 'u', type: 'semantic', content: 'x', validFrom: 2000, validTo: 1000 }), 'validTo'],
    ['memory embedding pair', () => createMemory({ userId: 'u', type: 'semantic', content: 'x', embeddingModel: 'e5' }), 'embeddingDimension'],
    ['memory embedding dimension', () => createMemory({ userId: 'u', type: 'semantic', content: 'x', embeddingModel: 'e5', embeddingDimension: 0 }), 'embeddingDimension'],
    ['memory access count', () => createMemory({ userId: 'u', type: 'semantic', content: 'x', accessCount: -1 }), 'accessCount'],
    ['memory source message', () => createMemory({ userId: 'u', type: 'semantic', content: 'x', sourceMessageId: 'a b' }), 'sourceMessageId'],
    ['device public key', () => createDevice({ name: 'x', platform: 'linux', publicKey: 'abc' as never }), 'publicKey'],
    ['device empty key', () => createDevice({ name: 'x', platform: 'linux', publicKey: new Uint8Array(0) }), 'publicKey'],
    ['device type', () => createDevice({ name: 'x', platform: 'linux', publicKey: key, type: 'toaster' as never }), 'type'],
    ['device platform', () => createDevice({ name: 'x', publicKey: key, platform: 'Linux OS' }), 'platform'],
    ['device platform missing', () => createDevice({ name: 'x', publicKey: key } as never), 'platform'],
    ['device trust', () => createDevice({ name: 'x', platform: 'linux', publicKey: key, trustLevel: 'root' as never }), 'trustLevel'],
    ['device policy', () => createDevice({ name: 'x', platform: 'linux', publicKey: key, syncPolicy: 'some' as never }), 'syncPolicy'],
  ])('reject a bad %s', (_what, fn, field) => {
    expectInvalid(fn, field);
  });

  it('memory validity in time', () => {
    const m = createMemory({ userId: 'u', type: 'semantic', content: 'x', validFrom: 1000, validTo: 2000 });
    expect(isMemoryValidAt(m, new Date(999))).toBe(false);
    expect(isMemoryValidAt(m, new Date(1000))).toBe(true);
    expect(isMemoryValidAt(m, new Date(1999))).toBe(true);
    expect(isMemoryValidAt(m, new Date(2000))).toBe(false);
  });

  it('device rules: revocation is final and keeps its first time', () => {
    const d = createDevice({ name: 'x', platform: 'linux', publicKey: key });
    const trusted = trustDevice(d);
    expect(trusted.trustLevel).toBe('trusted');
    const revoked = revokeDevice(trusted, new Date(5000));
    expect(revoked).toMatchObject({ trustLevel: 'trusted', revokedAt: new Date(5000) });
    expect(revokeDevice(revoked, new Date(9000)).revokedAt).toEqual(new Date(5000));
    expect(() => trustDevice(revoked)).toThrow(expect.objectContaining({ code: 'CONFLICT' }));
    expect(() => touchDevice(revoked)).toThrow(expect.objectContaining({ code: 'CONFLICT' }));
    expectInvalid(() => trustDevice(d, 'root' as never), 'trustLevel');
  });
});
