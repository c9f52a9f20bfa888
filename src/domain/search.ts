/** A search or recall result: the item and its relevance (higher is more relevant). */
export interface SearchHit<T> {
  readonly item: T;
  /** Relevance on the strategy's own scale (BM25 for keyword search); compare within one result list only. */
  readonly score: number;
}

/** Options of a full-text search. */
export interface SearchOptions {
  /** Only this user's items (recommended: searches otherwise span every user). */
  readonly userId?: string;
  /** At most this many hits, 1-1000 (default 20). */
  readonly limit?: number;
}
