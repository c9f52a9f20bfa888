import { spawn } from 'node:child_process';
import { cpSync, existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { isAicoError, restoreBackup, type BackupProgress } from '../../src/index.js';
import { tempDir } from '../helpers/folders.js';
import { KV_CANARY, PASSWORD, open, seed, snapshotOf } from './helpers.js';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const CHILD = fileURLToPath(new URL('./fixtures/rotate-child.ts', import.meta.url));
const HOLD_CHILD = fileURLToPath(new URL('./fixtures/hold-child.ts', import.meta.url));
const KEYFILE = 'aico-data.key';

/** Key id as stored in the key file (bytes 40..56). */
function keyIdOnDisk(dir: string): string {
  return readFileSync(join(dir, KEYFILE)).subarray(40, 56).toString('hex');
}

async function expectCode(p: Promise<unknown>, code: string): Promise<void> {
  const e = await p.then(() => undefined, (err: unknown) => err);
  expect(isAicoError(e), `expected ${code}, got ${String(e)}`).toBe(true);
  expect((e as { code: string }).code).toBe(code);
}

describe('rotateKeys (real libSQL, DuckDB, RocksDB)', () => {
  const t = tempDir('aico-rotate-');
  afterAll(() => t.cleanup());

  it('re-encrypts every store under a new key: same query results, old key gone', async () => {
    const dir = join(t.dir, 'a');
    const data = await open(dir);
    await seed(data);
    const before = await snapshotOf(data);
    const oldKeyId = data.keyId;
    const sealedBefore = data.crypto.seal('chroma', Buffer.from('doc'), Buffer.from('m1'));
    // Keep the old key file: with it, the rotated stores must no longer open.
    const oldKeyFile = readFileSync(join(dir, KEYFILE));
    const seen: BackupProgress[] = [];
    const r = await data.rotateKeys({ onProgress: (p) => seen.push(p) });
    expect(data.closed).toBe(true);
    expect(r.oldKeyId).toBe(oldKeyId);
    expect(r.newKeyId).not.toBe(oldKeyId);
    expect(r.resumed).toBe(false);
    expect(r.sqlPages).toBeGreaterThan(0);
    expect(r.kvRecords).toBeGreaterThanOrEqual(50);
    expect(seen.at(-1)?.phase).toBe('commit');
    expect(keyIdOnDisk(dir)).toBe(r.newKeyId);
    expect(readdirSync(dir).filter((n) => n.startsWith('rotation') || n.endsWith('.next') || n.endsWith('.rotating'))).toEqual([]);

    const again = await open(dir, { create: false });
    try {
      expect(again.keyId).toBe(r.newKeyId);
      expect(again.resumedRotation).toBeUndefined();
      expect(await snapshotOf(again)).toEqual(before);
      // Sealing uses the new key: what the old key sealed no longer opens.
      expect(() => again.crypto.open('chroma', sealedBefore, Buffer.from('m1'))).toThrow(/authentication|CORRUPT/i);
      const fresh = again.crypto.seal('chroma', Buffer.from('doc'), Buffer.from('m1'));
      expect(again.crypto.open('chroma', fresh, Buffer.from('m1')).toString()).toBe('doc');
    } finally {
      await again.close();
    }

    // The old key file (same password) unlocks, but opens none of the re-encrypted stores.
    const withOldKey = join(t.dir, 'a-old-key');
    cpSync(dir, withOldKey, { recursive: true });
    writeFileSync(join(withOldKey, KEYFILE), oldKeyFile);
    await expectCode(open(withOldKey, { create: false }), 'CORRUPT');
    // And the old key id is nowhere in the folder's key file any more.
    expect(readFileSync(join(dir, KEYFILE)).includes(Buffer.from(oldKeyId, 'hex'))).toBe(false);
  });

  it('waits for a backup in flight; that backup still restores, under the old key', async () => {
    const dir = join(t.dir, 'inflight');
    const data = await open(dir);
    await seed(data, 1, 4);
    const before = await snapshotOf(data);
    const oldKeyId = data.keyId;
    const file = join(t.dir, 'inflight.aicobak');
    const backup = data.backup(file);
    const rotation = data.rotateKeys();
    const [b, r] = await Promise.all([backup, rotation]);
    expect(b.keyId).toBe(oldKeyId);
    expect(r.oldKeyId).toBe(oldKeyId);
    const restoredDir = join(t.dir, 'inflight-restored');
    await restoreBackup({ file, dir: restoredDir, password: PASSWORD });
    const restored = await open(restoredDir, { create: false });
    try {
      expect(restored.keyId).toBe(oldKeyId);
      expect(await snapshotOf(restored)).toEqual(before);
    } finally {
      await restored.close();
    }
  });

  it('refuses on a closed data layer', async () => {
    const data = await open(join(t.dir, 'b'));
    await data.close();
    await expectCode(data.rotateKeys(), 'CLOSED');
  });

  it('refuses with LOCKED while another data layer has the folder open, and changes nothing', async () => {
    const dir = join(t.dir, 'locked');
    const first = await open(dir);
    try {
      await seed(first, 1, 3);
      const before = await snapshotOf(first);
      const keyFile = readFileSync(join(dir, KEYFILE));
      const second = await open(dir, { create: false }); // gets a read-only KV store
      await expectCode(second.rotateKeys(), 'LOCKED');
      expect(second.closed).toBe(true);
      expect(readFileSync(join(dir, KEYFILE))).toEqual(keyFile);
      expect(readdirSync(dir).filter((n) => n.startsWith('rotation') || n.endsWith('.next'))).toEqual([]);
      expect(await snapshotOf(first)).toEqual(before);
    } finally {
      await first.close();
    }
  });

  it('refuses with LOCKED while another process has the folder open with a read-only KV store', async () => {
    const dir = join(t.dir, 'other-process');
    const data = await open(dir);
    await seed(data, 1, 2);
    const keyFile = readFileSync(join(dir, KEYFILE));
    // The child opens second: its KV store is read-only (no RocksDB lock), its libSQL is open.
    const child = spawn(process.execPath, ['--import', 'tsx', HOLD_CHILD, dir, PASSWORD], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      let out = '';
      await new Promise<void>((res, rej) => {
        child.stdout.on('data', (b: Buffer) => {
          out += b.toString();
          if (out.includes('ready')) res();
        });
        child.stderr.on('data', (b: Buffer) => (out += b.toString()));
        child.on('exit', (code) => rej(new Error(`child exited ${code}: ${out}`)));
      });
      expect(out).toContain('kv=readOnly');
      await expectCode(data.rotateKeys(), 'LOCKED');
      expect(readFileSync(join(dir, KEYFILE))).toEqual(keyFile);
      expect(readdirSync(dir).filter((n) => n.startsWith('rotation') || n.endsWith('.next') || n.endsWith('.rotating'))).toEqual([]);
    } finally {
      child.kill('SIGKILL');
      await new Promise((res) => (child.exitCode !== null || child.signalCode !== null ? res(undefined) : child.on('exit', res)));
    }
    // Once the other process is gone, the same rotation goes through.
    const again = await open(dir, { create: false });
    const r = await again.rotateKeys();
    expect(keyIdOnDisk(dir)).toBe(r.newKeyId);
  });

  it('finishes a rotation whose process was SIGKILLed in the middle, at the next open', async () => {
    const dir = join(t.dir, 'crash');
    const data = await open(dir);
    await seed(data, 1, 5);
    // Enough records that the RocksDB phase runs long enough to be interrupted.
    const batch: Array<[string, Buffer]> = [];
    for (let i = 0; i < 150_000; i++) batch.push([`bulk:${String(i).padStart(6, '0')}`, Buffer.from(`${i} ${KV_CANARY}`)]);
    data.kv.putMany('cache', batch);
    const before = await snapshotOf(data);
    const oldKeyId = data.keyId;
    await data.close();

    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, dir, PASSWORD, 'kv'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    const signal = await new Promise<NodeJS.Signals | null>((res) => child.on('exit', (_code, sig) => res(sig)));
    expect(signal, out).toBe('SIGKILL');
    expect(out).toMatch(/killed in kv/);
    // Interrupted for real: the journal and the next key file are there, the old key file is still in place.
    expect(existsSync(join(dir, 'rotation.state'))).toBe(true);
    expect(existsSync(join(dir, 'aico-data.key.next'))).toBe(true);
    expect(keyIdOnDisk(dir)).toBe(oldKeyId);

    const reopened = await open(dir, { create: false });
    try {
      const resumed = reopened.resumedRotation;
      expect(resumed?.resumed).toBe(true);
      expect(resumed?.oldKeyId).toBe(oldKeyId);
      expect(reopened.keyId).toBe(resumed?.newKeyId);
      expect(keyIdOnDisk(dir)).toBe(resumed?.newKeyId);
      expect(existsSync(join(dir, 'rotation.state'))).toBe(false);
      expect(await snapshotOf(reopened)).toEqual(before);
      const bulk = reopened.kv.getMany('cache', ['bulk:000000', 'bulk:075000', 'bulk:149999']);
      expect(bulk.map((b) => b?.toString())).toEqual([`0 ${KV_CANARY}`, `75000 ${KV_CANARY}`, `149999 ${KV_CANARY}`]);
    } finally {
      await reopened.close();
    }
  });
});
