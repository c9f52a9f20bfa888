import { ChromaClient } from 'chromadb';
import { describe, expect, it } from 'vitest';
import { HashingEmbedder, type Embedder } from '../../src/stores/vectors/index.js';
import { filesContaining } from '../helpers/folders.js';
import { useVectors, type OpenedVectors } from './helpers.js';

// Real Chroma server, real data-layer crypto.
const open = useVectors();

const day = 86_400_000;
const t0 = Date.parse('2025-06-01T00:00:00Z');
const memories = [
  { id: 'm1', text: 'Ana loves green tea in the morning', metadata: { userId: 'ana', type: 'preference', importance: 0.9, createdAt: t0, mood: 'calm' } },
  { id: 'm2', text: 'Ana works night shifts at the hospital', metadata: { userId: 'ana', type: 'semantic', importance: 0.5, createdAt: t0 + day } },
  { id: 'm3', text: 'Ana is afraid of spiders', metadata: { userId: 'ana', type: 'semantic', importance: 0.2, createdAt: t0 + 2 * day } },
  { id: 'm4', text: 'Bob drinks black coffee with no sugar', metadata: { userId: 'bob', type: 'preference', importance: 0.7, createdAt: t0 + 3 * day } },
];

/** The raw Chroma client on the store's server, to look at (and tamper with) what Chroma holds. */
function raw(o: OpenedVectors): ChromaClient {
  const u = new URL(o.vectors.status().url!);
  // The managed server answers only its owner's token (issue 15 item 13).
  return new ChromaClient({ host: u.hostname, port: Number(u.port), headers: o.vectors._server.authHeaders });
}

/** An embedder that counts calls and can be told to fail (a crash mid-reembed). */
class CountingEmbedder implements Embedder {
  readonly inner: HashingEmbedder;
  calls = 0;
  failAfter = Infinity;
  constructor(dimension: number, readonly modelId = 'counting') {
    this.inner = new HashingEmbedder({ dimension });
  }
  get version() { return '1'; }
  get dimension() { return this.inner.dimension; }
  async embed(texts: readonly string[]) {
    if (++this.calls > this.failAfter) throw new Error('model service went away');
    return this.inner.embed(texts);
  }
}

