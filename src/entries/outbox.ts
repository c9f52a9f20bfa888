/**
 * `aico-data/outbox`: The transactional outbox that keeps derived stores in step with libSQL.
 * Also re-exported by the package root.
 */
export * from '../outbox/index.js';
