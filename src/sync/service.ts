/**
 * `data.sync`: federated sync between the user's own devices. See `src/sync/README.md` for the
 * protocol. This class only composes: it makes sure sync is open (and enabled where needed) and
 * hands each call to the file that owns it.
 */
import type { SqlStore } from '../stores/sql/index.js';
import { ownVector, type VersionVector } from './collect.js';
import { listConflicts, resolveConflict, type Resolution, type SyncConflict } from './conflict-ledger.js';
import { listDevices, type SyncDevice } from './devices-table.js';
import { enableSync, type EnableOptions } from './enable.js';
import { exportChanges, type ExportOptions } from './export-changes.js';
import type { Sealer } from './identity.js';
import { importChanges, type ImportResult } from './import-changes.js';
import { completePairing, createOffer, pair, type PairingStep } from './pairing-sessions.js';
import { setDevicePolicy, setTablePolicy, tablePolicies } from './policies.js';
import { retryQuarantined } from './quarantine.js';
import { revokeDevice } from './revocations.js';
import { SyncSession, type SyncOptions } from './session.js';
import { syncStatus, type SyncStatus } from './status.js';
import { syncRound, type SyncPeer, type SyncRound } from './sync-round.js';
import type { DeviceSyncPolicy, SyncMode } from './tables.js';
import type { ZmqTransport } from './transports/zmq.js';
import { JetStreamTransports } from './jetstream-transports.js';
import type { JetStreamTransport, JetStreamTransportOptions } from './transports/jetstream.js';
import { ZmqTransports } from './zmq-transports.js';

/** The sync facade of one data folder (`data.sync`). */
export class SyncService {
  readonly #s: SyncSession;
  readonly #transports = new ZmqTransports();
  readonly #relays = new JetStreamTransports();

  /** @internal Use `data.sync`. */
  constructor(sql: SqlStore, sealer: Sealer, options: SyncOptions = {}) {
    this.#s = new SyncSession(sql, sealer, options, () => this.retryQuarantined());
  }

  // ---- lifecycle ----

