import { TRUST_LEVELS, revokeDevice, touchDevice, trustDevice, type Device, type TrustLevel } from '../domain/index.js';
import { requireOneOf } from '../domain/validation.js';
import { optionalAt, requireId } from './arguments.js';

/**
 * The state changes of a device (trust, revoke, touch) shared by every implementation: the
 * domain decides the new state, the implementation reads and writes it atomically in `change`.
 */
export abstract class DeviceLifecycle {
  /** Reads device `id` (`NOT_FOUND` if unknown), applies `apply`, stores and returns the result, atomically. */
  protected abstract change(id: string, apply: (device: Device) => Device): Promise<Device>;

  async trust(id: string, level: TrustLevel = 'trusted'): Promise<Device> {
    requireOneOf(level, 'trustLevel', TRUST_LEVELS);
    return this.change(requireId(id, 'id'), (d) => trustDevice(d, level));
  }

  async revoke(id: string, at?: Date): Promise<Device> {
    const when = optionalAt(at);
    return this.change(requireId(id, 'id'), (d) => revokeDevice(d, when));
  }

  async touch(id: string, at?: Date): Promise<Device> {
    const when = optionalAt(at);
    return this.change(requireId(id, 'id'), (d) => touchDevice(d, when));
  }
}
