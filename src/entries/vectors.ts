/**
 * `aico-data/vectors`: Semantic memory: the memory API, the Chroma vector store, embedders.
 * Also re-exported by the package root.
 */
export { MemoryVectorIndex, SemanticMemory, type MemoryRecallOptions, type RecallMode } from '../memories/index.js';
export * from '../stores/vectors/index.js';
