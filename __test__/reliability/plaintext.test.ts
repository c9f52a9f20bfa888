/**
 * Part 3, plaintext: a demo-sized workload writes canary strings into messages, memories,
 * preferences, KV values (cache, session, queue), analytics (synced and snapshotted) and Chroma
 * records; then every file under the data folder (while open, with the WALs, and after close),
 * every file created in `os.tmpdir()` during the run, and the backup file (when `data.backup`
 * exists) is scanned for the canaries in UTF-8, UTF-16LE, base64 and hex. Hits must be 0.
 */
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openDataLayer } from '../../src/index.js';
import { tempDir } from '../helpers/folders.js';
import { scale } from './lib/config.js';
import { report } from './lib/results.js';
import { encodings, filesSince, needlesIn } from './lib/scan.js';
import { vectorsOf, type OpenedVectors } from './lib/vectors.js';
import { writeWorkload } from './lib/workload.js';

const MESSAGES = scale(2_000, 50_000);
const t = tempDir('aico-rel-plain-');
afterAll(() => t.cleanup());

describe('plaintext: no canary reaches a file', () => {
  it(`a ${MESSAGES}-message workload leaves no canary in the data folder, temp files or the backup`, async () => {
    const started = Date.now() - 1_000;
    const canary = `CANARY${randomUUID().replace(/-/g, '')}`;
    const needles = encodings(canary);
    // Proves the scan can find a hit: a plaintext file written on purpose.
    const control = join(t.dir, 'control.txt');
    (await import('node:fs')).writeFileSync(control, `here: ${canary}`);
    expect(needlesIn(control, needles).length).toBeGreaterThan(0);

    const dir = join(t.dir, 'data');
    const data = await openDataLayer({ dir, password: 'plaintext test password' });
    let vectors: OpenedVectors | undefined;
    const hits: string[] = [];
    let scanned = 0;
    const scan = (files: string[]) => {
      for (const f of files) {
        if (f === control) continue;
        scanned++;
        for (const n of needlesIn(f, needles)) hits.push(`${f} (${n.length === canary.length ? 'utf8' : n.toString().slice(0, 8)})`);
      }
    };
    let backupNote = 'no backup file: data.backup does not exist yet';
    try {
      vectors = await vectorsOf(data);
      await writeWorkload(data, { messages: MESSAGES, memories: Math.ceil(MESSAGES / 20), kvValues: Math.ceil(MESSAGES / 4), vectors: 100, marker: canary }, vectors.store);
      data.kv.putJson('session', 'ctx', { topic: canary });
      data.kv.queue.enqueue('outbound', `payload ${canary}`);
      data.kv.putJson('config', 'profile', { about: canary }, { ttlMs: 60_000 });
      await data.analytics!.sync();
      const [row] = await data.analytics!.query<{ n: bigint | number }>('SELECT count(*) AS n FROM messages WHERE content LIKE $p', { p: `%${canary}%` });
      expect(Number(row!.n)).toBeGreaterThanOrEqual(MESSAGES); // the canary really is in the analytics tables
      await data.analytics!.snapshot();
      const backup = (data as unknown as { backup?: (to: string) => Promise<unknown> }).backup;
      if (typeof backup === 'function') {
        const to = join(t.dir, 'backup.aicobak');
        await backup.call(data, to);
        scan([to]);
        backupNote = 'backup file scanned';
      }
      scan(filesSince(dir)); // open: WALs, RocksDB logs, Chroma's files
    } finally {
      await vectors?.release();
      await data.close();
    }
    scan(filesSince(dir)); // closed: checkpointed, flushed, snapshot on close
    // Every file created or changed in the temp folder during the run (other jobs' files too: the canary is unique).
    scan(filesSince(tmpdir(), started, (p) => p === dir || p.startsWith('/proc')));
    report({
      part: '3 plaintext',
      tried: 'file scans for canaries (UTF-8, UTF-16LE, base64, hex) after the workload',
      count: scanned,
      failures: hits.length,
      figures: { messages: MESSAGES, 'canary hits': hits.length },
      notes: backupNote,
    });
    expect(hits).toEqual([]);
  }, 600_000);
});
