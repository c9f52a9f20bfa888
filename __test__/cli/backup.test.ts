/**
 * `backup`, `restore` and `rotate-keys` through the command: a restored folder gives the same
 * query results, a tampered backup is refused (exit 6) without touching the target, a wrong
 * password is exit 3, and a key rotation keeps the data under a new key id.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConversation, createMessage } from '../../src/domain/index.js';
import { openDataLayer } from '../../src/index.js';
import { tempDir } from '../helpers/folders.js';
import { ensureBuilt, json, runCli } from './helpers.js';

const PW = 'cli backup password';
const CANARY = 'CLI-BACKUP-CANARY-7f3a';
const QUERY = 'SELECT id, role, content, sentiment FROM messages ORDER BY id';
let tmp: ReturnType<typeof tempDir>;
let dir: string;
let file: string;
const env = (d = dir) => ({ AICO_DATA_PASSWORD: PW, AICO_DATA_DIR: d });

beforeAll(async () => {
  await ensureBuilt();
  tmp = tempDir('aico-cli-backup-');
  dir = join(tmp.dir, 'data');
  file = join(tmp.dir, 'companion.aicobak');
  const data = await openDataLayer({ dir, password: PW });
  try {
    const { user } = await data.services.onboarding.onboardNewUser({ name: 'Backup Tester' });
    const chat = createConversation({ userId: user.id });
    await data.repos.conversations.save(chat);
    for (let i = 0; i < 50; i++) {
      await data.repos.conversations.saveMessage(createMessage({ conversationId: chat.id, userId: user.id, role: i % 2 ? 'assistant' : 'user', content: `${CANARY} ${i}`, sentimentScore: (i % 7) / 7 }));
    }
    data.kv.putJson('config', 'theme', { dark: true });
  } finally {
    await data.close();
  }
});
afterAll(() => tmp?.cleanup());

describe('backup and restore', () => {
  it('backup writes one file that holds no plaintext', async () => {
    const r = await runCli(['backup', file, '--json'], { env: env() });
    expect(r.code, r.stderr).toBe(0);
    const result = json(r);
    expect(result.file).toBe(file);
    expect(result.bytes).toBe(readFileSync(file).length);
    expect(readFileSync(file).includes(Buffer.from(CANARY))).toBe(false);
    const again = await runCli(['backup', file], { env: env() });
    expect(again.code).not.toBe(0);
    expect(again.stderr).toMatch(/^error [A-Z_]+: /m);
  });

  it('restore into a new folder gives the same query results', async () => {
    const target = join(tmp.dir, 'restored');
    const r = await runCli(['restore', file, '--dir', target, '--json'], { env: { AICO_DATA_PASSWORD: PW } });
    expect(r.code, r.stderr).toBe(0);
    expect(json(r).dir).toBe(target);
    const original = await runCli(['analytics', QUERY, '--json'], { env: env() });
    const restored = await runCli(['analytics', QUERY, '--json'], { env: env(target) });
    expect(restored.code, restored.stderr).toBe(0);
    expect(json(restored)).toEqual(json(original));
    expect(json(restored).length).toBeGreaterThanOrEqual(50);
    const a = json(await runCli(['status', '--json'], { env: env() }));
    const b = json(await runCli(['status', '--json'], { env: env(target) }));
    expect(b.sql.rows).toEqual(a.sql.rows);
    expect(b.keyId).toBe(a.keyId);
  });

  it('a tampered backup is refused with exit 6 and the target stays empty', async () => {
    const bad = join(tmp.dir, 'tampered.aicobak');
    const bytes = readFileSync(file);
    bytes[Math.floor(bytes.length / 2)]! ^= 0x01;
    writeFileSync(bad, bytes);
    const target = join(tmp.dir, 'from-tampered');
    const r = await runCli(['restore', bad, '--dir', target], { env: { AICO_DATA_PASSWORD: PW } });
    expect(r.code).toBe(6);
    expect(r.stderr).toContain('error CORRUPT:');
    expect(!existsSync(target) || readdirSync(target).length === 0).toBe(true);
  });

  it('a wrong password is exit 3 and restores nothing', async () => {
    const target = join(tmp.dir, 'wrong-password');
    const r = await runCli(['restore', file, '--dir', target], { env: { AICO_DATA_PASSWORD: 'not it' } });
    expect(r.code).toBe(3);
    expect(!existsSync(target) || readdirSync(target).length === 0).toBe(true);
  });
});

describe('rotate-keys', () => {
  it('needs --yes; then re-encrypts under a new key id and the data reads the same', async () => {
    const refused = await runCli(['rotate-keys'], { env: env() });
    expect(refused.code).toBe(2);
    const before = json(await runCli(['analytics', QUERY, '--json'], { env: env() }));
    const oldKey = json(await runCli(['status', '--json'], { env: env() })).keyId;
    const r = await runCli(['rotate-keys', '--yes', '--json'], { env: env() });
    expect(r.code, r.stderr).toBe(0);
    const result = json(r);
    expect(result.oldKeyId).toBe(oldKey);
    expect(result.newKeyId).not.toBe(oldKey);
    expect(json(await runCli(['status', '--json'], { env: env() })).keyId).toBe(result.newKeyId);
    expect(json(await runCli(['analytics', QUERY, '--json'], { env: env() }))).toEqual(before);
  });
});
