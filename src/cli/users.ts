/**
 * Users as the CLI sees them: whether an id names a user of the folder (so that a command about
 * an unknown user fails with `NOT_FOUND` instead of reporting a false success), and the list
 * `aico-data users` prints.
 */
import type { DataLayer } from '../data-layer.js';
import { AicoDataError } from '../errors.js';

/** One row of `aico-data users`. */
export interface UserRow {
  id: string;
  name: string;
  created: string;
  deleted: string | null;
  messages: number;
  memories: number;
}

/** Every user of the folder (soft-deleted ones included), oldest first, with their counts. */
export async function listUsers(data: DataLayer): Promise<UserRow[]> {
  const rows = await data.sql.query<{ id: string; name: string; created_at: string; deleted_at: string | null; messages: number; memories: number }>(
    `SELECT u.id, u.name, u.created_at, u.deleted_at,
            (SELECT count(*) FROM messages m WHERE m.user_id = u.id) AS messages,
            (SELECT count(*) FROM memories r WHERE r.user_id = u.id) AS memories
     FROM users u ORDER BY u.created_at, u.id`,
  );
  return rows.map((r) => ({ id: r.id, name: r.name, created: r.created_at, deleted: r.deleted_at, messages: Number(r.messages), memories: Number(r.memories) }));
}

/** True when `id` is a row of `users` (soft-deleted users still exist). */
export async function userExists(data: DataLayer, id: string): Promise<boolean> {
  return (await data.sql.queryOne('SELECT 1 AS x FROM users WHERE id = ?', [id])) !== undefined;
}

/** The `NOT_FOUND` of an id that names no user, with the CLI command that lists the ids. */
export function unknownUser(id: string, extra = ''): AicoDataError {
  return new AicoDataError('NOT_FOUND', `no user ${JSON.stringify(id)} in this data folder${extra}`, {
    userId: id,
    fix: 'list the user ids with `aico-data users`',
  });
}

/** Throws {@link unknownUser} unless `id` names a user. */
export async function requireUser(data: DataLayer, id: string): Promise<void> {
  if (!(await userExists(data, id))) throw unknownUser(id);
}
