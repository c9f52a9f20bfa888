import { AicoDataError } from '../../errors.js';
import type { Collection } from 'chromadb';
import type { CollectionSpec } from './collection-spec.js';
import type { ChromaConnection } from './connection.js';
import type { EmbeddingProvenance } from './embedder.js';

/** Whether a physical collection serves reads (`active`) or is being filled by a re-embed (`building`). */
export type GenerationState = 'active' | 'building';

/**
 * One Chroma collection behind a logical one. A logical collection has one active generation;
 * `reembed` builds the next generation beside it and then swaps. Chroma fixes a collection's
 * dimension at its first vector, so a new model always needs a new physical collection.
 */
export interface PhysicalCollection {
  id: string;
  name: string;
  logical: string;
  generation: number;
  state: GenerationState;
  provenance: EmbeddingProvenance;
  /** The filterable fields the records were sealed with (canonical form). */
  fields: string;
}

const KEY = {
  logical: 'aico_logical',
  generation: 'aico_generation',
  state: 'aico_state',
  model: 'aico_model',
  modelVersion: 'aico_model_version',
  dim: 'aico_dim',
  fields: 'aico_fields',
  format: 'aico_format',
} as const;
const FORMAT = 1;

/** The canonical form of a spec's filterable fields, as recorded on its collections. */
export function fieldsSignature(spec: CollectionSpec): string {
  return Object.entries(spec.fields)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}:${v}`)
    .join(',');
}

/** Lists, creates, activates and drops the physical collections of logical ones. */
export class CollectionCatalog {
  readonly #conn: ChromaConnection;

  constructor(conn: ChromaConnection) {
    this.#conn = conn;
  }

  /** Every generation of `logical`, newest first. */
  async generations(logical: string): Promise<PhysicalCollection[]> {
    const all = await this.#conn.call(async (client) => {
      const out: Collection[] = [];
      for (let offset = 0; ; offset += 100) {
        const page = await client.listCollections({ limit: 100, offset });
        out.push(...page);
        if (page.length < 100) return out;
      }
    });
    return all
      .map(toPhysical)
      .filter((p): p is PhysicalCollection => p !== undefined && p.logical === logical)
      .sort((a, b) => b.generation - a.generation);
  }

  async create(spec: CollectionSpec, generation: number, state: GenerationState, provenance: EmbeddingProvenance): Promise<PhysicalCollection> {
    const name = `aico_${spec.name}_g${generation}`;
    const metadata = stamp(spec.name, generation, state, provenance, fieldsSignature(spec));
    const col = await this.#conn.call((client) =>
      client.getOrCreateCollection({ name, metadata, embeddingFunction: null, configuration: { hnsw: { space: 'cosine' } } }),
    );
    const p = toPhysical(col);
    if (p === undefined) throw new AicoDataError('CORRUPT', `collection ${name} exists without aico metadata (a damaged Chroma file): run \`aico-data repair\``);
    return p;
  }

  /** Rewrites a collection's stamp (state, provenance, fields). */
  async restamp(p: PhysicalCollection, changes: Partial<Pick<PhysicalCollection, 'state' | 'provenance' | 'fields'>>): Promise<PhysicalCollection> {
    const next = { ...p, ...changes };
    await this.#conn.call(async (client) => {
      const col = await client.getCollection({ name: p.name });
      await col.modify({ metadata: stamp(next.logical, next.generation, next.state, next.provenance, next.fields) });
    });
    return next;
  }

  async drop(p: PhysicalCollection): Promise<void> {
    await this.#conn.call((client) => client.deleteCollection({ name: p.name }));
  }
}

function stamp(logical: string, generation: number, state: GenerationState, p: EmbeddingProvenance, fields: string): Record<string, string | number> {
  return {
    [KEY.logical]: logical,
    [KEY.generation]: generation,
    [KEY.state]: state,
    [KEY.model]: p.modelId,
    [KEY.modelVersion]: p.version,
    [KEY.dim]: p.dimension,
    [KEY.fields]: fields,
    [KEY.format]: FORMAT,
  };
}

function toPhysical(c: Collection): PhysicalCollection | undefined {
  const m = c.metadata as Record<string, unknown> | undefined;
  if (!m || typeof m[KEY.logical] !== 'string') return undefined;
  const state = m[KEY.state] === 'building' ? 'building' : 'active';
  return {
    id: c.id,
    name: c.name,
    logical: m[KEY.logical] as string,
    generation: Number(m[KEY.generation]),
    state,
    provenance: { modelId: String(m[KEY.model]), version: String(m[KEY.modelVersion] ?? ''), dimension: Number(m[KEY.dim]) },
    fields: String(m[KEY.fields] ?? ''),
  };
}
