/**
 * Issue 21, the tamper matrix: for every file a populated data folder holds (enumerated at run
 * time, so files added by later versions are covered too), three damages: flip the middle byte,
 * truncate to half, delete. Each case must end in one of:
 *
 * - `opens`: the folder opens, every primary record (libSQL: users, conversations, messages)
 *   reads back, analytics answers from libSQL (never "table does not exist"), and the damage is
 *   either harmless (the KV values read back equal) or reported (`degradations()` non-empty);
 * - `typed error`: `openDataLayer` rejects with an `AicoDataError` whose message or hint names
 *   the damaged file (or its store's folder) and the command that fixes it (`aico-data repair`,
 *   or restoring a backup for the primary store and the key file).
 *
 * Anything else (a non-typed error, an open that silently lost primary data or served wrong KV
 * values without a degradation) is a failure. The table goes to results/tamper-matrix.md.
 * Chroma is off (`vectors: false`): its index is derived and has its own reset path (tamper.test.ts).
 */
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConversation, createMessage } from '../../src/domain/index.js';
import { isAicoError, openDataLayer, type DataLayer, type OpenDataLayerOptions } from '../../src/index.js';
import { tempDir } from '../helpers/folders.js';

const PASSWORD = 'tamper matrix password';
const MESSAGES = 30;
const DAMAGES = ['flip', 'truncate', 'delete'] as const;
type Damage = (typeof DAMAGES)[number];

interface Row {
  file: string;
  damage: Damage;
  outcome: 'opens (harmless)' | 'opens (degraded)' | 'typed error' | 'FAIL';
  detail: string;
}

const t = tempDir('tamper-matrix-');
const template = join(t.dir, 'template');
const expected = { messageIds: [] as string[], config: new Map<string, string>() };
const rows: Row[] = [];

/** Every regular file under `dir`, relative, sorted (RocksDB's LOCK included: it is a file the folder holds). */
function filesOf(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) out.push(relative(dir, p));
    }
  };
  walk(dir);
  return out.sort();
}

function damage(path: string, how: Damage): void {
  if (how === 'delete') {
    rmSync(path);
    return;
  }
  const size = statSync(path).size;
  if (how === 'truncate') {
    truncateSync(path, Math.floor(size / 2));
    return;
  }
  if (size === 0) return; // nothing to flip: the case still runs (as a no-op damage)
  const bytes = readFileSync(path);
  bytes[Math.floor(size / 2)]! ^= 0xff;
  writeFileSync(path, bytes);
}

/** What the case's error must name: the file itself, or for a KV file its store folder. */
function names(message: string, rel: string): boolean {
  return message.includes(basename(rel)) || (rel.startsWith('kv/') && /[/\\]kv\b/.test(message));
}

const FIX = /aico-data repair|repairKv|restore|backup/i;

async function check(data: DataLayer): Promise<{ ok: boolean; harmless: boolean; detail: string }> {
  const found = await data.sql.query<{ id: string }>(`SELECT id FROM messages ORDER BY id`);
  const ids = found.map((r) => r.id);
  const want = [...expected.messageIds].sort();
  if (ids.length !== want.length || ids.some((id, i) => id !== want[i])) {
    return { ok: false, harmless: false, detail: `primary data lost: ${ids.length}/${want.length} messages` };
  }
  // Read before the first query: the analytics rebuild clears its entry once done.
  const degradations = data.degradations();
  // Analytics answers from libSQL whatever happened to its snapshot.
  const [{ n } = { n: -1 }] = (await data.analytics!.query<{ n: number }>('SELECT count(*) AS n FROM messages')) as { n: number }[];
  if (Number(n) !== want.length) return { ok: false, harmless: false, detail: `analytics counted ${n} messages, not ${want.length}` };
  let kvSame = true;
  try {
    for (const [k, v] of expected.config) if (data.kv.get('config', k)?.toString() !== v) kvSame = false;
  } catch (e) {
    if (!(isAicoError(e) && e.code === 'CORRUPT')) return { ok: false, harmless: false, detail: `kv threw ${String(e)}` };
    kvSame = false;
  }
  // A damaged SST block fails its checksum only when read: the store then reports it too.
  const all = [...degradations, ...data.degradations().filter((d) => !degradations.some((x) => x.store === d.store))];
  if (all.length > 0) return { ok: true, harmless: false, detail: all.map((d) => `${d.store}: ${d.mode}`).join('; ') };
  if (!kvSame) return { ok: false, harmless: false, detail: 'KV values differ and no degradation was reported' };
  return { ok: true, harmless: true, detail: 'everything reads back' };
}

