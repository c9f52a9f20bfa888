/**
 * `conversations` and `messages`.
 *
 * `messages.seq` is an INTEGER PRIMARY KEY (the rowid): full-text search indexes rows by rowid,
 * and only an explicit INTEGER PRIMARY KEY keeps rowids stable across VACUUM. `id` (UUID text)
 * is the identifier the rest of the system uses.
 */
import { registerSchema } from '../decorator.js';
import type { SchemaVersion } from '../types.js';
import { NOW } from './sql.js';

@registerSchema('conversations', 'core', { priority: 30, dependsOn: ['users'], description: 'conversations and their messages' })
export class ConversationsSchema {
  static readonly versions: readonly SchemaVersion[] = [
    {
      version: 1,
      name: 'create_conversations_messages',
      up: [
        `CREATE TABLE conversations (
          id         TEXT PRIMARY KEY NOT NULL,
          user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
          title      TEXT,
          status     TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'archived', 'closed')),
          metadata   TEXT,
          created_at TEXT NOT NULL DEFAULT ${NOW},
          updated_at TEXT NOT NULL DEFAULT ${NOW},
          ended_at   TEXT,
          deleted_at TEXT
        )`,
        `CREATE INDEX conversations_user_updated ON conversations (user_id, updated_at)`,
        `CREATE TABLE messages (
          seq               INTEGER PRIMARY KEY,
          id                TEXT NOT NULL UNIQUE,
          conversation_id   TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
          user_id           TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
          role              TEXT NOT NULL CHECK (role IN ('user', 'assistant', 'system', 'tool')),
          content           TEXT NOT NULL,
          created_at        TEXT NOT NULL DEFAULT ${NOW},
          sentiment         REAL CHECK (sentiment IS NULL OR (sentiment >= -1.0 AND sentiment <= 1.0)),
          response_time_ms  INTEGER CHECK (response_time_ms IS NULL OR response_time_ms >= 0),
          model             TEXT,
          prompt_tokens     INTEGER CHECK (prompt_tokens IS NULL OR prompt_tokens >= 0),
          completion_tokens INTEGER CHECK (completion_tokens IS NULL OR completion_tokens >= 0),
          metadata          TEXT,
          deleted_at        TEXT
        )`,
        `CREATE INDEX messages_conversation_created ON messages (conversation_id, created_at)`,
        `CREATE INDEX messages_user_created ON messages (user_id, created_at)`,
      ],
      down: ['DROP TABLE messages', 'DROP TABLE conversations'],
    },
  ];
}
