import { afterEach, describe, expect, it } from 'vitest';
import { createConversation, createMessage, createUser } from '../../src/domain/index.js';
import { filesContaining } from '../helpers/folders.js';
import { repositoryContract } from './contract.js';
import { openRepositories, type OpenedRepositories } from './helpers.js';

repositoryContract('libSQL (encrypted data folder)', async (options) => openRepositories(options));

describe('libSQL repositories on disk', () => {
  let opened: OpenedRepositories[] = [];
  afterEach(async () => {
    for (const o of opened.reverse()) await o.close().catch(() => undefined);
    opened = [];
  });

  it('persist across reopening, and nothing readable reaches the files', async () => {
    const first = await openRepositories();
    opened.push(first);
    const user = createUser({ name: 'Persistent Pat' });
    const chat = createConversation({ userId: user.id });
    const marker = 'zebra-marker-7f3a9c-plaintext';
    const m = createMessage({ conversationId: chat.id, userId: user.id, role: 'user', content: `secret ${marker}` });
    await first.repos.users.save(user);
    await first.repos.conversations.save(chat);
    await first.repos.conversations.saveMessage(m);
    const dir = first.dir;
    await first.data.close();

    expect(filesContaining(dir, marker)).toEqual([]);
    expect(filesContaining(dir, 'Persistent Pat')).toEqual([]);

    const again = await openRepositories({ dir });
    opened.push(again);
    expect(await again.repos.conversations.getMessage(m.id)).toEqual(m);
    expect((await again.repos.conversations.searchByContent(marker)).map((h) => h.item.id)).toEqual([m.id]);
  });

  it('uses the (user_id, created_at) index for message pages and the FTS index for search', async () => {
    const o = await openRepositories();
    opened.push(o);
    const plan = async (sql: string) =>
      (await o.data.sql.query<{ detail: string }>(`EXPLAIN QUERY PLAN ${sql}`, [])).map((r) => r.detail).join(' | ');
    const page = await plan(
      "SELECT id FROM messages WHERE user_id = 'u' AND deleted_at IS NULL AND created_at <= 'x' AND (created_at < 'x' OR id < 'y') ORDER BY created_at DESC, id DESC LIMIT 51",
    );
    expect(page).toMatch(/USING INDEX messages_user_created/);
    const search = await plan("SELECT m.id FROM messages_fts JOIN messages m ON m.seq = messages_fts.rowid WHERE messages_fts MATCH '\"a\"'");
    expect(search).toMatch(/VIRTUAL TABLE INDEX/);
  });
});
