/**
 * The default embedder (issue 19 item 4): a folder without vectors gets the local model when it
 * is installed and the hashing embedder (with advice and a one-time warning) when it is not; a
 * folder keeps the embedder its vectors are made with (recorded in libSQL's local_state, and
 * hashing for folders that had vectors before the record existed), also when its KV cache is
 * damaged or rebuilt empty; `aico-data reembed` moves a folder to the model
 * and back, with progress, and the next open follows it.
 */
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDataLayer, type DataLayer } from '../../src/index.js';
import { defaultMiniLmDir } from '../../src/stores/vectors/minilm-embedder.js';
import { ensureBuilt, runCli } from '../cli/helpers.js';
import { tempDir } from '../helpers/folders.js';

const PW = 'default embedder password';
const modelDir = defaultMiniLmDir();
const present = existsSync(join(modelDir, 'model.safetensors'));
const required = process.env.AICO_DATA_REQUIRE_MODEL === '1';

let tmp: ReturnType<typeof tempDir>;
const saved = { embedder: process.env.AICO_DATA_EMBEDDER, dir: process.env.AICO_DATA_MINILM_DIR };
beforeEach(() => {
  tmp = tempDir('aico-default-embedder-');
  // The real choice, not the suite's pin.
  delete process.env.AICO_DATA_EMBEDDER;
});
afterEach(() => {
  for (const [k, v] of [['AICO_DATA_EMBEDDER', saved.embedder], ['AICO_DATA_MINILM_DIR', saved.dir]] as const) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  tmp.cleanup();
});

async function open(dir: string, extra: { analytics?: false } = {}): Promise<DataLayer> {
  return openDataLayer({ dir, password: PW, analytics: false, outbox: false, ...extra });
}

