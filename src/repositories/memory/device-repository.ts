import { createDevice, type Device, type DeviceRepository } from '../../domain/index.js';
import { checkEntity, requireId } from '../arguments.js';
import { DeviceLifecycle } from '../device-lifecycle.js';
import { notFound } from '../errors.js';
import { constraintError, type MemorySession } from './database.js';

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** {@link DeviceRepository} in memory. */
export class InMemoryDeviceRepository extends DeviceLifecycle implements DeviceRepository {
  constructor(private readonly session: MemorySession) {
    super();
  }

  async register(device: Device): Promise<void> {
    const d = checkEntity(createDevice, device, 'device');
    await this.session.write((t) => {
      if (t.devices.has(d.id)) throw constraintError(`UNIQUE constraint failed: devices.id ${d.id}`);
      for (const other of t.devices.values()) {
        if (sameBytes(other.publicKey, d.publicKey)) throw constraintError('UNIQUE constraint failed: devices.public_key');
      }
      if (d.userId !== null && !t.users.has(d.userId)) throw constraintError(`FOREIGN KEY constraint failed: user ${d.userId} does not exist`);
      t.devices.set(d.id, d);
    });
  }

  async get(id: string): Promise<Device | undefined> {
    return this.session.tables.devices.get(requireId(id, 'id'));
  }


  async listActive(): Promise<Device[]> {
    return [...this.session.tables.devices.values()]
      .filter((d) => d.revokedAt === null)
      .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  protected async change(id: string, apply: (d: Device) => Device): Promise<Device> {
    return this.session.write((t) => {
      const current = t.devices.get(id);
      if (!current) throw notFound('device', id);
      const next = apply(current);
      t.devices.set(id, next);
      return next;
    });
  }
}
