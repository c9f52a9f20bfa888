import {
  DEVICE_TYPES,
  SYNC_POLICIES,
  TRUST_LEVELS,
  createDevice,
  type Device,
  type DeviceRepository,
} from '../../domain/index.js';
import type { DataAccessLayer } from '../../dal/index.js';
import type { Row } from '../../stores/sql/index.js';
import { checkEntity, requireId } from '../arguments.js';
import { DeviceLifecycle } from '../device-lifecycle.js';
import { notFound } from '../errors.js';
import { NOW_SQL, iso, isoOrNull, oneOf, toDate, toDateOrNull, toStringOrNull } from './columns.js';

const COLUMNS = 'id, user_id, name, type, platform, public_key, trust_level, sync_policy, last_seen_at, revoked_at, created_at';

function toDevice(r: Row): Device {
  return Object.freeze({
    id: r.id as string,
    userId: toStringOrNull(r.user_id),
    name: r.name as string,
    type: oneOf(r.type, DEVICE_TYPES, 'other'),
    platform: r.platform as string,
    publicKey: new Uint8Array(r.public_key as Uint8Array),
    trustLevel: oneOf(r.trust_level, TRUST_LEVELS, 'pending'),
    syncPolicy: oneOf(r.sync_policy, SYNC_POLICIES, 'full'),
    lastSeenAt: toDateOrNull(r.last_seen_at),
    revokedAt: toDateOrNull(r.revoked_at),
    createdAt: toDate(r.created_at),
  });
}

/** {@link DeviceRepository} over the `devices` table. */
export class LibsqlDeviceRepository extends DeviceLifecycle implements DeviceRepository {
  constructor(private readonly dal: DataAccessLayer) {
    super();
  }

  async register(device: Device): Promise<void> {
    const d = checkEntity(createDevice, device, 'device');
    await this.dal.execute(`INSERT INTO devices (${COLUMNS}, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, [
      d.id,
      d.userId,
      d.name,
      d.type,
      d.platform,
      d.publicKey,
      d.trustLevel,
      d.syncPolicy,
      isoOrNull(d.lastSeenAt),
      isoOrNull(d.revokedAt),
      iso(d.createdAt),
      iso(d.createdAt),
    ]);
  }

  async get(id: string): Promise<Device | undefined> {
    const row = await this.dal.fetchOne(`SELECT ${COLUMNS} FROM devices WHERE id = ?`, [requireId(id, 'id')]);
    return row && toDevice(row);
  }


  async listActive(): Promise<Device[]> {
    return (await this.dal.fetchAll(`SELECT ${COLUMNS} FROM devices WHERE revoked_at IS NULL ORDER BY created_at, id`)).map(toDevice);
  }

  /** Read, apply the domain rule, write back: in one transaction so no change is lost. */
  protected async change(id: string, apply: (d: Device) => Device): Promise<Device> {
    return this.dal.transaction(async (tx) => {
      const row = await tx.fetchOne(`SELECT ${COLUMNS} FROM devices WHERE id = ?`, [id]);
      if (!row) throw notFound('device', id);
      const next = apply(toDevice(row));
      await tx.execute(`UPDATE devices SET trust_level = ?, last_seen_at = ?, revoked_at = ?, updated_at = ${NOW_SQL} WHERE id = ?`, [
        next.trustLevel,
        isoOrNull(next.lastSeenAt),
        isoOrNull(next.revokedAt),
        id,
      ]);
      return next;
    });
  }
}
