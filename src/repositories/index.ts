/**
 * Implementations of the domain's repository interfaces: libSQL (the real store) and
 * in-memory twins (for domain tests), both passing one contract suite.
 */
export * from './libsql/index.js';
export * from './memory/index.js';
export { searchTerms, toFtsQuery, type TermMode } from './search-terms.js';
