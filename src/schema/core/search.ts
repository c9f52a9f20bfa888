/**
 * `search`: FTS5 full-text indexes over `messages.content` and `memories.content`, external
 * content tables keyed by the stable `seq` rowid and kept in sync by triggers.
 *
 * A component of its own so that a build without FTS5 can leave it out (unregister it before
 * open). Soft-deleted rows stay indexed: join back and filter on `deleted_at`.
 */
import { registerSchema } from '../decorator.js';
import type { SchemaVersion } from '../types.js';

function ftsFor(table: 'messages' | 'memories'): { up: string[]; down: string[] } {
  const fts = `${table}_fts`;
  return {
    up: [
      `CREATE VIRTUAL TABLE ${fts} USING fts5(content, content='${table}', content_rowid='seq', tokenize='unicode61 remove_diacritics 2')`,
      `CREATE TRIGGER ${fts}_ai AFTER INSERT ON ${table} BEGIN
         INSERT INTO ${fts} (rowid, content) VALUES (new.seq, new.content);
       END`,
      `CREATE TRIGGER ${fts}_ad AFTER DELETE ON ${table} BEGIN
         INSERT INTO ${fts} (${fts}, rowid, content) VALUES ('delete', old.seq, old.content);
       END`,
      `CREATE TRIGGER ${fts}_au AFTER UPDATE OF content ON ${table} BEGIN
         INSERT INTO ${fts} (${fts}, rowid, content) VALUES ('delete', old.seq, old.content);
         INSERT INTO ${fts} (rowid, content) VALUES (new.seq, new.content);
       END`,
      `INSERT INTO ${fts} (${fts}) VALUES ('rebuild')`,
    ],
    down: [`DROP TRIGGER ${fts}_au`, `DROP TRIGGER ${fts}_ad`, `DROP TRIGGER ${fts}_ai`, `DROP TABLE ${fts}`],
  };
}

const messages = ftsFor('messages');
const memories = ftsFor('memories');

@registerSchema('search', 'core', { priority: 90, dependsOn: ['conversations', 'memories'], description: 'FTS5 full-text search' })
export class SearchSchema {
  static readonly versions: readonly SchemaVersion[] = [
    {
      version: 1,
      name: 'fts_messages_memories',
      description: 'FTS5 over message and memory content, synced by triggers',
      up: [...messages.up, ...memories.up],
      down: [...memories.down, ...messages.down],
    },
  ];
}
