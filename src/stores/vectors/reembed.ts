import type { Metadata } from 'chromadb';
import { fieldsSignature, type CollectionCatalog, type PhysicalCollection } from './catalog.js';
import type { VectorCollection } from './collection.js';
import { embedChecked, provenanceOf, sameProvenance, type Embedder, type EmbeddingProvenance } from './embedder.js';

/** Options of `vectors.reembed`. */
export interface ReembedOptions {
  /** Records per round trip (default 256). */
  batchSize?: number;
  /** Called after every batch. */
  onProgress?: (progress: { collection: string; done: number; total: number }) => void;
}

/** What `reembed` did to one collection. */
export interface ReembedResult {
  collection: string;
  from: EmbeddingProvenance;
  to: EmbeddingProvenance;
  /** Records embedded by this run. */
  embedded: number;
  /** Records a previous, interrupted run had already done. */
  alreadyDone: number;
  /** True when this run continued an interrupted one. */
  resumed: boolean;
  /** False when the collection already used the embedder and spec (nothing to do). */
  changed: boolean;
}

/**
 * Re-embeds one collection into a new generation beside the active one, then swaps.
 *
 * Crash safety comes from the layout, not from a log: the new generation is a separate Chroma
 * collection stamped `building` with the target model, and a record is either in it or not.
 * A rerun finds the `building` generation, skips the ids it already holds and embeds the rest;
 * the swap is one metadata update (`building` -> `active`), after which the old generation is
 * dropped (or, after a crash right there, on the next open). While it runs, writes go to both
 * generations, so nothing written meanwhile is lost. Records are also re-sealed, which is how a
 * changed collection spec (new filterable fields) is applied to existing records.
 */
export async function reembedCollection(
  col: VectorCollection,
  catalog: CollectionCatalog,
  embedder: Embedder,
  options: ReembedOptions = {},
): Promise<ReembedResult> {
  const to = provenanceOf(embedder);
  const fields = fieldsSignature(col.spec);
  const batch = options.batchSize ?? 256;
  const active = await col._active();
  const base = { collection: col.name, from: active.provenance, to };
  if (sameProvenance(active.provenance, to) && active.fields === fields) {
    // Same model and spec: nothing to rewrite, but use this embedder instance from now on.
    col._endBuild({ target: active, embedder });
    return { ...base, embedded: 0, alreadyDone: 0, resumed: false, changed: false };
  }

  const generations = await catalog.generations(col.name);
  let building = generations.find((g) => g.state === 'building');
  const resumed = building !== undefined && sameProvenance(building.provenance, to) && building.fields === fields;
  if (!resumed) {
    if (building) await catalog.drop(building);
    building = await catalog.create(col.spec, (generations[0]?.generation ?? 0) + 1, 'building', to);
  }
  const target = building!;

  await col._beginBuild(target, embedder);
  try {
    const total = await col._call(active, (c) => c.count());
    let embedded = 0;
    let alreadyDone = 0;
    // Pass 1: walk the active generation page by page.
    for (let offset = 0; ; offset += batch) {
      const page = await col._call(active, (c) => c.get({ limit: batch, offset, include: ['metadatas'] }));
      if (page.ids.length === 0) break;
      const done = await existingIds(col, target, page.ids);
      const todo = page.ids.map((id, i) => ({ id, stored: page.metadatas[i] })).filter((r) => !done.has(r.id));
      alreadyDone += page.ids.length - todo.length;
      embedded += await copy(col, target, embedder, to, todo);
      options.onProgress?.({ collection: col.name, done: embedded + alreadyDone, total });
      if (page.ids.length < batch) break;
    }
    // Pass 2: deletes during pass 1 shift offsets, so reconcile the id sets exactly.
    const [activeIds, targetIds] = await Promise.all([allIds(col, active, batch), allIds(col, target, batch)]);
    const missing = [...activeIds].filter((id) => !targetIds.has(id));
    for (let i = 0; i < missing.length; i += batch) {
      const ids = missing.slice(i, i + batch);
      const page = await col._call(active, (c) => c.get({ ids, include: ['metadatas'] }));
      embedded += await copy(col, target, embedder, to, page.ids.map((id, k) => ({ id, stored: page.metadatas[k] })));
    }
    const extra = [...targetIds].filter((id) => !activeIds.has(id));
    for (let i = 0; i < extra.length; i += batch) {
      const ids = extra.slice(i, i + batch);
      await col._call(target, (c) => c.delete({ ids }));
    }

    const activated = await catalog.restamp(target, { state: 'active' });
    col._endBuild({ target: activated, embedder });
    await catalog.drop(active);
    return { ...base, embedded, alreadyDone, resumed, changed: true };
  } catch (e) {
    col._endBuild(undefined);
    throw e;
  }
}

async function copy(
  col: VectorCollection,
  target: PhysicalCollection,
  embedder: Embedder,
  to: EmbeddingProvenance,
  rows: Array<{ id: string; stored: unknown }>,
): Promise<number> {
  if (rows.length === 0) return 0;
  const codec = col._codec;
  const opened = rows.map((r) => codec.open(r.id, r.stored as Record<string, unknown> | null));
  const embeddings = await embedChecked(embedder, opened.map((o) => o.text), to);
  const metadatas = rows.map((r, i) => codec.seal(r.id, opened[i]!.text, opened[i]!.metadata) as Metadata);
  await col._call(target, (c) => c.upsert({ ids: rows.map((r) => r.id), embeddings, metadatas }));
  return rows.length;
}

async function existingIds(col: VectorCollection, target: PhysicalCollection, ids: string[]): Promise<Set<string>> {
  const res = await col._call(target, (c) => c.get({ ids, include: [] }));
  return new Set(res.ids);
}

async function allIds(col: VectorCollection, target: PhysicalCollection, batch: number): Promise<Set<string>> {
  const out = new Set<string>();
  const page = Math.max(batch, 1000);
  for (let offset = 0; ; offset += page) {
    const res = await col._call(target, (c) => c.get({ limit: page, offset, include: [] }));
    for (const id of res.ids) out.add(id);
    if (res.ids.length < page) return out;
  }
}
