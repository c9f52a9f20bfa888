/**
 * Every statement sync runs on the core `devices` table, in one place. That table is synced
 * last-writer-wins display data (names, `sync_policy`, a `revoked_at` mirror): trust never reads
 * it (see `registry.ts`). Sync cannot use `repos.devices`: the layer table forbids sync to import
 * repositories or domain, and the repository knows neither `kex_public_key` nor capture.
 */
import { invalidArgument } from '../errors.js';
import type { SqlExecutor } from '../stores/sql/index.js';
import type { SignedCard } from './registry.js';
import { fromB64u } from './crypto.js';
import type { DeviceSyncPolicy } from './tables.js';

/** A device of the registry. */
export interface SyncDevice {
  readonly id: string;
  readonly name: string;
  readonly type: string;
  readonly platform: string;
  readonly trustLevel: string;
  readonly self: boolean;
  readonly revokedAt: string | null;
  readonly lastSeenAt: string | null;
  readonly signPublicKey: Buffer;
  readonly kexPublicKey: Buffer | null;
}

/** A `devices` row as sync reads it. */
export interface DeviceRow {
  id: string;
  name: string;
  type: string;
  platform: string;
  trust_level: string;
  revoked_at: string | null;
  last_seen_at: string | null;
  public_key: Uint8Array;
  kex_public_key: Uint8Array | null;
}

/** How a device describes itself (its card and its own row). */
export interface DeviceInfo {
  readonly name: string;
  readonly type: string;
  readonly platform: string;
}

/** A device id: 32 hex characters (derived from the signing key). */
export const DEVICE_ID = /^[0-9a-f]{32}$/;

export function checkDeviceId(id: unknown, what = 'deviceId'): string {
  if (typeof id !== 'string' || !DEVICE_ID.test(id)) throw invalidArgument(`${what} must be a device id (32 hex characters)`);
  return id;
}

/** The registry as the facade shows it, oldest first. */
export async function listDevices(sql: SqlExecutor, self: string): Promise<SyncDevice[]> {
  const rows = await sql.query<DeviceRow>(`SELECT id, name, type, platform, trust_level, revoked_at, last_seen_at, public_key, kex_public_key FROM devices ORDER BY created_at, id`);
  return rows.map((r) => ({
    id: r.id,
    name: r.name,
    type: r.type,
    platform: r.platform,
    trustLevel: r.trust_level,
    self: r.id === self,
    revokedAt: r.revoked_at,
    lastSeenAt: r.last_seen_at,
    signPublicKey: Buffer.from(r.public_key),
    kexPublicKey: r.kex_public_key ? Buffer.from(r.kex_public_key) : null,
  }));
}

/** The name, type and platform a device's row holds, if it has one. */
export async function deviceInfo(sql: SqlExecutor, id: string): Promise<DeviceInfo | undefined> {
  return (await sql.queryOne<DeviceRow>(`SELECT name, type, platform FROM devices WHERE id = ?`, [id])) ?? undefined;
}

/** This device's own row, written once by `enable()`. */
export async function insertOwnDevice(tx: SqlExecutor, id: string, info: DeviceInfo, signPublic: Uint8Array, kexPublic: Uint8Array): Promise<void> {
  await tx.execute(`INSERT INTO devices (id, name, type, platform, public_key, kex_public_key, trust_level) VALUES (?, ?, ?, ?, ?, ?, 'owner')`, [
    id,
    info.name,
    info.type,
    info.platform,
    signPublic,
    kexPublic,
  ]);
}

/** A device paired just now: its card becomes a `trusted` row (or an existing row is raised). */
export async function insertTrustedDevice(tx: SqlExecutor, c: SignedCard): Promise<void> {
  await tx.execute(
    `INSERT INTO devices (id, name, type, platform, public_key, kex_public_key, trust_level) VALUES (?, ?, ?, ?, ?, ?, 'trusted')
     ON CONFLICT (id) DO UPDATE SET trust_level = 'trusted'`,
    [c.id, c.name, c.type, c.platform, fromB64u(c.sign, 'sign'), fromB64u(c.kex, 'kex')],
  );
}

