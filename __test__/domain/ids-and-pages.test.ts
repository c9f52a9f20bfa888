import { describe, expect, it } from 'vitest';
import { createMessage, decodeCursor, encodeCursor, idTimestamp, newId, newestFirst, toPage, toPageQuery } from '../../src/domain/index.js';
import { AicoDataError } from '../../src/errors.js';

describe('ids', () => {
  it('are UUIDv7 strings carrying their millisecond', () => {
    const now = Date.UTC(2030, 5, 1);
    const id = newId(now + 3_600_000 * 24 * 365 * 50); // far ahead of any earlier call
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(idTimestamp(id)).toBe(now + 3_600_000 * 24 * 365 * 50);
    expect(idTimestamp('not-a-uuid')).toBeUndefined();
  });

  it('sort in creation order, even many per millisecond and when the clock steps back', () => {
    const ids: string[] = [];
    const base = Date.now() + 10_000_000;
    for (let i = 0; i < 20_000; i++) ids.push(newId(base - (i % 3 === 0 ? 5000 : 0)));
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
  });
});

describe('pages and cursors', () => {
  it('round-trip cursors and reject anything else naming `before`', () => {
    const c = encodeCursor({ createdAt: 1234, id: 'abc' });
    expect(decodeCursor(c)).toEqual({ createdAt: 1234, id: 'abc' });
    for (const bad of ['', '!!!', Buffer.from('[1]').toString('base64url'), Buffer.from('["x","y"]').toString('base64url'), 42]) {
      expect(() => decodeCursor(bad)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', details: { field: 'before' } }));
    }
  });

  it('validate page requests', () => {
    expect(toPageQuery(undefined)).toEqual({ limit: 50, before: null });
    expect(toPageQuery({ limit: 5, before: null })).toEqual({ limit: 5, before: null });
    for (const limit of [0, -1, 1001, 2.5, '10']) {
      let err: unknown;
      try {
        toPageQuery({ limit: limit as number });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(AicoDataError);
      expect((err as AicoDataError).details?.field).toBe('limit');
    }
  });

  it('give a next cursor only when more items exist', () => {
    const items = [3, 2, 1].map((s) => createMessage({ conversationId: 'c', userId: 'u', role: 'user', content: 'x', createdAt: s * 1000 }));
    expect(toPage(items.slice(0, 2), 2).nextCursor).toBeNull();
    const page = toPage(items, 2);
    expect(page.items).toHaveLength(2);
    expect(decodeCursor(page.nextCursor!)).toEqual({ createdAt: 2000, id: items[1]!.id });
    expect([...items].reverse().sort(newestFirst)).toEqual(items);
  });
});
