export { openVectorStore, VectorStore, type VectorStoreOptions, type VectorStoreStatus } from './store.js';
export {
  VectorCollection,
  type VectorRecordInput,
  type VectorRecord,
  type VectorHit,
  type VectorQuery,
  type VectorGet,
} from './collection.js';
export { MEMORIES, CONVERSATION_SEGMENTS, type CollectionSpec, type FieldKind } from './collection-spec.js';
export type { MetadataInput, MetadataValue } from './record-codec.js';
export type { Where, FieldCondition } from './where.js';
export type { Embedder, EmbeddingProvenance } from './embedder.js';
export { HashingEmbedder, type HashingEmbedderOptions } from './hashing-embedder.js';
export { MiniLmEmbedder, defaultMiniLmDir, findMiniLmDir, MINILM_PACKAGE, type MiniLmLocation, type MiniLmOptions } from './minilm-embedder.js';
export type { ReembedOptions, ReembedResult } from './reembed.js';
export {
  createSemanticRecall,
  type SemanticRecall,
  type SemanticRecallOptions,
  type RecallOptions,
  type RecallWeights,
  type RecallHit,
  type RecallRequest,
  type KeywordRecall,
} from './recall.js';
export { reciprocalRankFusion, RRF_K, type RankedList } from './rrf.js';
export type { ChromaServerOptions } from './server/manager.js';
export type { ServerDiscoveryOptions } from './server/discovery.js';
export { diagnoseVectorServer, formatDoctorReport, type VectorDoctorReport, type VectorDoctorLine } from './server/doctor.js';
