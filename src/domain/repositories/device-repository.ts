import type { Device, TrustLevel } from '../entities/device.js';

/** The registry of the user's devices. */
export interface DeviceRepository {
  /** Adds a device (`CONSTRAINT` if its id or public key is already registered). */
  register(device: Device): Promise<void>;
  get(id: string): Promise<Device | undefined>;
  /** Raises or lowers its trust. `NOT_FOUND` if unknown, `CONFLICT` if revoked. */
  trust(id: string, level?: TrustLevel): Promise<Device>;
  /** Revokes it for good (idempotent: revoking again keeps the first time). `NOT_FOUND` if unknown. */
  revoke(id: string, at?: Date): Promise<Device>;
  /** Records that the device was seen. `NOT_FOUND` if unknown, `CONFLICT` if revoked. */
  touch(id: string, at?: Date): Promise<Device>;
  /** Devices not revoked, oldest first. */
  listActive(): Promise<Device[]>;
}
