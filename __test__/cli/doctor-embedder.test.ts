/**
 * `doctor` says which embedder vectors use and why: the hashing default, with the local model
 * reported as verified when installed, and a warning naming the fetch script when it is not; the
 * detail names where the folder came from (here `AICO_DATA_MINILM_DIR`, so `source: env`).
 */
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDataLayer } from '../../src/index.js';
import { tempDir } from '../helpers/folders.js';
import { defaultMiniLmDir } from '../../src/stores/vectors/minilm-embedder.js';
import { ensureBuilt, json, runCli } from './helpers.js';

type Report = { checks: Array<{ name: string; status: string; detail: string }> };
const embedderCheck = (r: Report) => r.checks.find((c) => c.name === 'embedder')!;
const modelDir = defaultMiniLmDir();
const present = existsSync(join(modelDir, 'model.safetensors'));

describe('doctor and the embedder', () => {
  it('warns, naming the fetch script, when the model is not installed', async () => {
    await ensureBuilt();
    const c = embedderCheck(json<Report>(await runCli(['doctor', '--json'], { env: { AICO_DATA_MINILM_DIR: join(modelDir, 'absent') } })));
    expect(c.status).toBe('warn');
    expect(c.detail).toContain('hashing embedder');
    expect(c.detail).toContain('fetch-minilm.mjs');
    expect(c.detail).toContain('aico-data-model-minilm');
    expect(c.detail).toContain('source: env');
  }, 180_000);

  it.skipIf(!present)(`reports the installed model as verified${present ? '' : ` (skipped: no model at ${modelDir})`}`, async () => {
    await ensureBuilt();
    const c = embedderCheck(json<Report>(await runCli(['doctor', '--json'], { env: { AICO_DATA_MINILM_DIR: modelDir } })));
    expect(c.status).toBe('ok');
    expect(c.detail).toContain('all-MiniLM-L6-v2');
    expect(c.detail).toContain('verified');
    expect(c.detail).toContain('source: env');
  }, 180_000);

  it("an unlocked folder's `folder embedder` line names what its vectors use, read from libSQL (also without a KV store)", async () => {
    await ensureBuilt();
    const t = tempDir('doctor-folder-embedder-');
    const saved = process.env.AICO_DATA_EMBEDDER;
    try {
      const dir = join(t.dir, 'f');
      process.env.AICO_DATA_EMBEDDER = 'model';
      const data = await openDataLayer({ dir, password: 'doctor embedder pw', analytics: false, outbox: false });
      await data.vectors!.memories.count();
      await data.close();
      const env = { AICO_DATA_PASSWORD: 'doctor embedder pw', AICO_DATA_DIR: dir, AICO_DATA_MINILM_DIR: modelDir };
      const line = async () => json<Report>(await runCli(['doctor', '--json'], { env })).checks.find((c) => c.name === 'folder embedder');
      expect(await line()).toMatchObject({ detail: expect.stringMatching(/^all-MiniLM-L6-v2: the folder's vectors are made with all-MiniLM-L6-v2/) });
      rmSync(join(dir, 'kv'), { recursive: true, force: true });
      expect(await line()).toMatchObject({ detail: expect.stringMatching(/^all-MiniLM-L6-v2: /) });
    } finally {
      if (saved === undefined) delete process.env.AICO_DATA_EMBEDDER;
      else process.env.AICO_DATA_EMBEDDER = saved;
      t.cleanup();
    }
  }, 180_000);
});
