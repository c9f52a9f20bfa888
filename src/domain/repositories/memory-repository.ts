import type { Memory, MemoryType } from '../entities/memory.js';
import type { Page, PageRequest } from '../pagination.js';
import type { SearchHit } from '../search.js';

/** Options of {@link MemoryRepository.getByContext}. */
export interface ContextOptions {
  readonly userId: string;
  /** At most this many memories, 1-100 (default 5). */
  readonly limit?: number;
  /** Only memories valid at this time (default now). */
  readonly at?: Date;
}

/** Which memories {@link MemoryRepository.getByUser} reads. */
export interface MemoryPageRequest extends PageRequest {
  readonly type?: MemoryType;
}

/** Stores what the companion remembers. */
export interface MemoryRepository {
  /** Creates the memory, or replaces it when one with its id exists. The user must exist (`CONSTRAINT`). */
  save(memory: Memory): Promise<void>;
  get(id: string): Promise<Memory | undefined>;
  /** The memories with these ids (at most 1000); unknown and deleted ids are left out. Order not kept. */
  getMany(ids: readonly string[]): Promise<Memory[]>;
  /** The user's memories, newest first. */
  getByUser(userId: string, page?: MemoryPageRequest): Promise<Page<Memory>>;
  /**
   * The user's memories most relevant to `text` that are valid now, best first. Recall is by
   * keyword (BM25) unless a recall strategy was plugged in.
   */
  getByContext(text: string, options: ContextOptions): Promise<SearchHit<Memory>[]>;
  /** Notes that the memories were used: bumps their access count and sets `accessedAt`. */
  recordAccess(ids: readonly string[], at?: Date): Promise<void>;
  /** Returns whether the memory existed. */
  delete(id: string): Promise<boolean>;
}
