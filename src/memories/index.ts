export { SemanticMemory, type MemoryRecallOptions, type SemanticMemoryParts } from './semantic-memory.js';
