/**
 * `memories`: what the companion remembers about a user (upstream `user_memories`: fact_type ->
 * `type`, valid_until -> `valid_to`). `seq` is the stable rowid full-text search indexes by.
 */
import { registerSchema } from '../decorator.js';
import type { SchemaVersion } from '../types.js';
import { NOW } from './sql.js';

@registerSchema('memories', 'core', { priority: 40, dependsOn: ['users', 'conversations'], description: 'long-term memories' })
export class MemoriesSchema {
  static readonly versions: readonly SchemaVersion[] = [
    {
      version: 1,
      name: 'create_memories',
      up: [
        `CREATE TABLE memories (
          seq                    INTEGER PRIMARY KEY,
          id                     TEXT NOT NULL UNIQUE,
          user_id                TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
          type                   TEXT NOT NULL,
          category               TEXT,
          content                TEXT NOT NULL,
          importance             REAL NOT NULL DEFAULT 0.5 CHECK (importance >= 0.0 AND importance <= 1.0),
          confidence             REAL NOT NULL DEFAULT 1.0 CHECK (confidence >= 0.0 AND confidence <= 1.0),
          is_immutable           INTEGER NOT NULL DEFAULT 0 CHECK (is_immutable IN (0, 1)),
          valid_from             TEXT NOT NULL DEFAULT ${NOW},
          valid_to               TEXT,
          source_conversation_id TEXT REFERENCES conversations (id) ON DELETE SET NULL,
          source_message_id      TEXT REFERENCES messages (id) ON DELETE SET NULL,
          embedding_model        TEXT,
          embedding_dimension    INTEGER CHECK (embedding_dimension IS NULL OR embedding_dimension > 0),
          accessed_at            TEXT,
          access_count           INTEGER NOT NULL DEFAULT 0 CHECK (access_count >= 0),
          metadata               TEXT,
          created_at             TEXT NOT NULL DEFAULT ${NOW},
          updated_at             TEXT NOT NULL DEFAULT ${NOW},
          deleted_at             TEXT,
          CHECK (valid_to IS NULL OR valid_to >= valid_from)
        )`,
        `CREATE INDEX memories_user_type ON memories (user_id, type)`,
        `CREATE INDEX memories_user_importance ON memories (user_id, importance DESC) WHERE deleted_at IS NULL`,
        `CREATE INDEX memories_source_message ON memories (source_message_id)`,
        `CREATE INDEX memories_source_conversation ON memories (source_conversation_id)`,
      ],
      down: ['DROP TABLE memories'],
    },
  ];
}
