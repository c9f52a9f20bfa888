/** Shared helpers of the sync tests: devices as real encrypted data folders. */
import { openDataLayer, type DataLayer, type OpenDataLayerOptions } from '../../src/data-layer.js';
import { tempDir } from '../helpers/folders.js';

export const PASSWORD = 'correct horse battery staple';

const cleanups: (() => Promise<void> | void)[] = [];

/** Opens a fresh (or given) data folder with only the SQL store (no analytics, KV, vectors). */
export async function openDevice(name: string, dir?: string, extra: Partial<OpenDataLayerOptions> = {}): Promise<DataLayer> {
  let folder = dir;
  if (!folder) {
    const t = tempDir(`aico-sync-${name}-`);
    cleanups.push(t.cleanup);
    folder = t.dir;
  }
  const data = await openDataLayer({ dir: folder, password: PASSWORD, analytics: false, kv: false, vectors: false, outbox: false, ...extra });
  cleanups.unshift(() => data.close());
  return data;
}

/** Closes every device and removes every folder opened through {@link openDevice}. */
export async function cleanupDevices(): Promise<void> {
  for (const c of cleanups.splice(0)) await c();
}

/**
 * Pairs `joiner` into the group of `approver` with the full flow: offer, answer, reveal (the
 * joiner shows the code), the code typed on the approver, confirmation.
 */
export async function pairDevices(approver: DataLayer, joiner: DataLayer): Promise<void> {
  const offer = await joiner.sync.createPairingOffer();
  const answer = await approver.sync.pair(offer.payload);
  const reveal = await joiner.sync.completePairing(answer.payload!);
  const confirm = await approver.sync.pair(reveal.payload!, reveal.code);
  const done = await joiner.sync.completePairing(confirm.payload!);
  if (done.code !== confirm.code || done.code !== reveal.code) throw new Error('pairing codes differ');
}

/** Every synced row of the user-visible tables, in a stable order, local rowids left out. */
export async function snapshot(data: DataLayer): Promise<Record<string, unknown[]>> {
  const q = (sql: string) => data.sql.query(sql);
  return {
    users: await q(`SELECT id, name, nickname, user_type, is_active, created_at, updated_at, deleted_at FROM users ORDER BY id`),
    user_preferences: await q(`SELECT * FROM user_preferences ORDER BY user_id`),
    system_config: await q(`SELECT * FROM system_config ORDER BY key`),
    conversations: await q(`SELECT * FROM conversations ORDER BY id`),
    messages: await q(
      `SELECT id, conversation_id, user_id, role, content, created_at, sentiment, response_time_ms, model, prompt_tokens, completion_tokens, metadata, deleted_at
       FROM messages ORDER BY created_at, id`,
    ),
    memories: await q(
      `SELECT id, user_id, type, category, content, importance, confidence, is_immutable, valid_from, valid_to, source_conversation_id,
              source_message_id, embedding_model, embedding_dimension, metadata, created_at, updated_at, deleted_at FROM memories ORDER BY id`,
    ),
    devices: await q(`SELECT id, name, type, platform, hex(public_key) pk, hex(kex_public_key) kex, revoked_at FROM devices ORDER BY id`),
    conflicts: await q(`SELECT id, tbl, row_id, hlc_a, data_a, hlc_b, data_b, status, resolution FROM sync_conflicts ORDER BY id`),
    search: await q(`SELECT m.id FROM messages_fts f JOIN messages m ON m.seq = f.rowid WHERE messages_fts MATCH 'hello' ORDER BY m.id`),
  };
}
