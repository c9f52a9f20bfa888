import {
  ChromaClient,
  ChromaClientError,
  ChromaConnectionError,
  ChromaNotFoundError,
  ChromaUniqueError,
  ChromaValueError,
} from 'chromadb';
import { AicoDataError, toAicoError } from '../../errors.js';
import type { ChromaServer } from './server/manager.js';

const TENANT = 'default_tenant';
/** Name suffix of the fresh copy of a collection while {@link ChromaConnection.scrub} runs. */
const COMPACT_SUFFIX = '__scrub';
const DATABASE = 'default_database';

/**
 * The Chroma client bound to the current server. Every request goes through {@link call}: a
 * request that cannot connect (the server died) makes the manager restart the server, and the
 * request is retried once on the new one; a second failure is `UNAVAILABLE`.
 *
 * Requests share the connection; {@link scrub} holds it alone (a write racing its copy would be
 * acknowledged and then dropped with the old collection). The first request of a connection, and
 * the first after a failed scrub, finishes a scrub that a crash interrupted, before any request
 * resolves a collection by name (which would otherwise recreate a dropped one empty).
 */
export class ChromaConnection {
  readonly server: ChromaServer;
  #client: ChromaClient | undefined;
  #clientGeneration = -1;
  #maxBatch: number | undefined;
  #dataEpoch = 0;
  readonly #onDataReset: (() => void | Promise<void>) | undefined;
  /** Requests running now (they hold the connection shared). */
  #inFlight = 0;
  #whenIdle: (() => void)[] = [];
  /** Set while a scrub or a scrub recovery holds the connection alone. */
  #exclusive: Promise<void> | undefined;
  /** False until an interrupted scrub was looked for on this connection. */
  #scrubSettled = false;

  /** `onDataReset`: called after a damaged index was dropped, so that its owner rebuilds it. */
  constructor(server: ChromaServer, onDataReset?: () => void | Promise<void>) {
    this.server = server;
    this.#onDataReset = onDataReset;
  }

  /** Increases when the server's data was dropped: cached collection ids are void. */
  get dataEpoch(): number {
    return this.#dataEpoch;
  }

