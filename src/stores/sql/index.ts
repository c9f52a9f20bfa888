export { SqlStore, type SqlStats } from './store.js';
export { Statement } from './statement.js';
export { Transaction, TransactionSync } from './transaction.js';
export type * from './types.js';
export type { SandboxPolicy, SandboxedExecutor } from './sandbox.js';
