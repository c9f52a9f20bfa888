/**
 * `aico-data backup` while another process holds the folder: the KV store cannot be
 * checkpointed from a read-only follower, so the command fails with LOCKED (exit 5) and says
 * what to do instead; `--skip-kv` then backs up libSQL (read through the WAL, including rows
 * the other process just committed) and the key file, and that backup restores.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/folders.js';
import { ensureBuilt, json, ROOT, runCli } from './helpers.js';

const PW = 'cli backup locked password';
let tmp: ReturnType<typeof tempDir>;
let dir: string;
let holder: ChildProcess | undefined;
const env = () => ({ AICO_DATA_PASSWORD: PW, AICO_DATA_DIR: dir });
const tsx = join(createRequire(import.meta.url).resolve('tsx/package.json'), '..', 'dist', 'cli.mjs');

/** A second process that opens the folder, writes 20 messages and keeps it open until stdin closes. */
const HOLDER = `
import { openDataLayer } from ${JSON.stringify(join(ROOT, 'src', 'index.ts'))};
import { createConversation, createMessage } from ${JSON.stringify(join(ROOT, 'src', 'domain', 'index.ts'))};
const data = await openDataLayer({ dir: process.argv[2], password: process.env.PW, vectors: false });
const { user } = await data.services.onboarding.onboardNewUser({ name: 'Holder' });
const chat = createConversation({ userId: user.id });
await data.repos.conversations.save(chat);
for (let i = 0; i < 20; i++) await data.repos.conversations.saveMessage(createMessage({ conversationId: chat.id, userId: user.id, role: 'user', content: 'held ' + i }));
data.kv.putJson('config', 'k', { v: 1 });
process.stdout.write('ready\\n');
process.stdin.resume();
process.stdin.on('end', async () => { await data.close(); process.exit(0); });
`;

beforeAll(async () => {
  await ensureBuilt();
  tmp = tempDir('aico-cli-backup-locked-');
  dir = join(tmp.dir, 'data');
  const script = join(tmp.dir, 'holder.mts');
  (await import('node:fs')).writeFileSync(script, HOLDER);
  holder = spawn(process.execPath, [tsx, script, dir], { cwd: ROOT, env: { ...process.env, PW }, stdio: ['pipe', 'pipe', 'inherit'] });
  // Wait for the child's "ready" line (it opened the folder and committed its rows).
  await new Promise<void>((resolveReady, reject) => {
    let seen = '';
    holder!.stdout!.on('data', (d: Buffer) => {
      seen += d.toString();
      if (seen.includes('ready')) resolveReady();
    });
    holder!.on('exit', (code) => reject(new Error(`holder exited ${code} before it was ready`)));
  });
}, 180_000);

afterAll(async () => {
  if (holder && holder.exitCode === null) {
    const done = new Promise((r) => holder!.on('exit', r));
    holder.stdin!.end();
    await done;
  }
  tmp?.cleanup();
});

describe('backup while another process holds the folder', () => {
  it('fails with LOCKED (exit 5) and names what to do instead; writes no file', async () => {
    const file = join(tmp.dir, 'held.aicobak');
    const r = await runCli(['backup', file], { env: env() });
    expect(r.code, r.stdout + r.stderr).toBe(5);
    expect(r.stderr).toContain('error LOCKED');
    expect(r.stderr).toContain('data.backup(file)');
    expect(r.stderr).toContain('--skip-kv');
    expect((await import('node:fs')).existsSync(file)).toBe(false);
    const help = await runCli(['backup', '--help']);
    expect(help.stdout).toContain('--skip-kv');
    expect(help.stdout).toContain('While another process (the app) has the folder open');
  });

  it('--skip-kv backs up libSQL (with the rows the other process committed) and the key file; it restores', async () => {
    const file = join(tmp.dir, 'skip-kv.aicobak');
    const r = await runCli(['backup', file, '--skip-kv', '--json'], { env: env() });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(json(r).file).toBe(file);
    const target = join(tmp.dir, 'restored');
    const restored = await runCli(['restore', file, '--dir', target], { env: { AICO_DATA_PASSWORD: PW } });
    expect(restored.code, restored.stdout + restored.stderr).toBe(0);
    const s = json(await runCli(['status', '--json', '--dir', target], { env: { AICO_DATA_PASSWORD: PW } }));
    expect(s.sql.rows.messages).toBeGreaterThanOrEqual(20);
  });
});
