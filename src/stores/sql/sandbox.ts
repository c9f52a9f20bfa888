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
 * Plugin statements outside a transaction run one at a time per store. Each native call holds
 * one of libuv's four worker threads until it ends (up to the sandbox's time budget), so
 * without this four slow plugin queries would stall the host's file reads and SQL. Statements
 * inside a transaction skip the gate: they run on the writer, which is exclusive anyway, and
 * gating them could deadlock with a gated call waiting for that writer.
 */
class PluginGate {
  private running = false;
  private readonly waiting: Array<() => void> = [];

  async run<T>(call: () => Promise<T>): Promise<T> {
    if (this.running) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.running = true;
    try {
      return await call();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.running = false;
    }
  }
}

const gates = new WeakMap<NativeSql, PluginGate>();

function gateOf(n: NativeSql): PluginGate {
  let g = gates.get(n);
  if (!g) gates.set(n, (g = new PluginGate()));
  return g;
}

/**
 * @internal An executor whose every statement is prepared under `policy`, inside transaction
 * `tx` (its id, while `alive()` holds) or on its own.
 */
export function sandboxedExecutor(n: NativeSql, policy: SandboxPolicy, tx?: { id: number; check(): void }): SandboxedExecutor {
  const { prefix, allowDdl } = checkPolicy(policy);
  const id = () => (tx ? (tx.check(), tx.id) : null);
  const gate = gateOf(n);
  const call = <T>(f: () => Promise<T>): Promise<T> => (tx ? nativeAsync(f) : gate.run(() => nativeAsync(f)));
  const q = (sql: string, params: SqlParams | undefined, arrays: boolean, one: boolean) =>
    call(() => n.sandboxedQueryAsync(prefix, allowDdl, id(), checkSql(sql), params, arrays, one));
  return {
    execute: (sql, params) => call(() => n.sandboxedRunAsync(prefix, allowDdl, id(), checkSql(sql), params)),
    query: <T = Row>(sql: string, params?: SqlParams) => q(sql, params, false, false) as Promise<T[]>,
    queryOne: <T = Row>(sql: string, params?: SqlParams) => q(sql, params, false, true) as Promise<T | undefined>,
    queryRaw: (sql, params) => q(sql, params, true, false) as Promise<SqlValue[][]>,
    exec: (script) => call(() => n.sandboxedExecAsync(prefix, allowDdl, id(), checkSql(script, 'script'))),
  };
}