/** The other devices with their keys, for vouching once for a folder paired before the signed registry. */
export async function otherDevices(tx: SqlExecutor, self: string): Promise<DeviceRow[]> {
  return tx.query<DeviceRow>(`SELECT id, name, type, platform, public_key, kex_public_key, revoked_at FROM devices WHERE id != ?`, [self]);
}

/** The display column `revoked_at` of a device; undefined without a row. */
export async function revokedAtOf(tx: SqlExecutor, id: string): Promise<{ revoked_at: unknown } | undefined> {
  return (await tx.queryOne<{ revoked_at: unknown }>(`SELECT revoked_at FROM devices WHERE id = ?`, [id])) ?? undefined;
}

/** Devices a trusted peer introduced (still `pending`, not revoked) become `trusted`. */
export async function trustIntroducedDevices(tx: SqlExecutor): Promise<void> {
  await tx.execute(`UPDATE devices SET trust_level = 'trusted' WHERE trust_level = 'pending' AND revoked_at IS NULL`);
}

/** A revocation made here: the display column follows, as a normal (synced) change. */
export async function markRevoked(tx: SqlExecutor, id: string, at: string): Promise<void> {
  await tx.execute(`UPDATE devices SET revoked_at = ?, updated_at = ? WHERE id = ?`, [at, at, id]);
}

/** Corrects the display column to a signed revocation without capture (a local fix, not a change to relay). */
export async function projectRevokedAt(tx: SqlExecutor, id: string, at: string): Promise<void> {
  await tx.execute(`UPDATE sync_clock SET applying = 1 WHERE id = 1`);
  await tx.execute(`UPDATE devices SET revoked_at = ? WHERE id = ?`, [at, id]);
  await tx.execute(`UPDATE sync_clock SET applying = 0 WHERE id = 1`);
}

/** Records that a changeset of the device arrived. */
export async function touchDevice(tx: SqlExecutor, id: string, at: string): Promise<void> {
  await tx.execute(`UPDATE devices SET last_seen_at = ? WHERE id = ?`, [at, id]);
}

/** What the device receives (`full` when it has no row). */
export async function deviceSyncPolicy(tx: SqlExecutor, id: string): Promise<DeviceSyncPolicy> {
  return (await tx.queryOne<{ sync_policy: DeviceSyncPolicy }>(`SELECT sync_policy FROM devices WHERE id = ?`, [id]))?.sync_policy ?? 'full';
}

/** Sets what the device receives; false when it has no row. */
export async function setDeviceSyncPolicy(sql: SqlExecutor, id: string, policy: DeviceSyncPolicy): Promise<boolean> {
  const r = await sql.execute(`UPDATE devices SET sync_policy = ?, updated_at = ? WHERE id = ?`, [policy, new Date().toISOString(), id]);
  return r.changes > 0;
}

/** The other unrevoked devices with their last exchange, for `status()`. */
export async function peerDevices(sql: SqlExecutor, self: string): Promise<{ id: string; name: string; last_import_at: string | null; last_export_at: string | null }[]> {
  return sql.query(
    `SELECT d.id, d.name, d.revoked_at, p.last_import_at, p.last_export_at FROM devices d LEFT JOIN sync_peers p ON p.device_id = d.id
     WHERE d.id != ? AND d.revoked_at IS NULL ORDER BY d.id`,
    [self],
  );
}

/** How many rows show a device as trusted and as revoked. */
export async function deviceCounts(sql: SqlExecutor): Promise<{ trusted: number; revoked: number }> {
  const n = async (where: string) => Number((await sql.queryOne<{ n: number }>(`SELECT count(*) AS n FROM devices WHERE ${where}`))?.n ?? 0);
  return { trusted: await n('revoked_at IS NULL'), revoked: await n('revoked_at IS NOT NULL') };
}

/** The X25519 keys the rows of these devices hold (display data: used only to find a revoked device's relay mailbox). */
export async function kexKeysOf(sql: SqlExecutor, ids: readonly string[]): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for (const id of ids) {
    const r = await sql.queryOne<{ kex_public_key: Uint8Array | null }>(`SELECT kex_public_key FROM devices WHERE id = ?`, [id]);
    if (r?.kex_public_key) out.set(id, Buffer.from(r.kex_public_key));
  }
  return out;
}