  /** Runs `fn` with a client of the running server (starting it if needed), retrying once after a crash. */
  async call<T>(fn: (client: ChromaClient) => Promise<T>): Promise<T> {
    for (;;) {
      if (this.#exclusive) await this.#exclusive;
      else if (!this.#scrubSettled) await this.#alone(async () => (this.#scrubSettled ? undefined : this.#settleInterruptedScrub()));
      else break;
    }
    this.#inFlight++;
    try {
      return await this.#call(fn);
    } finally {
      if (--this.#inFlight === 0) for (const wake of this.#whenIdle.splice(0)) wake();
    }
  }

  /** Runs `fn` with the connection held alone: after the requests in flight, before any new one. */
  async #alone<T>(fn: () => Promise<T>): Promise<T> {
    while (this.#exclusive) await this.#exclusive;
    let release!: () => void;
    this.#exclusive = new Promise<void>((r) => (release = r));
    try {
      while (this.#inFlight > 0) await new Promise<void>((r) => this.#whenIdle.push(r));
      return await fn();
    } finally {
      this.#exclusive = undefined;
      release();
    }
  }

  /**
   * A scrub killed between dropping a collection and renaming its copy leaves only the copy
   * (complete: the drop comes after the copy): it takes the name back. A copy beside its
   * original was cut short: the original is whole, the copy is dropped.
   */
  async #settleInterruptedScrub(): Promise<void> {
    const names = (await this.#call((c) => c.listCollections({ limit: 100_000 }))).map((c) => c.name);
    for (const n of names) {
      if (!n.endsWith(COMPACT_SUFFIX)) continue;
      const original = n.slice(0, -COMPACT_SUFFIX.length);
      if (names.includes(original)) await this.#call((c) => c.deleteCollection({ name: n }));
      else await this.#call((c) => c.getCollection({ name: n, embeddingFunction: null } as never).then((col) => col.modify({ name: original })));
      this.#dataEpoch++;
    }
    this.#scrubSettled = true;
  }

  async #call<T>(fn: (client: ChromaClient) => Promise<T>): Promise<T> {
    await this.server.ensure();
    for (let attempt = 0; ; attempt++) {
      try {
        return this.#healthy(await fn(this.#clientFor()));
      } catch (e) {
        // Chroma 1.0 answers a query that races the first flush of a new collection's index
        // with "Nothing found on disk"; it passes once the flush is done.
        if (isIndexNotYetWritten(e) && attempt < 20) {
          await new Promise((r) => setTimeout(r, 50 * (attempt + 1)));
          continue;
        }
        if (isDamagedIndex(e)) return this.#damaged(e, 'the server cannot load it');
        // A collection vanished under a cached handle (dropped from outside, or by a reembed):
        // cached ids are void, so the next request resolves the collection again (recreating it
        // empty if needed, for repair() to refill) instead of failing NOT_FOUND for good.
        if (e instanceof ChromaNotFoundError) this.#dataEpoch++;
        if (!isConnectionFailure(e)) throw chromaError(e);
        break;
      }
    }
    await this.server.recover();
    try {
      return this.#healthy(await fn(this.#clientFor()));
    } catch (e) {
      if (isDamagedIndex(e)) return this.#damaged(e, 'the server cannot load it');
      if (!isConnectionFailure(e)) throw chromaError(e);
      // The same request crashed the server twice (a segfault, not a kill from outside).
      // A connection reset can be seen before the process's exit: give the exit a moment.
      await this.server.settle(2000);
      if (this.server.crashStreak >= 2) return this.#damaged(e, 'the server crashed loading it');
      throw new AicoDataError('UNAVAILABLE', 'the Chroma server stopped answering and a restart did not help', { store: 'chroma' }, { cause: e });
    }
  }

  /**
   * The server's files are damaged (e.g. a kill while it saved an index segment). The index is
   * derived data, sealed: drop it and let the owner rebuild it from libSQL, rather than stay
   * unavailable for good. Without an owner to rebuild it, the damage is reported (`CORRUPT`).
   */
  async #damaged(cause: unknown, why: string): Promise<never> {
    if (!this.#onDataReset) {
      throw new AicoDataError('CORRUPT', `the Chroma index is damaged (${why}); drop the chroma folder and rebuild it from libSQL (data.repair())`, { store: 'chroma' }, { cause });
    }
    await this.server.wipeData();
    this.#dataEpoch++;
    this.#maxBatch = undefined;
    await this.#onDataReset();
    throw new AicoDataError(
      'UNAVAILABLE',
      `the Chroma index was damaged (${why}): it was dropped and is being rebuilt from libSQL; retry shortly`,
      { store: 'chroma', reset: true },
      { cause },
    );
  }

  /**
   * Leaves no trace of deleted records in the server's files. Chroma keeps every id it was ever
   * given in its write-ahead log table until its index is persisted, and SQLite keeps deleted
   * rows in free pages; so each collection is copied, record by record, into a fresh one that
   * takes its name and metadata, the old one is dropped, and Chroma's `vacuum` purges the log and
   * rewrites the file. Embeddings and sealed metadata are copied as they are (no re-embedding).
   * Other requests wait until it ends, so no write lands in a collection already copied.
   */
  async scrub(): Promise<void> {
    await this.#alone(async () => {
      await this.#settleInterruptedScrub();
      const names = (await this.#call((c) => c.listCollections({ limit: 100_000 }))).map((c) => c.name);
      const batch = await this.maxBatchSize();
      this.#scrubSettled = false; // until this scrub ends, a crash or a failure may leave it half done
      for (const name of names) await this.#copyInPlace(name, name + COMPACT_SUFFIX, batch);
      // Collection ids changed: cached handles are void.
      this.#dataEpoch++;
      if (names.length > 0) await this.server.vacuum();
      this.#scrubSettled = true;
    });
  }

  /** Copies collection `name` into a fresh `tmpName`, drops `name`, and renames the copy to it. */
  async #copyInPlace(name: string, tmpName: string, batch: number): Promise<void> {
    const source = await this.#call((c) => c.getCollection({ name, embeddingFunction: null } as never));
    const hnsw = (source.configuration as { hnsw?: Record<string, unknown> } | undefined)?.hnsw;
    const target = await this.#call((c) =>
      c.createCollection({
        name: tmpName,
        embeddingFunction: null,
        ...(source.metadata ? { metadata: source.metadata } : {}),
        configuration: { hnsw: { space: (hnsw?.space as 'cosine' | 'l2' | 'ip' | undefined) ?? 'cosine' } },
      } as never),
    );
    for (let offset = 0; ; offset += batch) {
      const page = await this.#call((c) => c.getCollection({ name, embeddingFunction: null } as never).then((col) => col.get({ limit: batch, offset, include: ['embeddings', 'metadatas', 'documents'] as never })));
      if (page.ids.length === 0) break;
      await this.#call(() =>
        target.add({
          ids: page.ids,
          embeddings: page.embeddings as number[][],
          metadatas: page.metadatas as never,
          ...(page.documents.some((d) => d !== null) ? { documents: page.documents as string[] } : {}),
        }),
      );
      if (page.ids.length < batch) break;
    }
    await this.#call((c) => c.deleteCollection({ name }));
    await this.#call(() => target.modify({ name }));
  }

  #healthy<T>(v: T): T {
    this.server.markHealthy();
    return v;
  }

  /** The server's largest accepted batch (Chroma reports it; SQLite's variable limit sets it). */
  async maxBatchSize(): Promise<number> {
    if (this.#maxBatch === undefined) {
      // Not behind the scrub gate: the scrub itself asks, and the answer resolves no collection.
      const n = await this.#call((c) => c.getMaxBatchSize());
      this.#maxBatch = n > 0 ? n : 1000;
    }
    return this.#maxBatch;
  }

  #clientFor(): ChromaClient {
    const url = this.server.url;
    if (url === undefined) throw new AicoDataError('UNAVAILABLE', 'the Chroma server is not running', { store: 'chroma' });
    if (this.#client === undefined || this.#clientGeneration !== this.server.generation) {
      const u = new URL(url);
      this.#client = new ChromaClient({
        host: u.hostname,
        port: Number(u.port || (u.protocol === 'https:' ? 443 : 80)),
        ssl: u.protocol === 'https:',
        tenant: TENANT,
        database: DATABASE,
        // The managed server is reachable only through a proxy that wants this process's token.
        headers: this.server.authHeaders,
      });
      this.#clientGeneration = this.server.generation;
    }
    return this.#client;
  }
}

