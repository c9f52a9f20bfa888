import { AicoDataError, invalidArgument } from '../../errors.js';
import { identity } from './identity.js';
import { optionalDate, optionalId, requireDate, requireObject, requireOneOf, requireText, type DateInput } from '../validation.js';

export const DEVICE_TYPES = ['desktop', 'laptop', 'phone', 'tablet', 'server', 'other'] as const;
export type DeviceType = (typeof DEVICE_TYPES)[number];

export const TRUST_LEVELS = ['pending', 'trusted', 'owner'] as const;
/** `pending`: registered, not yet confirmed; `trusted`: may sync; `owner`: may also trust others. */
export type TrustLevel = (typeof TRUST_LEVELS)[number];

export const SYNC_POLICIES = ['full', 'selective', 'none'] as const;
/** What a device receives when it syncs. */
export type SyncPolicy = (typeof SYNC_POLICIES)[number];

/** A device of the user's federated network. Revocation is final. */
export interface Device {
  readonly id: string;
  /** The user who owns it, if known. */
  readonly userId: string | null;
  readonly name: string;
  readonly type: DeviceType;
  /** Operating system or runtime label, e.g. `linux`, `ios`. */
  readonly platform: string;
  /** The device's public key (e.g. a 32-byte Ed25519 key); unique across devices. */
  readonly publicKey: Uint8Array;
  readonly trustLevel: TrustLevel;
  readonly syncPolicy: SyncPolicy;
  readonly lastSeenAt: Date | null;
  readonly revokedAt: Date | null;
  readonly createdAt: Date;
}

export interface NewDevice {
  readonly id?: string;
  readonly userId?: string | null;
  readonly name: string;
  readonly type?: DeviceType;
  readonly platform: string;
  readonly publicKey: Uint8Array;
  readonly trustLevel?: TrustLevel;
  readonly syncPolicy?: SyncPolicy;
  readonly lastSeenAt?: DateInput | null;
  readonly revokedAt?: DateInput | null;
  readonly createdAt?: DateInput;
}

const PLATFORM = /^[a-z0-9][a-z0-9._-]{0,31}$/;
const MAX_PUBLIC_KEY_BYTES = 1024;

/** Validates `input` and fills defaults (a new id, type `other`, `pending`, `full` sync, now). */
export function createDevice(input: NewDevice): Device {
  const i = requireObject(input, 'device');
  const { id, createdAt } = identity(i);
  const platform = requireText(i.platform, 'platform', { max: 32 });
  if (!PLATFORM.test(platform)) {
    throw invalidArgument('platform must be a short lower-case label such as "linux"', { field: 'platform' });
  }
  if (!(i.publicKey instanceof Uint8Array) || i.publicKey.length === 0 || i.publicKey.length > MAX_PUBLIC_KEY_BYTES) {
    throw invalidArgument(`publicKey must be a non-empty Uint8Array of at most ${MAX_PUBLIC_KEY_BYTES} bytes`, { field: 'publicKey' });
  }
  return Object.freeze({
    id,
    userId: optionalId(i.userId, 'userId'),
    name: requireText(i.name, 'name', { max: 100 }),
    type: i.type === undefined ? 'other' : requireOneOf(i.type, 'type', DEVICE_TYPES),
    platform,
    publicKey: new Uint8Array(i.publicKey),
    trustLevel: i.trustLevel === undefined ? 'pending' : requireOneOf(i.trustLevel, 'trustLevel', TRUST_LEVELS),
    syncPolicy: i.syncPolicy === undefined ? 'full' : requireOneOf(i.syncPolicy, 'syncPolicy', SYNC_POLICIES),
    lastSeenAt: optionalDate(i.lastSeenAt, 'lastSeenAt'),
    revokedAt: optionalDate(i.revokedAt, 'revokedAt'),
    createdAt,
  });
}

/** `device` with a new trust level; `CONFLICT` when it was revoked (revocation is final). */
export function trustDevice(device: Device, level: TrustLevel = 'trusted'): Device {
  const trustLevel = requireOneOf(level, 'trustLevel', TRUST_LEVELS);
  if (device.revokedAt) throw revokedError(device, 'trusted');
  return Object.freeze({ ...device, trustLevel });
}

/** `device` revoked at `at`; a revoked device keeps its first revocation time. */
export function revokeDevice(device: Device, at: Date = new Date()): Device {
  if (device.revokedAt) return device;
  return Object.freeze({ ...device, revokedAt: requireDate(at, 'at') });
}

/** `device` last seen at `at`; `CONFLICT` when it was revoked. */
export function touchDevice(device: Device, at: Date = new Date()): Device {
  if (device.revokedAt) throw revokedError(device, 'seen');
  return Object.freeze({ ...device, lastSeenAt: requireDate(at, 'at') });
}

function revokedError(device: Device, what: string): AicoDataError {
  return new AicoDataError('CONFLICT', `device ${device.id} was revoked and cannot be ${what}`, { field: 'id', id: device.id });
}
