import type { ChromaClient, Collection, Metadata } from 'chromadb';
import { AicoDataError, invalidArgument } from '../../errors.js';
import type { Crypto } from '../../crypto.js';
import { fieldsSignature, type CollectionCatalog, type PhysicalCollection } from './catalog.js';
import type { CollectionSpec } from './collection-spec.js';
import type { ChromaConnection } from './connection.js';
import { checkedVector, describeProvenance, embedChecked, provenanceOf, sameProvenance, type Embedder, type EmbeddingProvenance } from './embedder.js';
import { RecordCodec, type ChromaMetadata, type MetadataInput, type MetadataValue } from './record-codec.js';
import { translateWhere, type Where } from './where.js';

/** A record to write. */
export interface VectorRecordInput {
  /** Stored in plaintext by Chroma: use opaque ids (UUIDs), not content. At most 512 characters. */
  id: string;
  /** The document; sealed before it leaves the process. */
  text: string;
  /** A precomputed embedding from the store's embedder model; computed from `text` when absent. */
  embedding?: Float32Array | readonly number[];
  /** Declared fields are filterable (see the collection spec); all fields are sealed too. */
  metadata?: Readonly<Record<string, MetadataInput | undefined>>;
}

/** A stored record. */
export interface VectorRecord {
  id: string;
  text: string;
  metadata: Record<string, MetadataValue>;
  /** Present when asked for with `includeEmbeddings`. */
  embedding?: Float32Array;
}

/** A query result. */
export interface VectorHit extends VectorRecord {
  /** Cosine distance (0 = same direction, 2 = opposite). */
  distance: number;
  /** 1 - distance/2, in [0, 1]: higher is closer. */
  similarity: number;
}

/** Options of {@link VectorCollection.query}. Give exactly one of `embedding` and `text`. */
export interface VectorQuery {
  embedding?: Float32Array | readonly number[];
  text?: string;
  where?: Where;
  /** How many hits (default 10, at most 1000). */
  nResults?: number;
}

/** Options of {@link VectorCollection.get}. */
export interface VectorGet {
  ids?: readonly string[];
  where?: Where;
  limit?: number;
  offset?: number;
  includeEmbeddings?: boolean;
}

/** What a collection needs from its store. */
export interface CollectionContext {
  conn: ChromaConnection;
  catalog: CollectionCatalog;
  crypto: Crypto;
  embedder(): Embedder;
  batchSize(): Promise<number>;
}

interface Building {
  target: PhysicalCollection;
  embedder: Embedder;
  provenance: EmbeddingProvenance;
}

const MAX_ID = 512;
const MAX_RESULTS = 1000;

/**
 * One logical collection (memories, conversation segments, or your own), with sealed documents
 * and filterable fields per its {@link CollectionSpec}. Obtain it from the vector store.
 */
export class VectorCollection {
  readonly spec: CollectionSpec;
  readonly #ctx: CollectionContext;
  readonly #codec: RecordCodec;
  #active: PhysicalCollection | undefined;
  #resolving: Promise<PhysicalCollection> | undefined;
  #epoch = 0;
  #building: Building | undefined;
  #embedder: Embedder | undefined;
  readonly #inflight = new Set<Promise<unknown>>();

  /** @internal Use `vectors.memories`, `vectors.segments` or `vectors.collection(spec)`. */
  constructor(spec: CollectionSpec, ctx: CollectionContext) {
    this.spec = spec;
    this.#ctx = ctx;
    this.#codec = new RecordCodec(ctx.crypto, spec);
  }

  get name(): string {
    return this.spec.name;
  }

  /** Adds records (embedding `text` where no embedding is given), in batches. Existing ids are left as they are. */
  add(records: VectorRecordInput | readonly VectorRecordInput[]): Promise<void> {
    return this.#track(this.#write('add', records));
  }

  /** Adds records or replaces those with the same id, in batches. */
  upsert(records: VectorRecordInput | readonly VectorRecordInput[]): Promise<void> {
    return this.#track(this.#write('upsert', records));
  }

