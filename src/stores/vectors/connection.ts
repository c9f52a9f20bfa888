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

  constructor(server: ChromaServer) {
    this.server = server;
  }

  /** Runs `fn` with a client of the running server (starting it if needed), retrying once after a crash. */
  async call<T>(fn: (client: ChromaClient) => Promise<T>): Promise<T> {
    await this.server.ensure();
    try {
      return await fn(this.#clientFor());
    } catch (e) {
      if (!isConnectionFailure(e)) throw chromaError(e);
    }
    await this.server.recover();
    try {
      return await fn(this.#clientFor());
    } catch (e) {
      if (isConnectionFailure(e)) {
        throw new AicoDataError('UNAVAILABLE', 'the Chroma server stopped answering and a restart did not help', { store: 'chroma' }, { cause: e });
      }
      throw chromaError(e);
    }
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