describe('VectorStore: records', () => {
  it('adds, gets, queries, counts, upserts and deletes', async () => {
    // Unkeyed, so rankings are the same in every run (the default embedder's key is per folder).
    const { vectors } = await open({ embedder: new HashingEmbedder() });
    await vectors.memories.add(memories);
    expect(await vectors.memories.count()).toBe(4);
    expect((await vectors.memories.ids()).sort()).toEqual(['m1', 'm2', 'm3', 'm4']);
    expect((await vectors.memories.ids({ where: { userId: 'ana' } })).sort()).toEqual(['m1', 'm2', 'm3']);

    const got = await vectors.memories.get({ ids: ['m4', 'm1', 'nope'] });
    expect(got.map((r) => r.id)).toEqual(['m4', 'm1']);
    expect(got[1]).toEqual({ id: 'm1', text: memories[0]!.text, metadata: memories[0]!.metadata });
    expect((await vectors.memories.get({ ids: ['m4', 'm1', 'm2'], offset: 1, limit: 1 })).map((r) => r.id)).toEqual(['m1']);
    expect(await vectors.memories.get({ limit: 3 })).toHaveLength(3);
    expect((await vectors.memories.get({ ids: ['m2'], includeEmbeddings: true }))[0]!.embedding).toHaveLength(384);

    const hits = await vectors.memories.query({ text: 'what tea does Ana drink', nResults: 2 });
    expect(hits[0]!.id).toBe('m1');
    expect(hits[0]!.similarity).toBeGreaterThan(hits[1]!.similarity);
    expect(hits[0]!.distance).toBeCloseTo(2 * (1 - hits[0]!.similarity), 6);

    const [coffee] = await vectors.embedder.embed(['black coffee']);
    const byVector = await vectors.memories.query({ embedding: coffee!, nResults: 1 });
    expect(byVector[0]!.id).toBe('m4');

    await vectors.memories.upsert({ id: 'm3', text: 'Ana is no longer afraid of spiders', metadata: { userId: 'ana', importance: 0.3 } });
    expect((await vectors.memories.get({ ids: ['m3'] }))[0]!.text).toBe('Ana is no longer afraid of spiders');
    await vectors.memories.add({ id: 'm3', text: 'add does not overwrite' });
    expect((await vectors.memories.get({ ids: ['m3'] }))[0]!.text).toBe('Ana is no longer afraid of spiders');

    await vectors.memories.delete({ ids: ['m3', 'never-existed'] });
    expect(await vectors.memories.count()).toBe(3);
    await vectors.memories.delete({ where: { userId: 'bob' } });
    expect((await vectors.memories.get()).map((r) => r.id).sort()).toEqual(['m1', 'm2']);
  });

  it('filters on token and number fields, never on sealed ones', async () => {
    const { vectors } = await open();
    await vectors.memories.add(memories);
    const ids = async (where: Parameters<typeof vectors.memories.get>[0]) => (await vectors.memories.get(where)).map((r) => r.id).sort();
    expect(await ids({ where: { userId: 'ana' } })).toEqual(['m1', 'm2', 'm3']);
    expect(await ids({ where: { userId: { $ne: 'ana' } } })).toEqual(['m4']);
    expect(await ids({ where: { type: { $in: ['preference'] } } })).toEqual(['m1', 'm4']);
    expect(await ids({ where: { userId: 'ana', importance: { $gte: 0.4, $lt: 0.95 } } })).toEqual(['m1', 'm2']);
    expect(await ids({ where: { createdAt: { $gte: new Date(t0 + 2 * day) } } })).toEqual(['m3', 'm4']);
    expect(await ids({ where: { $or: [{ userId: 'bob' }, { importance: { $lt: 0.3 } }] } })).toEqual(['m3', 'm4']);
    const q = await vectors.memories.query({ text: 'drink', where: { userId: 'bob' }, nResults: 10 });
    expect(q.map((h) => h.id)).toEqual(['m4']);
    await expect(vectors.memories.get({ where: { mood: 'calm' } })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(vectors.memories.get({ where: { userId: { $gt: 'a' as unknown as number } } })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('splits writes into batches, including past the server\'s own batch limit', async () => {
    const { vectors } = await open({ embedder: new HashingEmbedder({ dimension: 16 }) });
    await vectors.memories.add(Array.from({ length: 23 }, (_, i) => ({ id: `s${i}`, text: `small ${i}` })));
    expect(await vectors.memories.count()).toBe(23);

    const { vectors: big } = await open({ embedder: new HashingEmbedder({ dimension: 16 }), batchSize: 100_000 });
    const n = 6000; // Chroma 1.0 accepts at most 5461 per request
    await big.memories.add(Array.from({ length: n }, (_, i) => ({ id: `b${i}`, text: `memory number ${i}`, metadata: { importance: i / n } })));
    expect(await big.memories.count()).toBe(n);
    expect((await big.memories.get({ ids: ['b0', 'b5999'] })).map((r) => r.text)).toEqual(['memory number 0', 'memory number 5999']);
  });

  it('refuses bad input with typed errors and writes nothing of it', async () => {
    const { vectors } = await open();
    await vectors.memories.add(memories.slice(0, 1));
    const m = vectors.memories;
    await expect(m.add({ id: 'x', text: 'x', embedding: [1, 2, 3] })).rejects.toMatchObject({ code: 'EMBEDDING_MISMATCH' });
    const nan = new Float32Array(384).fill(0.1);
    nan[7] = Number.NaN;
    await expect(m.add({ id: 'x', text: 'x', embedding: nan })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(m.add({ id: 'x', text: 'x', embedding: new Float32Array(384).fill(Infinity) })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(m.query({ embedding: [1, 2], nResults: 1 })).rejects.toMatchObject({ code: 'EMBEDDING_MISMATCH' });
    await expect(m.add([{ id: 'd', text: 'one' }, { id: 'd', text: 'two' }])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(m.add({ id: '', text: 'x' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(m.add({ id: 'x', text: 42 as unknown as string })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(m.add({ id: 'x', text: 'x', metadata: { importance: 'high' as unknown as number } })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(m.query({ text: 'x', embedding: [1] })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(m.query({ text: 'x', nResults: 0 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(m.delete({})).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(await m.count()).toBe(1);
  });
});

describe('VectorStore: encryption', () => {
  it('never lets a canary document or sealed field reach the Chroma folder in plaintext', async () => {
    const o = await open();
    const canary = 'CANARY-7f3a9c-the-user-secretly-plans-to-move-to-Lisbon';
    const sealedField = 'CANARY-field-4be21d';
    await o.vectors.memories.add({ id: 'secret', text: canary, metadata: { userId: 'CANARY-user-91ac', note: sealedField } });
    await o.vectors.segments.add({ id: 'seg', text: `${canary} (segment)`, metadata: { role: 'user' } });
    expect((await o.vectors.memories.get({ ids: ['secret'] }))[0]!.text).toBe(canary);

    // Control: the same scan does find plaintext that Chroma was given directly.
    const plainCanary = 'CONTROL-plaintext-5d1e';
    const col = await raw(o).getOrCreateCollection({ name: 'control', embeddingFunction: null });
    await col.add({ ids: ['c'], embeddings: [[1, 0, 0]], documents: [plainCanary] });

    await o.closeStores(); // the server flushes everything to disk on the way down
    expect(filesContaining(o.persistDir, plainCanary).length).toBeGreaterThan(0);
    for (const needle of [canary, 'Lisbon', sealedField, 'CANARY-user-91ac']) expect(filesContaining(o.persistDir, needle)).toEqual([]);
  });

  it('reports a tampered, moved or edited record as CORRUPT', async () => {
    const o = await open();
    await o.vectors.memories.add(memories);
    const col = (await raw(o).listCollections()).find((c) => c.name.startsWith('aico_memories_'))!;
    const stored = await col.get({ ids: ['m1', 'm2'], include: ['metadatas'] });
    const [m1, m2] = stored.metadatas as Array<Record<string, string | number>>;

    // One flipped character of the sealed envelope.
    const s = String(m1!._s);
    const flipped = s.slice(0, 40) + (s[40] === 'A' ? 'B' : 'A') + s.slice(41);
    await col.update({ ids: ['m1'], metadatas: [{ ...m1!, _s: flipped }] });
    await expect(o.vectors.memories.get({ ids: ['m1'] })).rejects.toMatchObject({ code: 'CORRUPT' });
    await expect(o.vectors.memories.query({ text: 'green tea', nResults: 1 })).rejects.toMatchObject({ code: 'CORRUPT' });

    // m2's envelope copied onto m3: it is bound to m2's id.
    await col.update({ ids: ['m3'], metadatas: [{ ...m2! }] });
    await expect(o.vectors.memories.get({ ids: ['m3'] })).rejects.toMatchObject({ code: 'CORRUPT' });

    // m2's plaintext importance edited: bound to the envelope too.
    await col.update({ ids: ['m2'], metadatas: [{ ...m2!, importance: 1 }] });
    await expect(o.vectors.memories.get({ ids: ['m2'] })).rejects.toMatchObject({ code: 'CORRUPT' });

    expect((await o.vectors.memories.get({ ids: ['m4'] }))[0]!.text).toBe(memories[3]!.text);
  });
});

describe('VectorStore: embedding provenance', () => {
  it('records the model on each collection and refuses another one (EMBEDDING_MISMATCH)', async () => {
    const first = await open();
    await first.vectors.memories.add(memories);
    expect(await first.vectors.memories.provenance()).toEqual({ modelId: 'aico-hashing-ngrams-keyed', version: '1', dimension: 384 });
    const dir = first.dir;
    await first.closeStores();

    const other = await open({ dir, embedder: new CountingEmbedder(384, 'another-model') });
    const err = await other.vectors.memories.query({ text: 'tea' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'EMBEDDING_MISMATCH' });
    expect((err as Error).message).toMatch(/aico-hashing-ngrams-keyed@1 \(384 dims\).*another-model@1 \(384 dims\).*reembed/);
    await expect(other.vectors.memories.add({ id: 'z', text: 'z' })).rejects.toMatchObject({ code: 'EMBEDDING_MISMATCH' });
    await expect(other.vectors.ready()).rejects.toMatchObject({ code: 'EMBEDDING_MISMATCH' });
    // The empty collection simply adopts the new embedder.
    await other.vectors.segments.add({ id: 's', text: 'hello' });
    expect(await other.vectors.segments.provenance()).toMatchObject({ modelId: 'another-model' });
    await other.closeStores();
  });

  it('reembeds incrementally, keeps writes made meanwhile, and resumes after a crash', async () => {
    const o = await open({ batchSize: 50 });
    const n = 300;
    await o.vectors.memories.add(Array.from({ length: n }, (_, i) => ({ id: `r${i}`, text: `record ${i} about topic ${i % 7}`, metadata: { userId: 'u', importance: i / n } })));

    const next = new CountingEmbedder(128, 'next-model');
    next.failAfter = 2; // dies on its third batch
    await expect(o.vectors.reembed(next, { batchSize: 50 })).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    // Still usable with the old model while the new generation is half built.
    expect(await o.vectors.memories.count()).toBe(n);
    expect((await o.vectors.memories.query({ text: 'record 5 about topic 5', nResults: 1 }))[0]!.id).toBe('r5');

    next.failAfter = Infinity;
    const writes: Promise<void>[] = [];
    const results = await o.vectors.reembed(next, {
      batchSize: 50,
      onProgress: (p) => {
        if (p.collection === 'memories' && writes.length === 0) writes.push(o.vectors.memories.add({ id: 'during', text: 'written during the reembed' }));
      },
    });
    await Promise.all(writes);
    const mem = results.find((r) => r.collection === 'memories')!;
    expect(mem).toMatchObject({ resumed: true, changed: true, to: { modelId: 'next-model', dimension: 128 } });
    expect(mem.alreadyDone).toBeGreaterThanOrEqual(100);
    expect(mem.embedded + mem.alreadyDone).toBe(n + 1);

    expect(o.vectors.embedder).toBe(next);
    expect(await o.vectors.memories.provenance()).toEqual({ modelId: 'next-model', version: '1', dimension: 128 });
    expect(await o.vectors.memories.count()).toBe(n + 1);
    expect((await o.vectors.memories.get({ ids: ['during'] }))[0]!.text).toBe('written during the reembed');
    const hit = (await o.vectors.memories.query({ text: 'record 5 about topic 5', nResults: 1, where: { userId: 'u' } }))[0]!;
    expect(hit.id).toBe('r5');
    expect(hit.metadata.importance).toBe(5 / n);
    // The old generation is gone.
    const names = (await raw(o).listCollections()).map((c) => c.name).filter((x) => x.startsWith('aico_memories_'));
    expect(names).toEqual(['aico_memories_g2']);
  });
});
