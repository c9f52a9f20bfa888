import { invalidArgument, nativeAsync } from '../../errors.js';
import type { NativeSql } from '../../native/index.js';
import { checkSql } from './check.js';
import type { Row, RunResult, SqlParams, SqlValue } from './types.js';

/** What sandboxed SQL may touch: objects named `prefix*` only (DDL on them when `allowDdl`). */
export interface SandboxPolicy {
  readonly prefix: string;
  readonly allowDdl: boolean;
  /** For messages, e.g. `plugin notes`. */
  readonly label?: string;
}

/** Statements compiled under SQLite's authorizer with a sandbox policy (plugin isolation). */
export interface SandboxedExecutor {
  execute(sql: string, params?: SqlParams): Promise<RunResult>;
  query<T = Row>(sql: string, params?: SqlParams): Promise<T[]>;
  queryOne<T = Row>(sql: string, params?: SqlParams): Promise<T | undefined>;
  queryRaw(sql: string, params?: SqlParams): Promise<SqlValue[][]>;
  exec(script: string): Promise<void>;
}

function checkPolicy(p: SandboxPolicy): SandboxPolicy {
  if (p === null || typeof p !== 'object' || typeof p.prefix !== 'string' || typeof p.allowDdl !== 'boolean') {
    throw invalidArgument('sandbox policy must be { prefix: string, allowDdl: boolean }');
  }
  return p;
}

/**
 * @internal An executor whose every statement is prepared under `policy`, inside transaction
 * `tx` (its id, while `alive()` holds) or on its own.
 */
export function sandboxedExecutor(n: NativeSql, policy: SandboxPolicy, tx?: { id: number; check(): void }): SandboxedExecutor {
  const { prefix, allowDdl } = checkPolicy(policy);
  const id = () => (tx ? (tx.check(), tx.id) : null);
  const q = (sql: string, params: SqlParams | undefined, arrays: boolean, one: boolean) =>
    nativeAsync(() => n.sandboxedQueryAsync(prefix, allowDdl, id(), checkSql(sql), params, arrays, one));
  return {
    execute: (sql, params) => nativeAsync(() => n.sandboxedRunAsync(prefix, allowDdl, id(), checkSql(sql), params)),
    query: <T = Row>(sql: string, params?: SqlParams) => q(sql, params, false, false) as Promise<T[]>,
    queryOne: <T = Row>(sql: string, params?: SqlParams) => q(sql, params, false, true) as Promise<T | undefined>,
    queryRaw: (sql, params) => q(sql, params, true, false) as Promise<SqlValue[][]>,
    exec: (script) => nativeAsync(() => n.sandboxedExecAsync(prefix, allowDdl, id(), checkSql(script, 'script'))),
  };
}
