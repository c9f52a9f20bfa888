/**
 * `aico-data users`, and no false success for an unknown user: `forget-user`, `status --user`
 * and `recall --user` with an id that names no user exit 4 (NOT_FOUND), say so, and delete
 * nothing.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConversation, createMessage } from '../../src/domain/index.js';
import { openDataLayer } from '../../src/index.js';
import { tempDir } from '../helpers/folders.js';
import { ensureBuilt, json, runCli } from './helpers.js';

const PW = 'cli users password';
let tmp: ReturnType<typeof tempDir>;
let dir: string;
let ada: string;
let bo: string;
const env = () => ({ AICO_DATA_PASSWORD: PW, AICO_DATA_DIR: dir });
const NOBODY = 'no-such-user-0000';

beforeAll(async () => {
  await ensureBuilt();
  tmp = tempDir('aico-cli-users-');
  dir = join(tmp.dir, 'data');
  const data = await openDataLayer({ dir, password: PW, vectors: false });
  try {
    ada = (await data.services.onboarding.onboardNewUser({ name: 'Ada' })).user.id;
    bo = (await data.services.onboarding.onboardNewUser({ name: 'Bo' })).user.id;
    const chat = createConversation({ userId: bo });
    await data.repos.conversations.save(chat);
    for (let i = 0; i < 3; i++) await data.repos.conversations.saveMessage(createMessage({ conversationId: chat.id, userId: bo, role: 'user', content: `hi ${i}` }));
    await data.memories.remember({ userId: bo, type: 'preference', content: 'likes tea' });
  } finally {
    await data.close();
  }
}, 180_000);

afterAll(() => tmp?.cleanup());

describe('aico-data users', () => {
  it('lists every user with id, name, created, message and memory counts (--json and table)', async () => {
    const r = await runCli(['users', '--json'], { env: env() });
    expect(r.code, r.stderr).toBe(0);
    const users = json<Array<{ id: string; name: string; created: string; messages: number; memories: number }>>(r);
    expect(users.map((u) => u.id).sort()).toEqual([ada, bo].sort());
    const b = users.find((u) => u.id === bo)!;
    expect(b.name).toBe('Bo');
    expect(b.created).toMatch(/^\d{4}-\d\d-\d\d/);
    // Onboarding adds messages and memories of its own (Ada has only those): Bo has three and one more.
    const a = users.find((u) => u.id === ada)!;
    expect(b.messages).toBe(a.messages + 3);
    expect(b.memories).toBe(a.memories + 1);
    const table = await runCli(['users'], { env: env() });
    expect(table.code, table.stderr).toBe(0);
    for (const h of ['id', 'name', 'created', 'messages', 'memories', ada, bo, 'Ada', 'Bo']) expect(table.stdout).toContain(h);
  });
});

describe('an unknown user id is NOT_FOUND (exit 4), never a success', () => {
  it('forget-user deletes nothing and exits 4', async () => {
    const r = await runCli(['forget-user', NOBODY, '--yes'], { env: env() });
    expect(r.code, r.stdout + r.stderr).toBe(4);
    expect(r.stderr).toContain('error NOT_FOUND');
    expect(r.stderr).toContain(NOBODY);
    expect(r.stderr).toContain('aico-data users');
    expect(r.stdout).not.toContain('nothing left in any store');
    const users = json<Array<{ id: string }>>(await runCli(['users', '--json'], { env: env() }));
    expect(users).toHaveLength(2);
  });

  it('status --user exits 4 and says the id is no user', async () => {
    const r = await runCli(['status', '--user', NOBODY], { env: env() });
    expect(r.code, r.stdout + r.stderr).toBe(4);
    expect(r.stderr).toContain('error NOT_FOUND');
    expect(r.stderr).toContain(`no user "${NOBODY}"`);
  });

  it('recall --user exits 4', async () => {
    const r = await runCli(['recall', 'tea', '--user', NOBODY, '--keyword'], { env: env() });
    expect(r.code, r.stdout + r.stderr).toBe(4);
    expect(r.stderr).toContain(`no user "${NOBODY}"`);
    const ok = await runCli(['recall', 'tea', '--user', bo, '--keyword', '--json'], { env: env() });
    expect(ok.code, ok.stderr).toBe(0);
  });

  it('a known user still works: status --user exits 0', async () => {
    const r = await runCli(['status', '--user', ada, '--json'], { env: env() });
    expect(r.code, r.stderr).toBe(0);
    expect(json(r).userId).toBe(ada);
  });
});
