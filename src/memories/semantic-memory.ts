import { createMemory, type ContextOptions, type Memory, type MemoryRepository, type NewMemory, type SearchHit, type UnitOfWork } from '../domain/index.js';
import { AicoDataError, invalidArgument } from '../errors.js';
import type { MemoryVectorIndex } from './memory-index.js';
import type { RecallWeights } from '../stores/vectors/recall.js';
import type { Embedder } from '../stores/vectors/embedder.js';

/** Options of {@link SemanticMemory.recall}. */
export interface MemoryRecallOptions extends ContextOptions {
  /**
   * Which side answers: `hybrid` (default: vector similarity and FTS5 keyword rank fused; keyword
   * only when the layer runs without vectors), `keyword` (FTS5/BM25 only) or `vector` (Chroma
   * only; `UNAVAILABLE` without vectors). Every mode returns the same `{ item, score }` hits.
   */
  readonly mode?: RecallMode;
  /** How much vector similarity, keyword rank, recency and importance count (defaults 1, 1, 0, 0; hybrid and vector). */
  readonly weights?: RecallWeights;
}

/** The sides of {@link SemanticMemory.recall}. */
export type RecallMode = 'hybrid' | 'keyword' | 'vector';
const MODES: readonly RecallMode[] = ['hybrid', 'keyword', 'vector'];

/** What {@link SemanticMemory} is built from (the data layer wires it). */
export interface SemanticMemoryParts {
  readonly repository: MemoryRepository;
  readonly unitOfWork: UnitOfWork;
  /** The Chroma index, or undefined when the data layer runs without vectors. */
  readonly index: MemoryVectorIndex | undefined;
  /** The embedder of the index (its model id and dimension are recorded on each memory). */
  readonly embedder: () => Embedder | undefined;
  /** A memory repository whose `getByContext` uses the vector side (and the keyword side with `keyword`) with these weights. */
  readonly hybrid: ((weights: RecallWeights | undefined, keyword: boolean) => MemoryRepository) | undefined;
  /**
   * Carries committed changes to Chroma through the transactional outbox (the data layer's
   * dispatcher). Without it, `remember` and `forget` write the index directly.
   */
  readonly propagate?: (memoryIds: readonly string[]) => Promise<void>;
}

/**
 * Memories across stores: the text and its facts in libSQL (with the FTS5 index), the
 * embedding in Chroma. `remember`, `recall` and `forget` keep both sides in step.
 */
export class SemanticMemory {
  readonly #parts: SemanticMemoryParts;

  /** @internal Use `data.memories`. */
  constructor(parts: SemanticMemoryParts) {
    this.#parts = parts;
  }

  /** Whether memories are also embedded into Chroma (false with `vectors: false`). */
  get semantic(): boolean {
    return this.#parts.index !== undefined;
  }

  /** Stores a memory in libSQL, then embeds it into Chroma. Returns the stored memory. */
  async remember(input: NewMemory): Promise<Memory> {
    return (await this.rememberMany([input]))[0]!;
  }

  /** Stores memories in one libSQL transaction, then embeds them in batches. */
  async rememberMany(inputs: readonly NewMemory[]): Promise<Memory[]> {
    if (!Array.isArray(inputs)) throw invalidArgument('rememberMany takes an array of memories');
    const memories = inputs.map((i) => createMemory(this.#withProvenance(i)));
    await this.#parts.unitOfWork(async (repos) => {
      for (const m of memories) await repos.memories.save(m);
    });
    if (this.#parts.propagate) await this.#parts.propagate(memories.map((m) => m.id));
    else await this.#parts.index?.upsert(memories);
    return memories;
  }

  /**
   * The user's memories most relevant to `text`, best first. By default vector similarity and
   * FTS5 keyword rank fused by reciprocal-rank fusion (keyword only without vectors); `mode`
   * picks one side. Only memories valid at `at` (default now) are returned. This is the one
   * recall API; `data.repos.memories.getByContext` is the keyword repository underneath, and
   * `data.vectors.memories.query` the raw collection (for custom collections and filters).
   */
  async recall(text: string, options: MemoryRecallOptions): Promise<SearchHit<Memory>[]> {
    const { weights, mode = 'hybrid', ...context } = options ?? ({} as MemoryRecallOptions);
    if (!MODES.includes(mode)) throw invalidArgument(`mode must be one of ${MODES.join(', ')}, got ${JSON.stringify(mode)}`, { field: 'mode' });
    const { hybrid, repository } = this.#parts;
    if (mode === 'vector' && !hybrid) {
      throw new AicoDataError('UNAVAILABLE', 'vector recall needs the vector store: this data layer was opened with vectors: false', { field: 'mode' }, { hint: "open the folder without `vectors: false`, or recall with mode: 'keyword'" });
    }
    const repo = mode === 'keyword' || !hybrid ? repository : hybrid(weights, mode === 'hybrid');
    return repo.getByContext(text, context);
  }

  /** Deletes a memory from libSQL (and its FTS entry) and from Chroma. Returns whether it existed. */
  async forget(id: string): Promise<boolean> {
    const existed = await this.#parts.repository.delete(id);
    if (this.#parts.propagate) await this.#parts.propagate([id]);
    else await this.#parts.index?.remove([id]);
    return existed;
  }

  #withProvenance(input: NewMemory): NewMemory {
    if (input === null || typeof input !== 'object') throw invalidArgument('a memory must be an object');
    const embedder = this.#parts.index ? this.#parts.embedder() : undefined;
    if (!embedder) return input;
    return { ...input, embeddingModel: embedder.modelId, embeddingDimension: embedder.dimension };
  }
}
