/**
 * The state sync keeps for one open data folder, shared by every part of the facade: the store,
 * the sealer, the options, the schema version read once on open, and this device once enabled.
 * Each part takes the session instead of the whole service, so none of them imports another's.
 */
import { AicoDataError } from '../errors.js';
import type { SqlStore } from '../stores/sql/index.js';
import { loadIdentity, type Identity, type Sealer } from './identity.js';
import { ensureRegistry } from './registry-bootstrap.js';

/** Options of the sync facade. */
export interface SyncOptions {
  /**
   * Called after commit for each new conflict with `sync/conflict/detected/v1` and ids only
   * (no content): plug a `MessageBus.publish` here. Errors it throws are ignored.
   */
  readonly publish?: (topic: string, payload: Readonly<Record<string, unknown>>) => unknown;
  /** Pending `batch` changes that make a sync due (default 100). */
  readonly batchSize?: number;
  /** Receives warnings (a device skipped for an unusable registry key...), ids and codes only. Default: `console.warn`. */
  readonly logger?: { warn(message: string, details: Readonly<Record<string, unknown>>): void };
  /** Wall clock in ms for pairing expiry (default `Date.now`); tests inject one instead of sleeping. */
  readonly now?: () => number;
}

/** Components whose versions shape the synced rows: their sum is the sync schema version. */
const SCHEMA_COMPONENTS = ['system_config', 'users', 'user_preferences', 'conversations', 'memories', 'devices', 'sync'];

/** Sync on one open data folder. */
export class SyncSession {
  readonly sql: SqlStore;
  readonly sealer: Sealer;
  readonly options: SyncOptions;
  /** The sync schema version of this folder (read on open). */
  schemaVersion = 0;
  /** This device, once enabled; only `enable()` sets it. */
  identity: Identity | undefined;
  readonly #onFirstOpen: () => Promise<unknown>;
  #ready: Promise<void> | undefined;
  #closed = false;
  #opened = false;

  /** `onFirstOpen` runs once per open of an enabled folder (the quarantine retry); its failure is ignored. */
  constructor(sql: SqlStore, sealer: Sealer, options: SyncOptions, onFirstOpen: () => Promise<unknown>) {
    this.sql = sql;
    this.sealer = sealer;
    this.options = options;
    this.#onFirstOpen = onFirstOpen;
  }

  /** Reads the schema version and the identity on first use; retried after a failure. */
  async init(): Promise<void> {
    if (this.#closed) throw new AicoDataError('CLOSED', 'the data layer was closed');
    this.#ready ??= (async () => {
      const rows = await this.sql.query<{ name: string; current_version: number }>(
        `SELECT name, current_version FROM _aico_schema_metadata WHERE name IN (${SCHEMA_COMPONENTS.map(() => '?').join(', ')})`,
        SCHEMA_COMPONENTS,
      );
      this.schemaVersion = rows.reduce((n, r) => n + Number(r.current_version), 0);
      await this.sql.execute(`UPDATE sync_clock SET schema_version = ? WHERE id = 1 AND schema_version != ?`, [this.schemaVersion, this.schemaVersion]);
      this.identity = await loadIdentity(this.sql, this.sealer);
      if (this.identity) await ensureRegistry(this.sql, this.identity);
    })();
    try {
      await this.#ready;
    } catch (e) {
      this.#ready = undefined;
      throw e;
    }
    // Once per open: changesets quarantined for a newer schema apply if this folder caught up.
    if (this.identity && !this.#opened) {
      this.#opened = true;
      await this.#onFirstOpen().catch(() => undefined);
    }
  }

  /** This device; `NOT_FOUND` until sync is enabled. */
  async me(): Promise<Identity> {
    await this.init();
    if (!this.identity) throw new AicoDataError('NOT_FOUND', 'sync is not enabled on this device', undefined, { hint: 'call data.sync.enable() first', cliHint: 'run `aico-data sync enable` first' });
    return this.identity;
  }

  /** The wall clock of pairing expiry and revocation stamps (`SyncOptions.now`). */
  now(): number {
    return this.options.now?.() ?? Date.now();
  }

  /** Marks the session closed; false if it already was. */
  close(): boolean {
    if (this.#closed) return false;
    this.#closed = true;
    return true;
  }
}
