/**
 * `aico-data/bus`: The message bus (in-process, ZeroMQ) and the database services served on it.
 * Also re-exported by the package root.
 */
export * from '../bus/index.js';
export * from '../services/index.js';
