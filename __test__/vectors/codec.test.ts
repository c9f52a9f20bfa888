import { describe, expect, it } from 'vitest';
import { MEMORIES } from '../../src/stores/vectors/collection-spec.js';
import { RecordCodec, SEALED_KEY } from '../../src/stores/vectors/record-codec.js';
import { translateWhere } from '../../src/stores/vectors/where.js';
import { fakeCrypto } from './fake-crypto.js';

// Pure logic of sealing and filter translation, with a node:crypto stand-in for data.crypto.
describe('RecordCodec', () => {
  const codec = new RecordCodec(fakeCrypto(), MEMORIES);
  const meta = { userId: 'ana', type: 'preference', importance: 0.8, createdAt: new Date('2025-01-02T03:04:05Z'), mood: 'happy' };

  it('keeps only tokens, numbers and the sealed envelope in Chroma metadata', () => {
    const stored = codec.seal('m1', 'Ana loves green tea', meta);
    expect(Object.keys(stored).sort()).toEqual([SEALED_KEY, 'createdAt', 'importance', 'sourceMessageId', 'type', 'userId'].sort());
    expect(stored.sourceMessageId).toBe(''); // declared but absent: always written, see ABSENT
    expect(stored.userId).toBe(codec.token('userId', 'ana'));
    expect(stored.userId).not.toContain('ana');
    expect(stored.importance).toBe(0.8);
    expect(stored.createdAt).toBe(Date.parse('2025-01-02T03:04:05Z'));
    expect(JSON.stringify(stored)).not.toMatch(/green tea|happy|preference/);
  });

  it('opens what it sealed', () => {
    const opened = codec.open('m1', codec.seal('m1', 'Ana loves green tea', meta));
    expect(opened).toEqual({ text: 'Ana loves green tea', metadata: { ...meta, createdAt: Date.parse('2025-01-02T03:04:05Z') } });
  });

  it('tokens differ per field and per value, and are stable', () => {
    expect(codec.token('userId', 'ana')).toBe(codec.token('userId', 'ana'));
    expect(codec.token('userId', 'ana')).not.toBe(codec.token('userId', 'bob'));
    expect(codec.token('userId', 'ana')).not.toBe(codec.token('sourceMessageId', 'ana'));
  });

  it('refuses an envelope moved to another id, or an edited filterable value (CORRUPT)', () => {
    const stored = codec.seal('m1', 'text', meta);
    expect(() => codec.open('m2', stored)).toThrow(expect.objectContaining({ code: 'CORRUPT' }));
    expect(() => codec.open('m1', { ...stored, importance: 0.1 })).toThrow(expect.objectContaining({ code: 'CORRUPT' }));
    expect(() => codec.open('m1', { ...stored, userId: codec.token('userId', 'bob') })).toThrow(expect.objectContaining({ code: 'CORRUPT' }));
    expect(() => codec.open('m1', { importance: 1 })).toThrow(expect.objectContaining({ code: 'CORRUPT' }));
  });

  it('tolerates the one-ulp float error of Chroma\'s JSON parser, not a real edit', () => {
    const v = 31 / 300; // Chroma 1.0 returns 0.10333333333333332 for 0.10333333333333333
    const stored = codec.seal('m1', 'text', { importance: v });
    expect(stored.importance).toBe(0.103333333333333);
    expect(codec.open('m1', { ...stored, importance: 0.10333333333333332 }).metadata.importance).toBe(v);
    expect(() => codec.open('m1', { ...stored, importance: 0.1033333333334 })).toThrow(expect.objectContaining({ code: 'CORRUPT' }));
  });

  it('validates metadata types per declared kind', () => {
    expect(() => codec.seal('m', 't', { importance: 'high' })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => codec.seal('m', 't', { userId: 42 })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => codec.seal('m', 't', { importance: Number.NaN })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => codec.seal('m', 't', { _s: 'x' })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => codec.seal('m', 't', { mood: new Date() })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => codec.seal('m', 't', { nested: {} as never })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});

describe('translateWhere', () => {
  const codec = new RecordCodec(fakeCrypto(), MEMORIES);
  const tr = (w: Parameters<typeof translateWhere>[0]) => translateWhere(w, MEMORIES, (f, v) => codec.token(f, v));

  it('turns token values into tokens and several keys into $and', () => {
    expect(tr({ userId: 'ana', importance: { $gte: 0.5 } })).toEqual({
      $and: [{ userId: { $eq: codec.token('userId', 'ana') } }, { importance: { $gte: 0.5 } }],
    });
    expect(tr({ type: { $in: ['fact', 'preference'] } })).toEqual({ type: { $in: [codec.token('type', 'fact'), codec.token('type', 'preference')] } });
  });

  it('splits several operators on one field and converts Dates', () => {
    const from = new Date('2025-01-01T00:00:00Z');
    expect(tr({ createdAt: { $gte: from, $lt: 2e12 } })).toEqual({ $and: [{ createdAt: { $gte: from.getTime() } }, { createdAt: { $lt: 2e12 } }] });
  });

  it('keeps $or structure', () => {
    expect(tr({ $or: [{ userId: 'a' }, { importance: 1 }] })).toEqual({
      $or: [{ userId: { $eq: codec.token('userId', 'a') } }, { importance: { $eq: 1 } }],
    });
  });

  it('refuses undeclared fields, range operators on tokens and malformed filters', () => {
    expect(() => tr({ mood: 'happy' })).toThrow(/cannot filter on "mood"/);
    expect(() => tr({ userId: { $gt: 'a' as unknown as number } })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => tr({ importance: 'high' })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => tr({})).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => tr({ $and: [] })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => tr({ type: { $in: [] } })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});