  /** Records by id and/or filter, opened. With `ids`, results follow the order of `ids` (missing ones are skipped). */
  async get(options: VectorGet = {}): Promise<VectorRecord[]> {
    const { ids, where, limit, offset, includeEmbeddings = false } = options;
    if (ids !== undefined) checkIds(ids);
    for (const [name, v] of [['limit', limit], ['offset', offset]] as const) {
      if (v !== undefined && (!Number.isInteger(v) || v < 0)) throw invalidArgument(`${name} must be a non-negative integer`);
    }
    const target = await this.#target();
    const chromaWhere = where === undefined ? undefined : this.#where(where);
    const include = includeEmbeddings ? (['metadatas', 'embeddings'] as const) : (['metadatas'] as const);
    const rows: VectorRecord[] = [];
    const fetchPage = async (pageIds: readonly string[] | undefined) => {
      // With ids (fetched in pages), limit and offset apply to the merged result below.
      const window = pageIds === undefined ? { limit, offset } : {};
      const res = await this.#ctx.conn.call((c) =>
        this.#handle(c, target).get({ ids: pageIds as string[] | undefined, where: chromaWhere, ...window, include: [...include] }),
      );
      for (let i = 0; i < res.ids.length; i++) {
        const id = res.ids[i]!;
        const opened = this.#codec.open(id, res.metadatas[i] as Record<string, unknown> | null);
        const row: VectorRecord = { id, text: opened.text, metadata: opened.metadata };
        if (includeEmbeddings && res.embeddings[i]) row.embedding = Float32Array.from(res.embeddings[i]!);
        rows.push(row);
      }
    };
    if (ids === undefined) {
      await fetchPage(undefined);
      return rows;
    }
    for (const page of chunk(ids, await this.#ctx.batchSize())) await fetchPage(page);
    const order = new Map(ids.map((id, i) => [id, i]));
    rows.sort((a, b) => order.get(a.id)! - order.get(b.id)!);
    const from = offset ?? 0;
    return rows.slice(from, limit === undefined ? undefined : from + limit);
  }

  /** Ids of the records matching `where` (all without it), without fetching or opening their documents. */
  async ids(options: { where?: Where } = {}): Promise<string[]> {
    const target = await this.#target();
    const chromaWhere = options.where === undefined ? undefined : this.#where(options.where);
    const res = await this.#ctx.conn.call((c) => this.#handle(c, target).get({ where: chromaWhere, include: [] }));
    return res.ids;
  }

  /** The `nResults` records closest to `embedding` (or to `text`, embedded), matching `where`. */
  async query(q: VectorQuery): Promise<VectorHit[]> {
    if (q === null || typeof q !== 'object') throw invalidArgument('query takes { embedding | text, where, nResults }');
    const nResults = q.nResults ?? 10;
    if (!Number.isInteger(nResults) || nResults < 1 || nResults > MAX_RESULTS) throw invalidArgument(`nResults must be an integer in 1..${MAX_RESULTS}`);
    if ((q.embedding === undefined) === (q.text === undefined)) throw invalidArgument('query needs exactly one of embedding and text');
    const target = await this.#target();
    const vector =
      q.embedding !== undefined
        ? checkedVector(q.embedding, target.provenance.dimension, `${this.name}.query`, target.provenance)
        : (await embedChecked(this.embedder, [checkText(q.text)], target.provenance))[0]!;
    const chromaWhere = q.where === undefined ? undefined : this.#where(q.where);
    const res = await this.#ctx.conn.call((c) =>
      this.#handle(c, target).query({ queryEmbeddings: [vector], nResults, where: chromaWhere, include: ['metadatas', 'distances'] }),
    );
    const ids = res.ids[0] ?? [];
    return ids.map((id, i) => {
      const opened = this.#codec.open(id, res.metadatas[0]?.[i] as Record<string, unknown> | null);
      const distance = res.distances[0]?.[i] ?? NaN;
      return { id, text: opened.text, metadata: opened.metadata, distance, similarity: 1 - distance / 2 };
    });
  }

  /** Deletes records by id and/or filter (at least one is required). Ids that do not exist are ignored. */
  delete(options: { ids?: readonly string[]; where?: Where }): Promise<void> {
    return this.#track(this.#delete(options));
  }

  /** The embedder this collection's vectors come from (the store's, unless a reembed moved it on). */
  get embedder(): Embedder {
    return this.#embedder ?? this.#ctx.embedder();
  }

