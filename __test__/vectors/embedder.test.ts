import { describe, expect, it } from 'vitest';
import { checkedVector } from '../../src/stores/vectors/embedder.js';
import { HashingEmbedder } from '../../src/stores/vectors/hashing-embedder.js';
import { reciprocalRankFusion } from '../../src/stores/vectors/rrf.js';

const cos = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + x * b[i]!, 0);

describe('HashingEmbedder', () => {
  const e = new HashingEmbedder();

  it('is deterministic, 384-dimensional and L2-normalised', async () => {
    const [a, b] = await e.embed(['Ana loves green tea', 'Ana loves green tea']);
    expect(a).toHaveLength(384);
    expect(Array.from(a!)).toEqual(Array.from(b!));
    expect(cos(a!, a!)).toBeCloseTo(1, 5);
    expect(e.modelId).toBe('aico-hashing-ngrams');
  });

  it('puts texts sharing words closer than unrelated texts (lexical similarity)', () => {
    const q = e.embedOne('what tea does Ana drink');
    const near = e.embedOne('Ana drinks green tea every morning');
    const far = e.embedOne('the quarterly tax report is due on Friday');
    expect(cos(q, near)).toBeGreaterThan(cos(q, far) + 0.2);
  });

  it('is case- and Unicode-normalisation-insensitive, and gives empty text a unit vector', () => {
    expect(Array.from(e.embedOne('CAFÉ'))).toEqual(Array.from(e.embedOne('cafe\u0301')));
    const empty = e.embedOne('   !!! ');
    expect(cos(empty, empty)).toBeCloseTo(1, 6);
  });

  it('with a key, maps features to secret buckets: the public algorithm no longer matches', () => {
    const k1 = new HashingEmbedder({ key: Buffer.alloc(32, 1) });
    const k2 = new HashingEmbedder({ key: Buffer.alloc(32, 2) });
    expect(k1.modelId).toBe('aico-hashing-ngrams-keyed');
    const text = 'Ana loves green tea';
    expect(Array.from(k1.embedOne(text))).toEqual(Array.from(new HashingEmbedder({ key: Buffer.alloc(32, 1) }).embedOne(text)));
    expect(cos(k1.embedOne(text), e.embedOne(text))).toBeLessThan(0.5);
    expect(cos(k1.embedOne(text), k2.embedOne(text))).toBeLessThan(0.5);
    // Still lexical under the key.
    expect(cos(k1.embedOne('what tea does Ana drink'), k1.embedOne('Ana drinks green tea'))).toBeGreaterThan(
      cos(k1.embedOne('what tea does Ana drink'), k1.embedOne('quarterly tax report due Friday')) + 0.2,
    );
    expect(() => new HashingEmbedder({ key: Buffer.alloc(8) })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });

  it('honours a custom dimension and refuses silly ones', () => {
    expect(new HashingEmbedder({ dimension: 64 }).embedOne('x')).toHaveLength(64);
    expect(() => new HashingEmbedder({ dimension: 3 })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});

describe('checkedVector', () => {
  const owner = { modelId: 'm', version: '1', dimension: 3 };
  it('refuses wrong dimensions (EMBEDDING_MISMATCH) and non-finite values (INVALID_ARGUMENT)', () => {
    expect(checkedVector(new Float32Array([1, 2, 3]), 3, 'x', owner)).toEqual([1, 2, 3]);
    expect(() => checkedVector([1, 2], 3, 'x', owner)).toThrow(expect.objectContaining({ code: 'EMBEDDING_MISMATCH' }));
    expect(() => checkedVector([1, Number.NaN, 3], 3, 'x', owner)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => checkedVector([1, Infinity, 3], 3, 'x', owner)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => checkedVector('abc', 3, 'x', owner)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});

describe('reciprocalRankFusion', () => {
  it('scores weight/(k+rank) summed over lists', () => {
    const fused = reciprocalRankFusion([
      { ids: ['a', 'b', 'c'], weight: 1 },
      { ids: ['c', 'a'], weight: 1 },
    ], 60);
    expect(fused.map((f) => f.id)).toEqual(['a', 'c', 'b']);
    expect(fused[0]!.score).toBeCloseTo(1 / 61 + 1 / 62, 12);
    expect(fused[1]!.score).toBeCloseTo(1 / 63 + 1 / 61, 12);
  });

  it('ignores zero-weight lists and counts a repeated id once', () => {
    const fused = reciprocalRankFusion([
      { ids: ['x', 'x', 'y'], weight: 1 },
      { ids: ['y'], weight: 0 },
    ]);
    expect(fused.map((f) => f.id)).toEqual(['x', 'y']);
    expect(fused[1]!.score).toBeCloseTo(1 / 63, 12);
  });
});
