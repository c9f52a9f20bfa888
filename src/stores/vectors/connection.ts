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
const DATABASE = 'default_database';

/**
 * The Chroma client bound to the current server. Every request goes through {@link call}: a
 * request that cannot connect (the server died) makes the manager restart the server, and the
 * request is retried once on the new one; a second failure is `UNAVAILABLE`.
 */
export class ChromaConnection {
  readonly server: ChromaServer;
  #client: ChromaClient | undefined;
  #clientGeneration = -1;
  #maxBatch: number | undefined;
  #dataEpoch = 0;
  readonly #onDataReset: (() => void | Promise<void>) | undefined;

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

  #healthy<T>(v: T): T {
    this.server.markHealthy();
    return v;
  }

  /** The server's largest accepted batch (Chroma reports it; SQLite's variable limit sets it). */
  async maxBatchSize(): Promise<number> {
    if (this.#maxBatch === undefined) {
      const n = await this.call((c) => c.getMaxBatchSize());
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
