import { AicoDataError, invalidArgument } from '../../errors.js';

/**
 * Turns texts into vectors. The vector store records which embedder made each collection's
 * vectors ({@link EmbeddingProvenance}) and refuses to mix models.
 *
 * aico-data ships {@link HashingEmbedder} (offline, lexical). AICO's model service, or any
 * sentence-embedding model, plugs in by implementing this interface.
 */
export interface Embedder {
  /** Stable model identifier, e.g. `'paraphrase-multilingual-mpnet-base-v2'`. */
  readonly modelId: string;
  /** Model revision; bump it when the same model id starts producing different vectors. */
  readonly version: string;
  /** Length of every vector `embed` returns. */
  readonly dimension: number;
  /** One vector per text, in order. */
  embed(texts: readonly string[]): Promise<Float32Array[]>;
}

/** What a collection records about the embedder that made its vectors. */
export interface EmbeddingProvenance {
  modelId: string;
  version: string;
  dimension: number;
}

/** The provenance of `embedder`, validated. */
export function provenanceOf(embedder: Embedder): EmbeddingProvenance {
  if (embedder === null || typeof embedder !== 'object' || typeof embedder.embed !== 'function') {
    throw invalidArgument('embedder must implement { modelId, version, dimension, embed(texts) }');
  }
  const { modelId, version, dimension } = embedder;
  if (typeof modelId !== 'string' || modelId.length === 0 || modelId.length > 200) throw invalidArgument('embedder.modelId must be a non-empty string');
  if (typeof version !== 'string' || version.length > 100) throw invalidArgument('embedder.version must be a string');
  if (!Number.isInteger(dimension) || dimension < 1 || dimension > 65_536) throw invalidArgument('embedder.dimension must be an integer in 1..65536');
  return { modelId, version, dimension };
}

/** `model@version/dim`, for messages. */
export function describeProvenance(p: EmbeddingProvenance): string {
  return `${p.modelId}@${p.version || '-'} (${p.dimension} dims)`;
}

export function sameProvenance(a: EmbeddingProvenance, b: EmbeddingProvenance): boolean {
  return a.modelId === b.modelId && a.version === b.version && a.dimension === b.dimension;
}

/**
 * Checks one vector against the collection's dimension and converts it to the plain array the
 * Chroma client sends. NaN and Infinity are refused: Chroma would store them and then rank
 * every query against them as garbage.
 */
export function checkedVector(v: unknown, dimension: number, where: string, owner: EmbeddingProvenance): number[] {
  if (!(v instanceof Float32Array || v instanceof Float64Array || Array.isArray(v))) {
    throw invalidArgument(`${where}: an embedding must be a Float32Array or an array of numbers`);
  }
  if (v.length !== dimension) {
    throw new AicoDataError(
      'EMBEDDING_MISMATCH',
      `${where}: the embedding has ${v.length} dimensions, the collection holds ${describeProvenance(owner)} vectors`,
      { expected: dimension, got: v.length, modelId: owner.modelId },
    );
  }
  const out = new Array<number>(dimension);
  for (let i = 0; i < dimension; i++) {
    const x = v[i];
    if (typeof x !== 'number' || !Number.isFinite(x)) {
      throw invalidArgument(`${where}: the embedding has a non-finite value (${String(x)}) at index ${i}`);
    }
    out[i] = x;
  }
  return out;
}

/** Runs `embedder.embed` and checks it kept its promise (count and dimension). */
export async function embedChecked(embedder: Embedder, texts: readonly string[], owner: EmbeddingProvenance): Promise<number[][]> {
  if (texts.length === 0) return [];
  let vectors: Float32Array[];
  try {
    vectors = await embedder.embed(texts);
  } catch (e) {
    if (e instanceof AicoDataError) throw e;
    throw new AicoDataError('UNAVAILABLE', `the embedder ${embedder.modelId} failed: ${(e as Error)?.message ?? String(e)}`, { modelId: embedder.modelId }, { cause: e });
  }
  if (!Array.isArray(vectors) || vectors.length !== texts.length) {
    throw new AicoDataError('INTERNAL', `the embedder ${embedder.modelId} returned ${Array.isArray(vectors) ? vectors.length : 'no'} vectors for ${texts.length} texts`);
  }
  return vectors.map((v, i) => checkedVector(v, owner.dimension, `embedder ${embedder.modelId}, text #${i}`, owner));
}
