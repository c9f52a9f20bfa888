import { afterEach, describe, expect, it } from 'vitest';
import { createMemory, createUser, type Memory } from '../../src/domain/index.js';
import { createLibsqlRepositories, LibsqlKeywordRecall } from '../../src/repositories/index.js';
import { createSemanticRecall, HashingEmbedder, openVectorStore, type VectorStore } from '../../src/stores/vectors/index.js';
import { openRepositories, type OpenedRepositories } from '../repositories/helpers.js';

// Hybrid recall: vectors on a real Chroma server fused with the repository's real FTS5 keyword
// recall over the encrypted libSQL store, plugged into MemoryRepository.getByContext.
let layer: OpenedRepositories | undefined;
let vectors: VectorStore | undefined;
afterEach(async () => {
  await vectors?.close();
  await layer?.close();
  layer = vectors = undefined;
});

const day = 86_400_000;
const t0 = Date.parse('2025-01-01T00:00:00Z');

async function setup() {
  layer = await openRepositories();
  // Unkeyed, so rankings are the same in every run (the default embedder's key is per folder).
  vectors = await openVectorStore({ dir: layer.data.dir, crypto: layer.data.crypto, embedder: new HashingEmbedder() });
  const alice = createUser({ name: 'Alice' });
  const bob = createUser({ name: 'Bob' });
  await layer.repos.users.save(alice);
  await layer.repos.users.save(bob);
  const texts: Array<[string, string, number]> = [
    [alice.id, 'Alice drinks green tea every morning', 0.4],
    [alice.id, 'Alice is drinking less coffee since spring', 0.9],
    [alice.id, 'Her sister Maria visits on Sundays', 0.6],
    [alice.id, 'Alice prefers tea with honey when she is ill', 0.2],
    [alice.id, 'Alice dislikes loud restaurants', 0.5],
    [bob.id, 'Bob drinks green tea too', 0.9],
  ];
  const memories: Memory[] = texts.map(([userId, content, importance], i) =>
    createMemory({ userId, type: 'preference', content, importance, createdAt: new Date(t0 + i * day) }),
  );
  for (const m of memories) await layer.repos.memories.save(m);
  // The last of Alice's memories gets no vector (an outbox lagging behind): keyword-only.
  const withVectors = memories.filter((_, i) => i !== 4);
  await vectors.memories.add(
    withVectors.map((m) => ({ id: m.id, text: m.content, metadata: { userId: m.userId, type: m.type, importance: m.importance, createdAt: m.createdAt } })),
  );
  const keyword = new LibsqlKeywordRecall(layer.dal);
  return { alice, bob, memories, keyword };
}

describe('createSemanticRecall', () => {
  it('fuses vector and keyword ranks by RRF, per user', async () => {
    const { alice, memories, keyword } = await setup();
    const semantic = createSemanticRecall(vectors!, { keyword });
    expect(semantic.name).toBe('hybrid');
    const text = 'tea or restaurants';
    const hits = await semantic.search(text, { userId: alice.id, limit: 10 });

    const vectorOrder = (await vectors!.memories.query({ text, nResults: 20, where: { userId: alice.id } })).map((h) => h.id);
    const keywordOrder = (await keyword.recall({ text, userId: alice.id, limit: 20, at: new Date() })).map((c) => c.memoryId);
    expect(keywordOrder.length).toBeGreaterThan(0);
    for (const h of hits) {
      const vr = vectorOrder.indexOf(h.id) + 1;
      const kr = keywordOrder.indexOf(h.id) + 1;
      expect(h.vectorRank ?? 0).toBe(vr);
      expect(h.keywordRank ?? 0).toBe(kr);
      expect(h.score).toBeCloseTo((vr ? 1 / (60 + vr) : 0) + (kr ? 1 / (60 + kr) : 0), 12);
    }
    expect(hits.map((h) => h.score)).toEqual([...hits.map((h) => h.score)].sort((a, b) => b - a));
    // Bob's memory never shows up for Alice; the vector-less memory comes from the keyword side.
    expect(hits.some((h) => h.id === memories[5]!.id)).toBe(false);
    const keywordOnly = hits.find((h) => h.id === memories[4]!.id)!;
    expect(keywordOnly).toMatchObject({ keywordRank: expect.any(Number) });
    expect(keywordOnly.vectorRank).toBeUndefined();
    expect(keywordOnly.text).toBeUndefined();
  });

  it('follows the weights: one side only, or recency and importance', async () => {
    const { alice, keyword } = await setup();
    const semantic = createSemanticRecall(vectors!, { keyword });
    const text = 'Alice tea';
    const vectorOnly = await semantic.search(text, { userId: alice.id, weights: { keyword: 0 } });
    const vectorOrder = (await vectors!.memories.query({ text, nResults: 20, where: { userId: alice.id } })).map((h) => h.id);
    expect(vectorOnly.map((h) => h.id)).toEqual(vectorOrder.slice(0, vectorOnly.length));

    const keywordOnly = await semantic.search(text, { userId: alice.id, weights: { vector: 0 } });
    const keywordOrder = (await keyword.recall({ text, userId: alice.id, limit: 20, at: new Date() })).map((c) => c.memoryId);
    expect(keywordOnly.map((h) => h.id)).toEqual(keywordOrder);

    const newest = await semantic.search(text, { userId: alice.id, weights: { vector: 0, keyword: 0, recency: 1 } });
    const created = newest.map((h) => h.metadata!.createdAt as number);
    expect(created).toEqual([...created].sort((a, b) => b - a));
    const important = await semantic.search(text, { userId: alice.id, weights: { vector: 0, keyword: 0, importance: 1 } });
    expect(important[0]!.metadata!.importance).toBe(0.9);

    await expect(semantic.search(text, { weights: { vector: -1 } })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('plugs into MemoryRepository.getByContext as its recall strategy', async () => {
    const { alice, keyword, memories } = await setup();
    const semantic = createSemanticRecall(vectors!, { keyword });
    const { repos } = createLibsqlRepositories(layer!.dal, { recall: semantic });
    const text = 'what does Alice drink';
    const got = await repos.memories.getByContext(text, { userId: alice.id, limit: 3 });
    const fused = await semantic.recall({ text, userId: alice.id, limit: 3 });
    expect(got.map((h) => h.item.id)).toEqual(fused.map((c) => c.memoryId));
    expect(got[0]!.item.content).toMatch(/drink/);
    expect(got.every((h) => h.item.userId === alice.id)).toBe(true);
    expect(got.map((h) => h.item.id)).not.toContain(memories[5]!.id);
  });
});
