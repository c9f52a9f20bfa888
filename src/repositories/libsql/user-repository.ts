import { USER_TYPES, createUser, type User, type UserRepository } from '../../domain/index.js';
import type { DataAccessLayer } from '../../dal/index.js';
import type { Row } from '../../stores/sql/index.js';
import { checkEntity, requireId } from '../arguments.js';
import { iso, oneOf, toDate, toStringOrNull } from './columns.js';

const COLUMNS = 'id, name, nickname, user_type, is_active, created_at, updated_at';

function toUser(r: Row): User {
  return Object.freeze({
    id: r.id as string,
    name: r.name as string,
    nickname: toStringOrNull(r.nickname),
    userType: oneOf(r.user_type, USER_TYPES, 'member'),
    isActive: r.is_active === 1,
    createdAt: toDate(r.created_at),
    updatedAt: toDate(r.updated_at),
  });
}

/** {@link UserRepository} over the `users` table. */
export class LibsqlUserRepository implements UserRepository {
  constructor(private readonly dal: DataAccessLayer) {}

  async save(user: User): Promise<void> {
    const u = checkEntity(createUser, user, 'user');
    await this.dal.execute(
      `INSERT INTO users (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET name = excluded.name, nickname = excluded.nickname, user_type = excluded.user_type,
         is_active = excluded.is_active, updated_at = excluded.updated_at, deleted_at = NULL`,
      [u.id, u.name, u.nickname, u.userType, u.isActive ? 1 : 0, iso(u.createdAt), iso(u.updatedAt)],
    );
  }

  async get(id: string): Promise<User | undefined> {
    const row = await this.dal.fetchOne(`SELECT ${COLUMNS} FROM users WHERE id = ? AND deleted_at IS NULL`, [requireId(id, 'id')]);
    return row && toUser(row);
  }

  async list(options: { readonly activeOnly?: boolean } = {}): Promise<User[]> {
    const active = options?.activeOnly === true ? ' AND is_active = 1' : '';
    const rows = await this.dal.fetchAll(`SELECT ${COLUMNS} FROM users WHERE deleted_at IS NULL${active} ORDER BY created_at, id`);
    return rows.map(toUser);
  }

  async delete(id: string): Promise<boolean> {
    // ON DELETE CASCADE removes preferences, conversations, messages and memories with it.
    const r = await this.dal.execute('DELETE FROM users WHERE id = ?', [requireId(id, 'id')]);
    return r.changes > 0;
  }
}
