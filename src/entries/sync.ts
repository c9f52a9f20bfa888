/**
 * `aico-data/sync`: End-to-end encrypted device sync: pairing, transports, the registry.
 * Also re-exported by the package root.
 */
export * from '../sync/index.js';
