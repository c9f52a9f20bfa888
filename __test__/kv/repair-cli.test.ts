/**
 * Issue 21 through the command line, as a user would: damage `<dir>/kv`, then `aico-data status`
 * (opens, says KV is degraded and names the repair), `doctor` (warns with the repair command),
 * `repair --json` (salvages, reports per namespace, damaged files kept aside), `status` healthy.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDataLayer } from '../../src/index.js';
import { ensureBuilt, json, runCli } from '../cli/helpers.js';
import { tempDir } from '../helpers/folders.js';

const PW = 'repair cli password';
const t = tempDir('kv-repair-cli-');
const dir = join(t.dir, 'data');
const env = () => ({ AICO_DATA_PASSWORD: PW, AICO_DATA_DIR: dir });

beforeAll(async () => {
  await ensureBuilt();
  const data = await openDataLayer({ dir, password: PW, vectors: false });
  try {
    for (let i = 0; i < 5; i++) data.kv.put('config', `c${i}`, Buffer.from(`v${i}`));
  } finally {
    await data.close();
  }
  writeFileSync(join(dir, 'kv', 'CURRENT'), 'MANIFEST-999999\n');
}, 300_000);
afterAll(() => t.cleanup());

describe('aico-data repair', () => {
  it('status and doctor report the degraded KV store; repair salvages it; status is healthy again', async () => {
    const before = await runCli(['status', '--json'], { env: env() });
    expect(before.code, before.stderr).toBe(0);
    const s = json(before);
    expect(s.kv.degraded).toMatchObject({ code: 'CORRUPT', repair: 'aico-data repair' });
    expect(s.degradations.map((d: { store: string }) => d.store)).toContain('kv');

    const human = await runCli(['status'], { env: env() });
    expect(human.stdout).toMatch(/kv: DEGRADED.*aico-data repair/);

    const doctor = await runCli(['doctor', '--json'], { env: env() });
    const kvCheck = json<{ checks: { name: string; status: string; detail: string }[] }>(doctor).checks.find((c) => c.name === 'kv store');
    expect(kvCheck).toMatchObject({ status: 'warn' });
    expect(kvCheck!.detail).toMatch(/aico-data repair/);

    const repair = await runCli(['repair', '--json'], { env: env() });
    expect(repair.code, repair.stderr).toBe(0);
    const r = json(repair);
    expect(r.method).toMatch(/repair|rebuild/);
    expect(r.damagedCopy).toContain('kv.damaged-');
    expect(r.walRecovery).toBe('pointInTime');
    expect(r.namespaces.map((n: { name: string }) => n.name)).toContain('config');

    const after = json(await runCli(['status', '--json'], { env: env() }));
    expect(after.kv.degraded).toBeNull();
    expect(after.kv.walRecovery).toBe('pointInTime');
  }, 300_000);
});
