/**
 * File modes: every file the layer creates in the data folder is 0600 and every folder 0700
 * (libSQL database, WAL and SHM, RocksDB, key file, analytics snapshot, Chroma's folder), even
 * under a permissive umask; `doctor` warns when an entry is wider.
 */
import { chmodSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDataLayer } from '../../src/index.js';
import { wideModes } from '../../src/util/file-modes.js';
import { filesBelow, tempDir } from '../helpers/folders.js';
import { ensureBuilt, json, runCli } from './helpers.js';

const PW = 'file modes password';
const posix = process.platform !== 'win32';
let tmp: ReturnType<typeof tempDir>;
let previousUmask: number;

beforeAll(async () => {
  await ensureBuilt();
  tmp = tempDir('aico-modes-');
  // The umask most systems ship with: without explicit modes files would come out 0644, folders 0755.
  previousUmask = process.umask(0o022);
}, 300_000);

afterAll(() => {
  process.umask(previousUmask);
  tmp?.cleanup();
});

describe.skipIf(!posix)('file modes of a data folder', () => {
  it('every file is 0600 and every folder 0700, while open and after close, with all stores on', async () => {
    const dir = join(tmp.dir, 'data');
    const data = await openDataLayer({ dir, password: PW });
    try {
      const { user } = await data.services.onboarding.onboardNewUser({ name: 'Modes' });
      await data.memories.remember({ userId: user.id, type: 'preference', content: 'private files please' });
      data.kv.putJson('session', 'k', { a: 1 });
      await data.outbox?.drain();
      // While open: what the open created (database, WAL, SHM, RocksDB, key file).
      for (const f of ['aico.db', 'aico-data.key']) expect(statSync(join(dir, f)).mode & 0o777, f).toBe(0o600);
      expect(statSync(join(dir, 'kv')).mode & 0o777).toBe(0o700);
    } finally {
      await data.close();
    }
    expect(filesBelow(dir).size).toBeGreaterThan(5);
    // The Chroma folder (made by the server process) and the analytics snapshot exist and are private too.
    expect(statSync(join(dir, 'chroma')).isDirectory()).toBe(true);
    expect(wideModes(dir).map((w) => `${w.path} ${w.mode.toString(8)}`)).toEqual([]);
    process.umask(0o022);
  }, 180_000);

  it('the layer leaves the process umask alone; an existing wide folder is made 0700 at open', async () => {
    const dir = join(tmp.dir, 'umask');
    mkdirSync(dir, { mode: 0o755 });
    chmodSync(dir, 0o755);
    process.umask(0o022);
    const data = await openDataLayer({ dir, password: PW, vectors: false });
    try {
      expect(process.umask()).toBe(0o022);
      expect(statSync(dir).mode & 0o777).toBe(0o700);
    } finally {
      await data.close();
    }
  }, 120_000);

  it('doctor warns about a file or folder that is wider, and is quiet when they are private', async () => {
    const dir = join(tmp.dir, 'doctor');
    const data = await openDataLayer({ dir, password: PW, vectors: false });
    await data.close();
    const quiet = json(await runCli(['doctor', '--dir', dir, '--json']));
    const modes = quiet.checks.find((c: { name: string }) => c.name === 'file modes');
    expect(modes.status).toBe('ok');
    chmodSync(join(dir, 'aico.db'), 0o644);
    chmodSync(join(dir, 'kv'), 0o755);
    const r = await runCli(['doctor', '--dir', dir, '--json']);
    const warned = json(r).checks.find((c: { name: string }) => c.name === 'file modes');
    expect(warned.status).toBe('warn');
    expect(warned.detail).toContain('aico.db 644');
    expect(warned.detail).toContain('kv 755');
    // Opening the folder again makes them private.
    const again = await openDataLayer({ dir, password: PW, vectors: false });
    await again.close();
    expect(statSync(join(dir, 'aico.db')).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'kv')).mode & 0o777).toBe(0o700);
  }, 180_000);
});
