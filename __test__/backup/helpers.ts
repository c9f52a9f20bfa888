import { openDataLayer, type DataLayer, type OpenDataLayerOptions } from '../../src/index.js';

export const PASSWORD = 'backup test password';
/** Distinctive plaintext put in every store: it must never appear in a backup file. */
export const CANARY = 'CANARY-backup-7f3a9c-never-in-the-file';
export const KV_CANARY = 'KVCANARY-51d0e2-sealed-value';
/** Fixed "now" of analytics reports, so two runs compare equal. */
export const NOW_MS = Date.UTC(2026, 10, 20);

/** Opens a data layer with the real engines (libSQL, DuckDB, RocksDB); no Chroma server. */
export function open(dir: string, extra: Partial<OpenDataLayerOptions> = {}): Promise<DataLayer> {
  return openDataLayer({ dir, password: PASSWORD, vectors: false, ...extra });
}

/** A user with `conversations` x `perConversation` exchanges, memories and KV entries. */
export async function seed(data: DataLayer, conversations = 3, perConversation = 10): Promise<void> {
  const { user } = await data.services.onboarding.onboardNewUser({ name: 'Ada' });
  const conversation = data.services.conversation;
  for (let c = 0; c < conversations; c++) {
    let conversationId: string | undefined;
    for (let i = 0; i < perConversation; i++) {
      const r = await conversation.processUserMessage(
        user.id,
        `message ${c}/${i} about jazz and ${CANARY}`,
        () => ({ content: `reply ${c}/${i} ${CANARY}`, sentimentScore: ((i % 5) - 2) / 2, model: 'test' }),
        { ...(conversationId ? { conversationId } : {}), recallLimit: 0 },
      );
      conversationId = r.conversation.id;
    }
  }
  for (let i = 0; i < 5; i++) {
    await data.memories.remember({ userId: user.id, type: 'semantic', content: `fact ${i}: likes jazz ${CANARY}`, importance: 0.5 + i / 10 });
  }
  for (let i = 0; i < 50; i++) data.kv.putJson('config', `seed:${String(i).padStart(3, '0')}`, { i, note: KV_CANARY });
  await data.outbox?.drain();
}

/** Query results that must survive a backup/restore or a key rotation unchanged. */
export async function snapshotOf(data: DataLayer): Promise<Record<string, unknown>> {
  const tables = ['users', 'conversations', 'messages', 'memories'];
  const out: Record<string, unknown> = {};
  for (const t of tables) out[t] = await data.sql.queryRaw(`SELECT * FROM ${t} ORDER BY rowid`);
  out.search = await data.sql.queryRaw("SELECT rowid FROM messages_fts WHERE messages_fts MATCH 'jazz' ORDER BY rowid");
  const kv: Array<[string, unknown]> = [];
  for await (const [k, v] of data.kv.entries('config', { prefix: 'seed:' })) kv.push([k, JSON.parse(v.toString('utf8'))]);
  out.kv = kv;
  if (data.analytics) {
    await data.analytics.sync();
    out.dailyMetrics = await data.analytics.reports.dailyMetrics({ days: 30, nowMs: NOW_MS });
  }
  return out;
}

/** The `ticks` rows and KV `tick:` keys a concurrent writer adds. */
export async function ticksOf(data: DataLayer): Promise<{ sql: number[]; kv: number[] }> {
  const rows = (await data.sql.queryRaw('SELECT n FROM ticks ORDER BY n')) as Array<[number]>;
  const kv: number[] = [];
  for await (const [k] of data.kv.entries('config', { prefix: 'tick:' })) kv.push(Number(k.slice(5)));
  return { sql: rows.map((r) => r[0]), kv: kv.sort((a, b) => a - b) };
}

/** Writes ticks 1, 2, 3... to libSQL and RocksDB until `stop()`; resolves with how many. */
export function startWriter(data: DataLayer): { stop: () => Promise<number>; written: () => number } {
  let running = true;
  let n = 0;
  let done = 0;
  const loop = (async () => {
    while (running) {
      n++;
      await data.sql.execute('INSERT INTO ticks(n, body) VALUES (?, ?)', [n, `tick ${n} ${CANARY}`]);
      data.kv.put('config', `tick:${String(n).padStart(6, '0')}`, Buffer.from(`${n} ${KV_CANARY}`));
      done = n;
    }
  })();
  return {
    /** Ticks written to both stores so far. */
    written: () => done,
    stop: async () => {
      running = false;
      await loop;
      return n;
    },
  };
}

/** 1..n, the shape a consistent copy of an append-only sequence must have. */
export function prefix(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i + 1);
}
