/**
 * Two real processes open the same data folder at once: exactly one migrates, the other waits
 * and then sees the finished schema.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { HISTORY_TABLE } from '../../src/schema/index.js';
import { PASSWORD, cleanupAll, freshDir, openLayer } from './helpers.js';

afterEach(cleanupAll);

const CHILD = fileURLToPath(new URL('./fixtures/open-child.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface ChildResult {
  ok: boolean;
  pid: number;
  openedAt?: number;
  openedMs?: number;
  status?: Array<{ name: string; version: number; latest: number | null }>;
  slow?: number | null;
  code?: string | null;
  message?: string;
}

function runChild(dir: string, startAt: number): Promise<{ result: ChildResult | null; stderr: string; code: number | null }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', CHILD, dir, PASSWORD, String(startAt)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('error', reject);
    p.on('close', (code) => {
      const line = out.trim().split('\n').at(-1);
      let result: ChildResult | null = null;
      try {
        result = line ? (JSON.parse(line) as ChildResult) : null;
      } catch {
        result = null;
      }
      resolve({ result, stderr: err, code });
    });
  });
}

describe('two processes opening one data folder', () => {
  it('exactly one migrates; the other waits and sees the finished schema', async () => {
    const dir = freshDir();
    // create the folder (key file) first, without any schema, so both children only race on migrations
    const { SchemaRegistry } = await import('../../src/schema/index.js');
    const init = await openLayer(dir, { schemas: { registry: new SchemaRegistry() } });
    await init.close();

    const startAt = Date.now() + 3000; // both children are loaded by then
    const [a, b] = await Promise.all([runChild(dir, startAt), runChild(dir, startAt)]);
    for (const c of [a, b]) {
      expect(c.result, `child failed: code ${c.code}\n${c.stderr}`).not.toBeNull();
      expect(c.result!.ok, JSON.stringify(c.result)).toBe(true);
      // each one sees every component at its latest version, including the slow one
      for (const s of c.result!.status!) expect(s.version, s.name).toBe(s.latest);
      expect(c.result!.slow).toBe(1500000);
    }

    const layer = await openLayer(dir, { schemas: { registry: new SchemaRegistry() } });
    const rows = await layer.sql.query<{ component: string; version: number; success: number; applied_by: string; finished_at: string }>(
      `SELECT component, version, success, applied_by, finished_at FROM ${HISTORY_TABLE} WHERE direction = 'up' ORDER BY id`,
    );
    // every version exactly once, all successful, all by one process
    const keys = rows.map((r) => `${r.component}@${r.version}`);
    expect(new Set(keys).size).toBe(keys.length);
    expect(keys).toContain('zz_slow@1');
    expect(keys).toContain('zz_slow@2');
    expect(rows.every((r) => r.success === 1)).toBe(true);
    const migrators = new Set(rows.map((r) => r.applied_by));
    expect(migrators.size).toBe(1);
    const winner = [...migrators][0]!;
    expect([a.result!.pid, b.result!.pid].map((pid) => winner.startsWith(`${pid}@`))).toContain(true);
    // neither open returned before the migration had finished (the loser waited for it)
    const finished = Math.max(...rows.map((r) => Date.parse(r.finished_at)));
    for (const c of [a, b]) expect(c.result!.openedAt!).toBeGreaterThanOrEqual(finished);
  }, 120_000);
});