  async #delete(options: { ids?: readonly string[]; where?: Where }): Promise<void> {
    if (options === null || typeof options !== 'object' || (options.ids === undefined && options.where === undefined)) {
      throw invalidArgument('delete needs ids or where (deleting everything is not a one-liner on purpose)');
    }
    if (options.ids !== undefined) checkIds(options.ids);
    const target = await this.#target();
    const chromaWhere = options.where === undefined ? undefined : this.#where(options.where);
    const targets = this.#building ? [target, this.#building.target] : [target];
    const pages = options.ids === undefined ? [undefined] : chunk(options.ids, await this.#ctx.batchSize());
    for (const t of targets) {
      for (const page of pages) {
        if (page !== undefined && page.length === 0) continue;
        await this.#ctx.conn.call((c) => this.#handle(c, t).delete({ ids: page as string[] | undefined, where: chromaWhere }));
      }
    }
  }

  /** Number of records. */
  async count(): Promise<number> {
    const target = await this.#target();
    return this.#ctx.conn.call((c) => this.#handle(c, target).count());
  }

  /** The embedding provenance recorded on the collection (resolving it, creating the collection if new). */
  async provenance(): Promise<EmbeddingProvenance> {
    return (await this.#resolve()).provenance;
  }

  /** Resolves the collection and checks it against the store's embedder (`EMBEDDING_MISMATCH`, `SCHEMA_DRIFT`). */
  async check(): Promise<void> {
    await this.#target();
  }

  // ---- internals used by the store's reembed ------------------------------------------------

  /** @internal */
  get _codec(): RecordCodec {
    return this.#codec;
  }
  /** @internal The active generation, without the embedder check. */
  _active(): Promise<PhysicalCollection> {
    return this.#resolve();
  }
  /**
   * @internal From now on writes also go to `target`, embedded with `embedder`, until
   * {@link _endBuild}; resolves once writes that started earlier (single-target) have finished.
   */
  async _beginBuild(target: PhysicalCollection, embedder: Embedder): Promise<void> {
    this.#building = { target, embedder, provenance: provenanceOf(embedder) };
    await Promise.allSettled([...this.#inflight]);
  }
  /** @internal Swaps in the built generation (already stamped active) and its embedder, or abandons the build. */
  _endBuild(activated: { target: PhysicalCollection; embedder: Embedder } | undefined): void {
    this.#building = undefined;
    if (activated) {
      this.#active = activated.target;
      this.#embedder = activated.embedder;
    }
  }
  /** @internal A Chroma handle on a physical collection. */
  _call<T>(target: PhysicalCollection, fn: (col: Collection) => Promise<T>): Promise<T> {
    return this.#ctx.conn.call((c) => fn(this.#handle(c, target)));
  }

  // ---------------------------------------------------------------------------------------------

  #track<T>(p: Promise<T>): Promise<T> {
    this.#inflight.add(p);
    const done = () => this.#inflight.delete(p);
    p.then(done, done);
    return p;
  }

  async #write(op: 'add' | 'upsert', input: VectorRecordInput | readonly VectorRecordInput[]): Promise<void> {
    const records = Array.isArray(input) ? (input as readonly VectorRecordInput[]) : [input as VectorRecordInput];
    if (records.length === 0) return;
    const seen = new Set<string>();
    for (const r of records) {
      if (r === null || typeof r !== 'object') throw invalidArgument(`${this.name}.${op}: records must be objects { id, text, embedding?, metadata? }`);
      checkIds([r.id]);
      if (seen.has(r.id)) throw invalidArgument(`${this.name}.${op}: id ${JSON.stringify(r.id)} appears twice in one call`);
      seen.add(r.id);
      checkText(r.text);
    }
    const target = await this.#target();
    const size = await this.#ctx.batchSize();
    for (const batch of chunk(records, size)) {
      const ids = batch.map((r) => r.id);
      const metadatas: ChromaMetadata[] = batch.map((r) => this.#codec.seal(r.id, r.text, r.metadata));
      const embeddings = await this.#vectors(batch, target.provenance);
      await this.#ctx.conn.call((c) => this.#handle(c, target)[op]({ ids, embeddings, metadatas: metadatas as Metadata[] }));
      const building = this.#building;
      if (building) {
        const next = await embedChecked(building.embedder, batch.map((r) => r.text), building.provenance);
        await this.#ctx.conn.call((c) => this.#handle(c, building.target).upsert({ ids, embeddings: next, metadatas: metadatas as Metadata[] }));
      }
    }
  }

  /** Given embeddings (checked) where present, the embedder's for the rest. */
  async #vectors(batch: readonly VectorRecordInput[], owner: EmbeddingProvenance): Promise<number[][]> {
    const out: number[][] = new Array(batch.length);
    const missing: number[] = [];
    batch.forEach((r, i) => {
      if (r.embedding === undefined) missing.push(i);
      else out[i] = checkedVector(r.embedding, owner.dimension, `${this.name}/${r.id}`, owner);
    });
    if (missing.length > 0) {
      const made = await embedChecked(this.embedder, missing.map((i) => batch[i]!.text), owner);
      for (const [k, i] of missing.entries()) out[i] = made[k]!;
    }
    return out;
  }

  #where(where: Where) {
    return translateWhere(where, this.spec, (field, value) => this.#codec.token(field, value));
  }

  #handle(client: ChromaClient, target: PhysicalCollection): Collection {
    return client.collection(target.id);
  }

