/**
 * The device identity: Ed25519 + X25519 key pairs created once per data folder. Private keys
 * are stored only sealed under the data key (`sync/identity`, bound to the device id); they are
 * opened into memory for the life of the open data layer.
 */
import type { KeyObject } from 'node:crypto';
import type { SqlExecutor } from '../stores/sql/index.js';
import { deviceIdOf, generateDeviceKeys, privateDer, privateFromDer } from './crypto.js';

/** Sealing under keys derived from the data key (the `data.crypto` facade). */
export interface Sealer {
  seal(purpose: string, plaintext: Uint8Array, aad?: Uint8Array): Buffer;
  open(purpose: string, sealed: Uint8Array, aad?: Uint8Array): Buffer;
}

/** This device's identity, opened. */
export interface Identity {
  readonly deviceId: string;
  readonly signPublic: Buffer;
  readonly kexPublic: Buffer;
  readonly signPrivate: KeyObject;
  readonly kexPrivate: KeyObject;
}

const PURPOSE = 'sync/identity';

interface IdentityRow {
  device_id: string;
  sign_public: Uint8Array;
  kex_public: Uint8Array;
  sign_private: Uint8Array;
  kex_private: Uint8Array;
}

/** Loads the identity, or `undefined` when sync was never enabled on this folder. */
export async function loadIdentity(sql: SqlExecutor, sealer: Sealer): Promise<Identity | undefined> {
  const row = await sql.queryOne<IdentityRow>(`SELECT device_id, sign_public, kex_public, sign_private, kex_private FROM sync_identity WHERE id = 1`);
  if (!row) return undefined;
  const aad = Buffer.from(row.device_id);
  return {
    deviceId: row.device_id,
    signPublic: Buffer.from(row.sign_public),
    kexPublic: Buffer.from(row.kex_public),
    signPrivate: privateFromDer(sealer.open(`${PURPOSE}/sign`, row.sign_private, aad)),
    kexPrivate: privateFromDer(sealer.open(`${PURPOSE}/kex`, row.kex_private, aad)),
  };
}

/** Creates and stores a new identity (inside the caller's transaction). */
export async function createIdentity(tx: SqlExecutor, sealer: Sealer): Promise<Identity> {
  const keys = generateDeviceKeys();
  const deviceId = deviceIdOf(keys.signPublic);
  const aad = Buffer.from(deviceId);
  await tx.execute(
    `INSERT INTO sync_identity (id, device_id, sign_public, kex_public, sign_private, kex_private) VALUES (1, ?, ?, ?, ?, ?)`,
    [
      deviceId,
      keys.signPublic,
      keys.kexPublic,
      sealer.seal(`${PURPOSE}/sign`, privateDer(keys.signPrivate), aad),
      sealer.seal(`${PURPOSE}/kex`, privateDer(keys.kexPrivate), aad),
    ],
  );
  return { deviceId, ...keys };
}
