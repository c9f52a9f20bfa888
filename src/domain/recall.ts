/**
 * How memories are found for a piece of context. The keyword strategy (full-text BM25) is
 * built into each repository; semantic recall (embeddings) plugs in here later without the
 * domain or the repositories' callers changing.
 */

/** What to recall. */
export interface RecallQuery {
  /** The context, e.g. the user's latest message. */
  readonly text: string;
  readonly userId: string;
  /** At most this many memories. */
  readonly limit: number;
  /** Only memories valid at this time. */
  readonly at: Date;
}

/** One recalled memory id with its relevance (higher is more relevant). */
export interface RecallCandidate {
  readonly memoryId: string;
  readonly score: number;
}

/** A way of recalling memories; returns candidates best first. */
export interface RecallStrategy {
  /** A short label for logs and benchmarks, e.g. `keyword`, `semantic`, `hybrid`. */
  readonly name: string;
  recall(query: RecallQuery): Promise<readonly RecallCandidate[]>;
}