describe('the default embedder', () => {
  it('without the model: hashing, with advice and one warning per process', async () => {
    process.env.AICO_DATA_MINILM_DIR = join(tmp.dir, 'no-model-here');
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    try {
      const a = await open(join(tmp.dir, 'a'));
      const b = await open(join(tmp.dir, 'b'));
      expect(a.embedder).toMatchObject({ kind: 'hashing' });
      expect(a.embedder!.advice).toContain('aico-data-model-minilm');
      expect(a.vectors!.embedder.modelId).toBe('aico-hashing-ngrams-keyed');
      await a.close();
      await b.close();
      await new Promise((r) => setImmediate(r));
      expect(warnings.filter((w) => (w as { code?: string }).code === 'AICO_DATA_NO_MODEL')).toHaveLength(1);
    } finally {
      process.off('warning', onWarning);
    }
    // The choice is recorded: installing the model later does not switch a folder silently.
    if (present) {
      process.env.AICO_DATA_MINILM_DIR = modelDir;
      const again = await open(join(tmp.dir, 'a'));
      expect(again.embedder).toMatchObject({ kind: 'hashing' });
      expect(again.embedder!.advice).toContain('aico-data reembed');
      await again.close();
    }
  });

  it('a folder that had vectors before the record: hashing (what made them)', async () => {
    process.env.AICO_DATA_MINILM_DIR = modelDir;
    // An older version's folder: Chroma files, no record (the KV record is what this version adds).
    const dir = join(tmp.dir, 'legacy');
    const legacy = await openDataLayer({ dir, password: PW, analytics: false, outbox: false, vectors: false });
    await legacy.close();
    mkdirSync(join(dir, 'chroma'));
    const reopened = await open(dir);
    expect(reopened.embedder).toMatchObject({ kind: 'hashing' });
    expect(reopened.embedder!.why).toContain('before embedders were recorded');
    if (present) expect(reopened.embedder!.advice).toContain('aico-data reembed');
    await reopened.close();
  });

  it('the record survives a damaged KV store and one rebuilt empty; a record only KV holds (earlier versions) moves to libSQL', async () => {
    // Forced to the model (its files need not be here: it loads on the first embed).
    process.env.AICO_DATA_EMBEDDER = 'model';
    const dir = join(tmp.dir, 'kv-damage');
    const first = await open(dir);
    expect(first.embedder).toMatchObject({ kind: 'model' });
    await first.vectors!.memories.count(); // the collection exists: the folder has vectors
    await first.close();
    delete process.env.AICO_DATA_EMBEDDER;
    expect(existsSync(join(dir, 'chroma'))).toBe(true);
    const model = { kind: 'model', why: expect.stringContaining("the folder's vectors are made with all-MiniLM-L6-v2") };

    // Damaged KV (CURRENT names a manifest that does not exist): the layer opens degraded and
    // still knows that the vectors need the model.
    writeFileSync(join(dir, 'kv', 'CURRENT'), 'MANIFEST-999999\n');
    const damaged = await open(dir);
    expect(damaged.degradations().map((d) => d.store)).toEqual(['kv']);
    expect(damaged.embedder).toMatchObject(model);
    expect(damaged.vectors!.embedder.modelId).toBe('all-MiniLM-L6-v2');
    await damaged.close();

    // KV rebuilt empty (what `aico-data repair` leaves when nothing could be salvaged).
    rmSync(join(dir, 'kv'), { recursive: true, force: true });
    const rebuilt = await open(dir);
    expect(rebuilt.embedder).toMatchObject(model);
    expect(rebuilt.vectors!.embedder.modelId).toBe('all-MiniLM-L6-v2');

    // An earlier version's folder: the record only in KV's config namespace, none in libSQL.
    await rebuilt.sql.execute(`DELETE FROM local_state WHERE key = 'aico-data/vectors/embedder'`);
    rebuilt.kv.put('config', 'aico-data/vectors/embedder', Buffer.from(JSON.stringify({ modelId: 'all-MiniLM-L6-v2', version: '1', dimension: 384 })));
    await rebuilt.close();
    const legacy = await open(dir);
    expect(legacy.embedder).toMatchObject(model);
    expect(await legacy.sql.query(`SELECT value FROM local_state WHERE key = 'aico-data/vectors/embedder'`)).toEqual([{ value: JSON.stringify({ modelId: 'all-MiniLM-L6-v2', version: '1', dimension: 384 }) }]);
    // local_state is this device's own: sync's capture triggers watch system_config, not it.
    const triggers = await legacy.sql.query<{ tbl_name: string }>(`SELECT DISTINCT tbl_name FROM sqlite_schema WHERE type = 'trigger' AND tbl_name IN ('system_config', 'local_state')`);
    expect(triggers).toEqual([{ tbl_name: 'system_config' }]);
    await legacy.close();
  });

  it.skipIf(!present && !required)('with the model: new folders get it, and keep it; a missing model is UNAVAILABLE, not a silent switch', async () => {
    process.env.AICO_DATA_MINILM_DIR = modelDir;
    const dir = join(tmp.dir, 'm');
    const data = await open(dir);
    expect(data.embedder).toMatchObject({ kind: 'model' });
    expect(data.vectors!.embedder).toMatchObject({ modelId: 'all-MiniLM-L6-v2', dimension: 384 });
    const [v] = await data.vectors!.embedder.embed(['Ada loves green tea']);
    expect(v).toHaveLength(384);
    await data.close();
    // The model goes away: the folder still needs it, and says how to get it back.
    process.env.AICO_DATA_MINILM_DIR = join(tmp.dir, 'gone');
    const later = await open(dir);
    expect(later.embedder).toMatchObject({ kind: 'model' });
    await expect(later.vectors!.embedder.embed(['x'])).rejects.toMatchObject({ code: 'UNAVAILABLE', message: expect.stringContaining('all-MiniLM-L6-v2') });
    await later.close();
  });

  it.skipIf(!present && !required)('aico-data reembed moves a folder to the model and back, with progress; the next open follows', async () => {
    await ensureBuilt();
    const dir = join(tmp.dir, 'r');
    process.env.AICO_DATA_EMBEDDER = 'hashing';
    const data = await openDataLayer({ dir, password: PW, analytics: false });
    const user = (await data.services.onboarding.onboardNewUser({ name: 'Ada' })).user.id;
    await data.memories.rememberMany([
      { userId: user, type: 'preference', content: 'Ada loves green tea', importance: 0.5 },
      { userId: user, type: 'semantic', content: 'Ada repairs old bicycles on weekends', importance: 0.5 },
      { userId: user, type: 'semantic', content: 'Ada is learning Portuguese', importance: 0.5 },
    ]);
    expect(data.embedder).toMatchObject({ kind: 'hashing' });
    await data.close();
    delete process.env.AICO_DATA_EMBEDDER;

    const env = { AICO_DATA_PASSWORD: PW, AICO_DATA_DIR: dir, AICO_DATA_MINILM_DIR: modelDir, AICO_DATA_EMBEDDER: undefined };
    const r = await runCli(['reembed'], { env, timeoutMs: 300_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/memories: aico-hashing-ngrams-keyed@1 \(384 dims\) -> all-MiniLM-L6-v2@1 \(384 dims\): \d+ records embedded/);
    expect(r.stderr).toContain('reembed memories');
    // Run again: nothing to do.
    const again = await runCli(['reembed'], { env, timeoutMs: 300_000 });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('memories: already all-MiniLM-L6-v2@1');

    process.env.AICO_DATA_MINILM_DIR = modelDir;
    const moved = await openDataLayer({ dir, password: PW, analytics: false });
    expect(moved.embedder).toMatchObject({ kind: 'model' });
    const hits = await moved.vectors!.memories.query({ text: 'what should I offer her to drink?', nResults: 1 });
    expect(hits[0]?.text).toBe('Ada loves green tea');
    await moved.close();

    const back = await runCli(['reembed', '--hashing'], { env, timeoutMs: 300_000 });
    expect(back.code, back.stderr).toBe(0);
    expect(back.stdout).toContain('-> aico-hashing-ngrams-keyed@1');
    const hashed = await openDataLayer({ dir, password: PW, analytics: false });
    expect(hashed.embedder).toMatchObject({ kind: 'hashing' });
    expect(await hashed.vectors!.memories.count()).toBeGreaterThanOrEqual(3);
    await hashed.close();
  }, 600_000);
});
