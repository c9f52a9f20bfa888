import { afterEach, describe, expect, it } from 'vitest';
import { cleanupDevices, openDevice, pairDevices } from './helpers.js';

afterEach(cleanupDevices);

// The sync identity and sync keys are sealed with the data key inside libSQL and declared in
// `_aico_sealed_columns`: key rotation re-seals them with the database, so a device keeps its
// identity and its pairings across `rotateKeys()`.
describe('sync across key rotation', () => {
  it('keeps the device identity, its sync keys and its pairings', async () => {
    const a = await openDevice('a');
    const b = await openDevice('b');
    for (const d of [a, b]) await d.sync.enable();
    await pairDevices(a, b);
    const aId = await a.sync.deviceId();
    const bId = await b.sync.deviceId();
    await a.sql.execute(`INSERT INTO users (id, name) VALUES ('u1', 'Ada')`);
    expect((await b.sync.importChanges(await a.sync.exportChanges(bId))).applied).toBeGreaterThan(0);
    const declared = await a.sql.query<{ table_name: string; column_name: string }>(
      `SELECT table_name, column_name FROM _aico_sealed_columns ORDER BY 1, 2`,
    );
    expect(declared).toEqual([
      { table_name: 'sync_identity', column_name: 'kex_private' },
      { table_name: 'sync_identity', column_name: 'sign_private' },
      { table_name: 'sync_keys', column_name: 'sealed' },
    ]);

    const dir = a.dir;
    const oldKeyId = a.keyId;
    const rotated = await a.rotateKeys();
    expect(rotated.newKeyId).not.toBe(oldKeyId);
    const a2 = await openDevice('a', dir, { create: false });
    expect(a2.keyId).toBe(rotated.newKeyId);
    expect(await a2.sync.deviceId()).toBe(aId);

    // Both directions still work: a2 signs and encrypts with its re-sealed keys; b's
    // changesets (under the group key a2 holds re-sealed) still open on a2.
    await a2.sql.execute(`INSERT INTO users (id, name) VALUES ('u2', 'Grace')`);
    expect((await b.sync.importChanges(await a2.sync.exportChanges(bId))).applied).toBeGreaterThan(0);
    await b.sql.execute(`UPDATE users SET nickname = 'Countess' WHERE id = 'u1'`);
    expect((await a2.sync.importChanges(await b.sync.exportChanges(aId))).applied).toBeGreaterThan(0);
    expect(await a2.sql.query(`SELECT id, name, nickname FROM users ORDER BY id`)).toEqual(
      await b.sql.query(`SELECT id, name, nickname FROM users ORDER BY id`),
    );
  });
});