function isIndexNotYetWritten(e: unknown): boolean {
  return e instanceof Error && /hnsw segment reader: Nothing found on disk/i.test(e.message);
}

/** Chroma's own report that it cannot read its index files. */
function isDamagedIndex(e: unknown): boolean {
  const message = e instanceof Error ? e.message : '';
  return /error loading hnsw index|database disk image is malformed|file is not a database/i.test(message);
}

function isConnectionFailure(e: unknown): boolean {
  if (e instanceof ChromaConnectionError) return true;
  const code = (e as { cause?: { code?: unknown } })?.cause?.code ?? (e as { code?: unknown })?.code;
  return code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === 'UND_ERR_SOCKET';
}

/** Converts a chromadb client error into an AicoDataError with a stable code. */
export function chromaError(e: unknown): AicoDataError {
  if (e instanceof AicoDataError) return e;
  const message = e instanceof Error ? e.message : String(e);
  if (e instanceof ChromaConnectionError) return new AicoDataError('UNAVAILABLE', message, { store: 'chroma' }, { cause: e });
  if (e instanceof ChromaNotFoundError) return new AicoDataError('NOT_FOUND', message, { store: 'chroma' }, { cause: e });
  if (e instanceof ChromaUniqueError) return new AicoDataError('CONFLICT', message, { store: 'chroma' }, { cause: e });
  if (e instanceof ChromaClientError || e instanceof ChromaValueError) {
    if (/dimension/i.test(message)) return new AicoDataError('EMBEDDING_MISMATCH', message, { store: 'chroma' }, { cause: e });
    return new AicoDataError('INVALID_ARGUMENT', message, { store: 'chroma' }, { cause: e });
  }
  const converted = toAicoError(e);
  return converted.code === 'INTERNAL' ? new AicoDataError('INTERNAL', `Chroma: ${message}`, { store: 'chroma' }, { cause: e }) : converted;
}