  /** The active generation, checked against the current embedder and spec. */
  async #target(): Promise<PhysicalCollection> {
    const active = await this.#resolve();
    const want = provenanceOf(this.embedder);
    if (!sameProvenance(active.provenance, want)) {
      throw new AicoDataError(
        'EMBEDDING_MISMATCH',
        `${this.name} holds vectors of ${describeProvenance(active.provenance)}, the store's embedder is ${describeProvenance(want)}: ` +
          'open the store with the same embedder, or run vectors.reembed(newEmbedder)',
        { collection: this.name, stored: active.provenance, embedder: want },
      );
    }
    if (active.fields !== fieldsSignature(this.spec)) {
      throw new AicoDataError(
        'SCHEMA_DRIFT',
        `${this.name} was written with filterable fields [${active.fields}], the spec now declares [${fieldsSignature(this.spec)}]: ` +
          'run vectors.reembed(embedder) to rewrite it under the new spec',
        { collection: this.name },
      );
    }
    return active;
  }

  #resolve(): Promise<PhysicalCollection> {
    // The server's data was dropped (a damaged index): the cached collection id is void.
    if (this.#epoch !== this.#ctx.conn.dataEpoch) {
      this.#active = undefined;
      this.#epoch = this.#ctx.conn.dataEpoch;
    }
    if (this.#active) return Promise.resolve(this.#active);
    this.#resolving ??= this.#resolveOnce().finally(() => (this.#resolving = undefined));
    return this.#resolving;
  }

  async #resolveOnce(): Promise<PhysicalCollection> {
    const { catalog } = this.#ctx;
    const generations = await catalog.generations(this.name);
    const actives = generations.filter((g) => g.state === 'active');
    // An older active generation survives only a crash between a reembed's swap and its cleanup.
    for (const stale of actives.slice(1)) await catalog.drop(stale);
    let active = actives[0];
    const want = provenanceOf(this.embedder);
    if (active === undefined) {
      active = await catalog.create(this.spec, (generations[0]?.generation ?? 0) + 1, 'active', want);
    } else if (!sameProvenance(active.provenance, want) || active.fields !== fieldsSignature(this.spec)) {
      // An empty collection has nothing to protect: adopt the current embedder and spec.
      const count = await this.#ctx.conn.call((c) => this.#handle(c, active!).count());
      if (count === 0 && active.provenance.dimension === want.dimension) {
        active = await catalog.restamp(active, { provenance: want, fields: fieldsSignature(this.spec) });
      } else if (count === 0) {
        await catalog.drop(active);
        active = await catalog.create(this.spec, active.generation + 1, 'active', want);
      }
    }
    this.#active = active;
    return active;
  }
}

function checkIds(ids: readonly unknown[]): void {
  if (!Array.isArray(ids)) throw invalidArgument('ids must be an array of strings');
  for (const id of ids) {
    if (typeof id !== 'string' || id.length === 0 || id.length > MAX_ID) {
      throw invalidArgument(`ids must be non-empty strings of at most ${MAX_ID} characters, got ${JSON.stringify(id)?.slice(0, 60)}`);
    }
  }
}

function checkText(text: unknown): string {
  if (typeof text !== 'string') throw invalidArgument('text must be a string');
  return text;
}

function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