  /**
   * Enables sync on this folder (idempotent): creates the device identity (keys sealed under
   * the data key), records this device in the registry as owner, and snapshots the existing
   * rows of the synced tables into the change log so the first peer receives them.
   */
  async enable(options: EnableOptions = {}): Promise<SyncDevice> {
    await enableSync(this.#s, options);
    return (await this.devices()).find((d) => d.self)!;
  }

  /** True once {@link enable} ran on this folder. */
  async enabled(): Promise<boolean> {
    await this.#s.init();
    return this.#s.identity !== undefined;
  }

  /** This device's id (public: derived from its signing key). */
  async deviceId(): Promise<string> {
    return (await this.#s.me()).deviceId;
  }

  /** @internal Closes transports opened through {@link zmqTransport}. Called by `DataLayer.close`. */
  async close(): Promise<void> {
    if (!this.#s.close()) return;
    await this.#transports.close();
    await this.#relays.close();
  }

  // ---- devices and pairing ----

  /** The device registry (this device included, `self: true`). */
  async devices(): Promise<SyncDevice[]> {
    return listDevices(this.#s.sql, (await this.#s.me()).deviceId);
  }

  /**
   * Step 1, on the new device: a pairing offer to carry to a trusted device. It commits to this
   * device's card and a secret nonce; no code exists yet (the code depends on both devices'
   * nonces, so nobody can choose it). Expires after 10 minutes.
   */
  async createPairingOffer(): Promise<{ payload: string; expiresAt: string }> {
    return createOffer(this.#s, await this.#s.me());
  }

  /**
   * On the trusted device. With an offer (step 2): answers it with this device's card and a
   * fresh nonce (`step: 'answer'`). With the new device's reveal and the `code` it shows (step
   * 4): checks the commitment and the code; on a match the device is trusted and the
   * confirmation to carry back is returned (`step: 'confirm'`). A wrong code, an expired or a
   * used session gives `SYNC_PAIRING_REJECTED`, and ends the session (one guess).
   */
  async pair(payload: string, code?: string): Promise<PairingStep> {
    return pair(this.#s, await this.#s.me(), payload, code);
  }

  /**
   * On the new device. With the answer (step 3): returns the reveal to carry back and the code
   * to show (`step: 'reveal'`); type that code on the trusted device. With the confirmation
   * (step 5): trusts the approving device (`step: 'done'`), but only if the confirmation is
   * signed by the very key bound into the code, for this device's own pending, unexpired session.
   */
  async completePairing(payload: string): Promise<PairingStep> {
    return completePairing(this.#s, await this.#s.me(), payload);
  }

  /**
   * Revokes a device: a signed, monotone `revoke` operation joins the registry (it travels with
   * every changeset; peers then refuse the device's changesets and stop relaying its changes),
   * and this device retires its own sync keys, so every changeset it makes from now on is sealed
   * under a fresh key wrapped only for the remaining members. Idempotent.
   */
  async revoke(deviceId: string): Promise<void> {
    return revokeDevice(this.#s, await this.#s.me(), deviceId);
  }

  // ---- changesets ----

  /**
   * A signed, encrypted, compressed changeset for `forDevice`: every change it does not hold
   * yet (by the version vector it last reported), or newer than `since` (a stamp for every
   * origin, or a vector). `SYNC_UNTRUSTED` for an unknown or revoked device.
   */
  async exportChanges(forDevice: string, since?: string | VersionVector, options: ExportOptions = {}): Promise<Buffer> {
    return exportChanges(this.#s, await this.#s.me(), forDevice, since, options);
  }

  /**
   * Verifies, decrypts and applies a changeset, in one transaction. Applying the same
   * changeset again changes nothing. `SYNC_UNTRUSTED`: unknown or revoked sender, or a bad
   * signature; `SYNC_KEY_UNAVAILABLE`: no key of this device opens it (e.g. it was revoked);
   * `CORRUPT`: damaged. A changeset from a newer schema is kept in quarantine
   * (`status: 'quarantined'`) and applied by {@link retryQuarantined} once this folder migrated.
   */
  async importChanges(bytes: Uint8Array): Promise<ImportResult> {
    return importChanges(this.#s, await this.#s.me(), bytes);
  }

  /**
   * Applies quarantined changesets whose schema this folder now has (done once per open by the
   * first sync call, too). Returns how many.
   */
  async retryQuarantined(): Promise<number> {
    await this.#s.me();
    return retryQuarantined(this.#s, (bytes) => this.importChanges(bytes));
  }

  /**
   * One sync round with a peer: exports what it lacks and sends it, then imports whatever the
   * transport delivered. Failures of single incoming changesets are collected, not thrown.
   */
  async syncWith(peer: SyncPeer, options: ExportOptions = {}): Promise<SyncRound> {
    return syncRound(
      peer,
      options,
      (id, o) => this.exportChanges(id, undefined, o),
      (bytes) => this.importChanges(bytes),
    );
  }

  /**
   * A ZeroMQ transport for this device on loopback or LAN: CURVE with the device's X25519 key
   * pair; peers' keys come from the registry. Closed with the data layer.
   */
  async zmqTransport(options: { bind?: string; sendTimeoutMs?: number } = {}): Promise<ZmqTransport> {
    return this.#transports.listen(this.#s, await this.#s.me(), options);
  }

  /**
   * A transport through a NATS JetStream relay (`JetStreamTransport`): changesets for a device
   * wait in the relay's stream until that device fetches them through its durable consumer, so
   * devices need not be online at once or on one network. Subjects carry only keyed-hash mailbox
   * ids; peers and revocations come from the signed registry at every call (a revoked device's
   * consumer is deleted, its later changesets dropped). Closed with the data layer.
   */
  async jetstreamTransport(options: JetStreamTransportOptions): Promise<JetStreamTransport> {
    return this.#relays.connect(this.#s, await this.#s.me(), options);
  }

  // ---- policies ----

  /** The policy of every synced table. */
  async policies(): Promise<Record<string, SyncMode>> {
    await this.#s.init();
    return tablePolicies(this.#s.sql);
  }

  /**
   * Sets when a table's changes travel: `immediate`, `batch` (due once `batchSize` are
   * pending), `on_demand` (only with `exportChanges(..., { onDemand: true })`) or `never` (not
   * captured at all). The registry and the conflict ledger always sync.
   */
  async setPolicy(table: string, mode: SyncMode): Promise<void> {
    await this.#s.init();
    return setTablePolicy(this.#s.sql, table, mode);
  }

  /**
   * Sets what a device receives (the registry's `sync_policy`, synced to every device): `full`,
   * `selective` (the critical tables only: users, preferences, memories, registry, ledger) or
   * `none` (registry and ledger only). Narrowing never makes the device skip changes for good:
   * widening again sends what it missed.
   */
  async setDevicePolicy(deviceId: string, policy: DeviceSyncPolicy): Promise<void> {
    await this.#s.me();
    return setDevicePolicy(this.#s.sql, deviceId, policy);
  }

  // ---- conflicts ----

  /** The conflict ledger (open entries by default). */
  async conflicts(options: { status?: 'open' | 'resolved' | 'all' } = {}): Promise<SyncConflict[]> {
    await this.#s.init();
    return listConflicts(this.#s.sql, options.status ?? 'open');
  }

  /**
   * Resolves a conflict: `{ keep: 'a' }` / `{ keep: 'b' }` writes that version back,
   * `{ keep: 'both' }` keeps the current row and adds the other version as a new row,
   * `{ merge: { content: ... } }` writes the given columns over the current row. The outcome is
   * a normal local change (it syncs); the ledger entry is marked resolved everywhere.
   */
  async resolve(conflictId: string, resolution: Resolution): Promise<{ rowId: string; addedRowId?: string }> {
    await this.#s.me();
    return resolveConflict(this.#s.sql, conflictId, resolution);
  }

  // ---- status ----

  /** What this device holds, owes its peers, and keeps aside. */
  async status(): Promise<SyncStatus> {
    await this.#s.init();
    return syncStatus(this.#s);
  }

  /** This device's version vector: per origin, the stamp up to which it holds every change. */
  async versionVector(): Promise<VersionVector> {
    return ownVector(this.#s.sql, (await this.#s.me()).deviceId);
  }
}
