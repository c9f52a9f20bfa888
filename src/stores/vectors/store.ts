import { join } from 'node:path';
import { AicoDataError, invalidArgument } from '../../errors.js';
import type { Crypto } from '../../crypto.js';
import { CollectionCatalog } from './catalog.js';
import { checkSpec, CONVERSATION_SEGMENTS, MEMORIES, type CollectionSpec } from './collection-spec.js';
import { VectorCollection } from './collection.js';
import { ChromaConnection } from './connection.js';
import { provenanceOf, type Embedder } from './embedder.js';
import { folderHashingEmbedder } from './default-embedder.js';
import { reembedCollection, type ReembedOptions, type ReembedResult } from './reembed.js';
import { describeSource } from './server/discovery.js';
import { diagnoseVectorServer, type VectorDoctorReport } from './server/doctor.js';
import { ChromaServer, type ChromaServerOptions } from './server/manager.js';

/** Options of {@link openVectorStore}. */
export interface VectorStoreOptions {
  /** The data folder; Chroma persists under `<dir>/chroma`. */
  dir: string;
  /** The data layer's sealing (`data.crypto`). */
  crypto: Crypto;
  /**
   * Makes vectors from texts. Default here: the folder's hashing embedder (384 dims, lexical).
   * `openDataLayer` passes the local model instead when it is installed (see `data.embedderChoice`).
   */
  embedder?: Embedder;
  /** Where the Chroma server comes from and how it is run. */
  server?: ChromaServerOptions;
  /** Collections besides `memories` and `conversation_segments`. */
  collections?: readonly CollectionSpec[];
  /** Records per Chroma request (default 1000; capped by the server's own limit). */
  batchSize?: number;
  /**
   * Called when the server kept crashing on its own files and the managed Chroma folder was
   * dropped: the owner refills it (the data layer rebuilds memories from libSQL through the
   * outbox). Without it a damaged folder is left alone and stays `UNAVAILABLE`.
   */
  onDataReset?: () => void | Promise<void>;
  /** Called when {@link VectorStore.reembed} moved every collection to another embedder. */
  onEmbedderChange?: (embedder: Embedder) => void;
}

/** Where the store's server is and what it runs on. */
export interface VectorStoreStatus {
  state: ChromaServer['state'];
  url?: string;
  source?: string;
  pid?: number;
  persistDir: string;
  embedder: string;
}

/**
 * Semantic memory on Chroma: encrypted documents, embedding provenance, a managed local server.
 *
 * The server is started lazily, by the first operation (or {@link ready}), so opening the data
 * layer stays fast when vectors are not used.
 */
export class VectorStore {
  /** Long-term memories. */
  readonly memories: VectorCollection;
  /** Conversation segments. */
  readonly segments: VectorCollection;
  readonly #server: ChromaServer;
  readonly #collections = new Map<string, VectorCollection>();
  readonly #catalog: CollectionCatalog;
  readonly #conn: ChromaConnection;
  readonly #persistDir: string;
  readonly #options: VectorStoreOptions;
  #embedder: Embedder;
  #closed = false;
  #reembedding: Promise<unknown> | undefined;

