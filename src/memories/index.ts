export { MemoryVectorIndex } from './memory-index.js';
export { SemanticMemory, type MemoryRecallOptions, type RecallMode, type SemanticMemoryParts } from './semantic-memory.js';