beforeAll(async () => {
  const data = await openDataLayer({ dir: template, password: PASSWORD, vectors: false, kv: { writeBufferMiB: 1 } } as OpenDataLayerOptions);
  try {
    const { user } = await data.services.onboarding.onboardNewUser({ name: 'matrix' });
    const conversation = createConversation({ userId: user.id });
    await data.repos.conversations.save(conversation);
    for (let i = 0; i < MESSAGES; i++) {
      const m = createMessage({ conversationId: conversation.id, userId: user.id, role: 'user', content: `matrix message ${i}` });
      await data.repos.conversations.saveMessage(m);
    }
    // Every message the folder holds (onboarding writes some of its own).
    for (const r of await data.sql.query<{ id: string }>(`SELECT id FROM messages`)) expected.messageIds.push(r.id);
    for (let i = 0; i < 20; i++) {
      data.kv.put('config', `c${i}`, Buffer.from(`value ${i}`));
      expected.config.set(`c${i}`, `value ${i}`);
    }
    data.kv.queue.enqueue('jobs', Buffer.from('job'));
    await data.outbox?.drain();
    await data.analytics?.sync();
  } finally {
    await data.close();
  }
}, 120_000);

afterAll(() => {
  const lines = [
    '# Tamper matrix (issue 21)',
    '',
    `Generated by \`__test__/reliability/tamper-matrix.test.ts\` on ${new Date().toISOString()}: every file of a populated folder (vectors off), three damages each.`,
    '',
    '| file | damage | outcome | detail |',
    '|---|---|---|---|',
    ...rows.map((r) => `| \`${r.file}\` | ${r.damage} | ${r.outcome} | ${r.detail.replace(/\|/g, '\\|').replace(/\n/g, ' ').slice(0, 200)} |`),
    '',
  ];
  const out = fileURLToPath(new URL('./results/tamper-matrix.md', import.meta.url));
  mkdirSync(dirname(out), { recursive: true });
  if (rows.length > 0) writeFileSync(out, lines.join('\n'));
  t.cleanup();
});

describe('tamper matrix: every file x flip / truncate / delete', () => {
  it('each case opens with all primary data and a reported degradation, or fails typed naming the file and the fix', async () => {
    const files = filesOf(template);
    expect(files).toContain('aico.db');
    expect(files.some((f) => f.startsWith('kv/'))).toBe(true);
    for (const file of files) {
      for (const how of DAMAGES) {
        const dir = join(t.dir, `case-${rows.length}`);
        cpSync(template, dir, { recursive: true });
        damage(join(dir, file), how);
        let row: Row;
        let data: DataLayer | undefined;
        try {
          data = await openDataLayer({ dir, password: PASSWORD, create: false, vectors: false, analytics: { onEvent: () => undefined } } as OpenDataLayerOptions);
          const c = await check(data);
          row = { file, damage: how, outcome: c.ok ? (c.harmless ? 'opens (harmless)' : 'opens (degraded)') : 'FAIL', detail: c.detail };
        } catch (e) {
          if (!isAicoError(e)) row = { file, damage: how, outcome: 'FAIL', detail: `untyped: ${String(e)}` };
          else {
            const text = `${e.message} ${e.hint}`;
            const ok = names(text, file) && FIX.test(text);
            row = { file, damage: how, outcome: ok ? 'typed error' : 'FAIL', detail: `${e.code}: ${e.message} (hint: ${e.hint})` };
          }
        } finally {
          await data?.close().catch(() => undefined);
          rmSync(dir, { recursive: true, force: true });
        }
        rows.push(row);
      }
    }
    const failed = rows.filter((r) => r.outcome === 'FAIL');
    expect(failed.map((r) => `${r.file} ${r.damage}: ${r.detail}`)).toEqual([]);
  }, 600_000);
});
