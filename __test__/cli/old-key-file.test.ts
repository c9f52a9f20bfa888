/**
 * Issue 15 item 15: `change-password` rewraps the same data key, so an old copy of the key file
 * plus the old password still opens today's data; only `rotate-keys` retires it. The command
 * must say so, and the fact itself is demonstrated (as someone holding an old backup of the key
 * file would use it).
 */
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDataLayer } from '../../src/index.js';
import { tempDir } from '../helpers/folders.js';
import { ensureBuilt, runCli } from './helpers.js';

const OLD = 'old key-file password';
const NEW = 'new key-file password';
let tmp: ReturnType<typeof tempDir>;

beforeAll(async () => {
  await ensureBuilt();
  tmp = tempDir('aico-cli-oldkey-');
});
afterAll(() => tmp?.cleanup());

/** Opens `dir` with `password` and returns the names of its users, or the error code. */
async function usersWith(dir: string, password: string): Promise<string[] | string> {
  try {
    const data = await openDataLayer({ dir, password, create: false, vectors: false, analytics: false, kv: false, outbox: false });
    try {
      const rows = await data.sql.query<{ name: string }>('SELECT name FROM users ORDER BY name');
      return rows.map((r) => r.name);
    } finally {
      await data.close();
    }
  } catch (e) {
    return (e as { code?: string }).code ?? String(e);
  }
}

describe('old key file after change-password', () => {
  it('change-password prints that only rotate-keys retires the old password', async () => {
    const dir = join(tmp.dir, 'notice');
    expect((await runCli(['init', '--dir', dir], { env: { AICO_DATA_PASSWORD: OLD } })).code).toBe(0);
    const r = await runCli(['change-password', '--dir', dir], { env: { AICO_DATA_PASSWORD: OLD, AICO_DATA_NEW_PASSWORD: NEW } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('master password changed');
    expect(r.stdout).toContain('still opens the current data with the old password');
    expect(r.stdout).toContain('Only `aico-data rotate-keys` retires the old password');
  });

  it('an old key file + the old password opens today\'s data after change-password, not after rotate-keys', async () => {
    const dir = join(tmp.dir, 'fact');
    const key = join(dir, 'aico-data.key');
    const data = await openDataLayer({ dir, password: OLD, vectors: false, analytics: false, kv: false, outbox: false });
    await data.services.onboarding.onboardNewUser({ name: 'Before' });
    await data.close();
    const stolenCopy = join(tmp.dir, 'stolen.key');
    copyFileSync(key, stolenCopy);

    const changed = await runCli(['change-password', '--dir', dir], { env: { AICO_DATA_PASSWORD: OLD, AICO_DATA_NEW_PASSWORD: NEW } });
    expect(changed.code, changed.stderr).toBe(0);
    // Written after the change, under the new password only.
    const later = await openDataLayer({ dir, password: NEW, create: false, vectors: false, analytics: false, kv: false, outbox: false });
    await later.services.onboarding.onboardNewUser({ name: 'Today' });
    await later.close();
    expect(await usersWith(dir, OLD)).toBe('WRONG_PASSWORD');

    // The attacker puts the old key file back: the old password reads today's data.
    const current = readFileSync(key);
    copyFileSync(stolenCopy, key);
    expect(await usersWith(dir, OLD)).toEqual(['Before', 'Today']);
    writeFileSync(key, current);

    const rotated = await runCli(['rotate-keys', '--dir', dir, '--yes'], { env: { AICO_DATA_PASSWORD: NEW } });
    expect(rotated.code, rotated.stderr).toBe(0);
    expect(await usersWith(dir, NEW)).toEqual(['Before', 'Today']);
    const afterRotation = readFileSync(key);
    copyFileSync(stolenCopy, key);
    expect(['WRONG_PASSWORD', 'CORRUPT']).toContain(await usersWith(dir, OLD));
    // Nothing was lost: the current key file still opens everything.
    writeFileSync(key, afterRotation);
    expect(await usersWith(dir, NEW)).toEqual(['Before', 'Today']);
  });
});