  /** @internal Use {@link openVectorStore}. */
  constructor(options: VectorStoreOptions) {
    this.#options = options;
    this.#embedder = options.embedder ?? defaultEmbedder(options.crypto);
    provenanceOf(this.#embedder);
    this.#persistDir = join(options.dir, 'chroma');
    this.#server = new ChromaServer(this.#persistDir, options.server);
    const conn = new ChromaConnection(this.#server, options.onDataReset);
    this.#conn = conn;
    this.#catalog = new CollectionCatalog(conn);
    const requested = options.batchSize ?? 1000;
    if (!Number.isInteger(requested) || requested < 1) throw invalidArgument('batchSize must be a positive integer');
    const ctx = {
      conn,
      catalog: this.#catalog,
      crypto: options.crypto,
      embedder: () => this.#embedder,
      batchSize: async () => {
        this.#check();
        return Math.min(requested, await conn.maxBatchSize());
      },
    };
    for (const spec of [MEMORIES, CONVERSATION_SEGMENTS, ...(options.collections ?? [])]) {
      checkSpec(spec);
      if (this.#collections.has(spec.name)) throw invalidArgument(`collection ${spec.name} is declared twice`);
      this.#collections.set(spec.name, new VectorCollection(spec, ctx));
    }
    this.memories = this.#collections.get(MEMORIES.name)!;
    this.segments = this.#collections.get(CONVERSATION_SEGMENTS.name)!;
  }

  /** A declared collection by name; `NOT_FOUND` if it was not declared at open. */
  collection(name: string): VectorCollection {
    this.#check();
    const col = this.#collections.get(name);
    if (!col) throw new AicoDataError('NOT_FOUND', `no vector collection ${JSON.stringify(name)}; declared: ${[...this.#collections.keys()].join(', ')}`);
    return col;
  }

  /** Every declared collection. */
  get collections(): readonly VectorCollection[] {
    return [...this.#collections.values()];
  }

  /** The embedder the store was opened with (or moved to by {@link reembed}). */
  get embedder(): Embedder {
    return this.#embedder;
  }

  /** Starts the server now and checks every collection against the embedder. */
  async ready(): Promise<void> {
    this.#check();
    await this.#server.ensure();
    for (const col of this.#collections.values()) await col.check();
  }

  /**
   * Re-embeds every collection with `embedder` (incrementally, resumable after a crash: run it
   * again with the same embedder) and makes it the store's embedder.
   */
  async reembed(embedder: Embedder, options: ReembedOptions = {}): Promise<ReembedResult[]> {
    this.#check();
    provenanceOf(embedder);
    if (this.#reembedding) throw new AicoDataError('CONFLICT', 'a reembed is already running');
    const run = (async () => {
      const results: ReembedResult[] = [];
      for (const col of this.#collections.values()) results.push(await reembedCollection(col, this.#catalog, embedder, options));
      this.#embedder = embedder;
      this.#options.onEmbedderChange?.(embedder);
      return results;
    })();
    this.#reembedding = run;
    try {
      return await run;
    } finally {
      this.#reembedding = undefined;
    }
  }

  /**
   * Rewrites every collection so that deleted records leave no bytes in Chroma's files (its
   * log and SQLite's free pages); see `ChromaConnection.scrub`. `forgetUser` runs it.
   */
  async scrub(): Promise<void> {
    this.#check();
    await this.#conn.scrub();
  }

  /** Server state, for diagnostics. */
  status(): VectorStoreStatus {
    const s = this.#server;
    const p = provenanceOf(this.#embedder);
    return {
      state: s.state,
      ...(s.url ? { url: s.url } : {}),
      ...(s.source ? { source: describeSource(s.source) } : {}),
      ...(s.pid ? { pid: s.pid } : {}),
      persistDir: this.#persistDir,
      embedder: `${p.modelId}@${p.version} (${p.dimension})`,
    };
  }

  /** Which Chroma server sources exist here and which would be used. */
  doctor(): Promise<VectorDoctorReport> {
    return diagnoseVectorServer(this.#options.server);
  }

  /** @internal The server manager (tests kill it to check restarts). */
  get _server(): ChromaServer {
    return this.#server;
  }

  /** Stops the managed server. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#reembedding?.catch(() => undefined);
    await this.#server.stop();
  }

  get closed(): boolean {
    return this.#closed;
  }

  #check(): void {
    if (this.#closed) throw new AicoDataError('CLOSED', 'the vector store was closed');
  }
}

/**
 * Without an embedder the store uses the folder's hashing embedder: lexical feature hashing,
 * keyed from the folder's keys so that stored vectors cannot be matched against a word list by
 * someone without the password. (The data layer passes its own choice: see `default-embedder.ts`.)
 */
function defaultEmbedder(crypto: Crypto): Embedder {
  return folderHashingEmbedder(crypto);
}

/**
 * Opens the vector store of a data folder. Returns at once: the Chroma server starts with the
 * first operation (call {@link VectorStore.ready} to start it eagerly).
 */
export async function openVectorStore(options: VectorStoreOptions): Promise<VectorStore> {
  if (options === null || typeof options !== 'object') throw invalidArgument('openVectorStore takes an options object');
  if (typeof options.dir !== 'string' || options.dir.trim() === '') throw invalidArgument('dir must be a non-empty path');
  if (!options.crypto || typeof options.crypto.seal !== 'function') throw invalidArgument('crypto must be the data layer\'s Crypto (data.crypto)');
  return new VectorStore(options);
}
