/**
 * The command line as a user meets it: help and exit codes, bad arguments, `init`, `status`,
 * passwords (environment, stdin, wrong), `change-password`, a missing folder.
 */
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/folders.js';
import { ensureBuilt, json, runCli } from './helpers.js';

const PW = 'cli test password';
let tmp: ReturnType<typeof tempDir>;
let dir: string;

beforeAll(async () => {
  await ensureBuilt();
  tmp = tempDir('aico-cli-basics-');
  dir = join(tmp.dir, 'data');
  const r = await runCli(['init', '--dir', dir, '--json'], { env: { AICO_DATA_PASSWORD: PW } });
  expect(r.code, r.stderr).toBe(0);
});
afterAll(() => tmp?.cleanup());

describe('help and bad arguments', () => {
  it('--help lists every subcommand and the exit codes', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    for (const cmd of ['init', 'status', 'users', 'migrate', 'plugins', 'analytics', 'report', 'recall', 'backup', 'restore', 'change-password', 'rotate-keys', 'forget-user', 'doctor', 'demo', 'bench']) {
      expect(r.stdout).toMatch(new RegExp(`^  ${cmd}\\b`, 'm'));
    }
    expect(r.stdout).toContain('Exit codes:');
    expect(r.stdout).toMatch(/^ {2}3 +WRONG_PASSWORD/m);
  });

  it('an unknown command exits 2 with INVALID_ARGUMENT and a fix', async () => {
    const r = await runCli(['frobnicate']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("error INVALID_ARGUMENT: unknown command 'frobnicate'");
    expect(r.stderr).toMatch(/^fix: /m);
  });

  it('an unknown option, a bad number and --to without a component exit 2', async () => {
    const env = { AICO_DATA_PASSWORD: PW };
    const unknown = await runCli(['status', '--dir', dir, '--frob'], { env });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown option '--frob'");
    const bad = await runCli(['migrate', 'users', '--to', 'two', '--dir', dir], { env });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('error INVALID_ARGUMENT: --to must be a version number');
    const noComponent = await runCli(['migrate', '--to', '1', '--dir', dir], { env });
    expect(noComponent.code).toBe(2);
    expect(noComponent.stderr).toContain('--to needs a component');
  });

  it('bench with an unknown suite exits 2 and lists the suites', async () => {
    const r = await runCli(['bench', 'no-such-suite']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown suite\(s\): no-such-suite; suites: sql, kv/);
  });

  it('no --dir and no AICO_DATA_DIR exits 2 naming both', async () => {
    const r = await runCli(['status'], { env: { AICO_DATA_PASSWORD: PW } });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('error INVALID_ARGUMENT: no data folder given');
    expect(r.stderr).toContain('fix: pass --dir DIR or set AICO_DATA_DIR');
  });

  it('a folder that is not a data folder exits 4 with NOT_FOUND and the init command as the fix', async () => {
    const r = await runCli(['status', '--dir', join(tmp.dir, 'nothing-here')], { env: { AICO_DATA_PASSWORD: PW } });
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('error NOT_FOUND:');
    expect(r.stderr).toContain('fix: create one with `aico-data init --dir');
  });
});

describe('init and status', () => {
  it('init created a key file and the core schemas; a second init refuses', async () => {
    expect(statSync(join(dir, 'aico-data.key')).size).toBe(160);
    const again = await runCli(['init', '--dir', dir], { env: { AICO_DATA_PASSWORD: PW } });
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('already an aico-data folder');
  });

  it('status --json reports files, row counts, schema versions, outbox, KV and vectors', async () => {
    const r = await runCli(['status', '--json'], { env: { AICO_DATA_PASSWORD: PW, AICO_DATA_DIR: dir } });
    expect(r.code, r.stderr).toBe(0);
    const s = json(r);
    expect(s.dir).toBe(dir);
    expect(s.keyId).toMatch(/^[0-9a-f]{32}$/);
    expect(s.files.map((f: { store: string }) => f.store)).toEqual(expect.arrayContaining(['key file', 'sql (libSQL)', 'kv (RocksDB)']));
    expect(s.sql.quickCheck).toEqual([]);
    expect(s.sql.rows.messages).toBe(0);
    const names = s.schemas.map((c: { name: string }) => c.name);
    expect(names).toEqual(expect.arrayContaining(['users', 'conversations', 'memories', 'outbox']));
    for (const c of s.schemas.filter((x: { type: string }) => x.type === 'core')) {
      expect(c.state).toBe('active');
      expect(c.version).toBe(c.latest);
    }
    expect(s.outbox.pending).toBe(0);
    expect(s.kv.persistent).toBe(true);
    expect(s.kv.namespaces).toEqual(expect.arrayContaining(['cache', 'session']));
  });

  it('status for people prints the tables', async () => {
    const r = await runCli(['status', '--dir', dir], { env: { AICO_DATA_PASSWORD: PW } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('schemas:');
    expect(r.stdout).toMatch(/^outbox: 0 pending/m);
  });
});

describe('passwords', () => {
  it('a wrong password exits 3 with WRONG_PASSWORD and leaves the key file byte-identical', async () => {
    const before = readFileSync(join(dir, 'aico-data.key'));
    const r = await runCli(['status', '--dir', dir], { env: { AICO_DATA_PASSWORD: 'not the password' } });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('error WRONG_PASSWORD:');
    expect(r.stderr).toContain('fix: check the master password; nothing was changed');
    expect(r.stdout).toBe('');
    expect(readFileSync(join(dir, 'aico-data.key')).equals(before)).toBe(true);
  });

  it('without a password source and no terminal it exits 2 naming the sources', async () => {
    const r = await runCli(['status', '--dir', dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('AICO_DATA_PASSWORD');
    expect(r.stderr).toContain('--password-stdin');
  });

  it('--password-stdin reads the password from stdin', async () => {
    const ok = await runCli(['status', '--json', '--dir', dir, '--password-stdin'], { input: `${PW}\n` });
    expect(ok.code, ok.stderr).toBe(0);
    expect(json(ok).dir).toBe(dir);
    const wrong = await runCli(['status', '--dir', dir, '--password-stdin'], { input: 'nope\n' });
    expect(wrong.code).toBe(3);
  });

  it('change-password: a wrong old password changes nothing; then the new one works and the old one fails', async () => {
    const other = join(tmp.dir, 'pw');
    expect((await runCli(['init', '--dir', other], { env: { AICO_DATA_PASSWORD: 'old one' } })).code).toBe(0);
    const keyBefore = readFileSync(join(other, 'aico-data.key'));
    const wrong = await runCli(['change-password', '--dir', other], { env: { AICO_DATA_PASSWORD: 'bad', AICO_DATA_NEW_PASSWORD: 'new one' } });
    expect(wrong.code).toBe(3);
    expect(readFileSync(join(other, 'aico-data.key')).equals(keyBefore)).toBe(true);

    const changed = await runCli(['change-password', '--dir', other, '--password-stdin'], { input: 'old one\nnew one\n' });
    expect(changed.code, changed.stderr).toBe(0);
    expect(changed.stdout).toContain('master password changed');
    expect((await runCli(['status', '--dir', other], { env: { AICO_DATA_PASSWORD: 'old one' } })).code).toBe(3);
    expect((await runCli(['status', '--dir', other], { env: { AICO_DATA_PASSWORD: 'new one' } })).code).toBe(0);
  });

  it('a damaged key file exits 6 with CORRUPT', async () => {
    const other = join(tmp.dir, 'damaged');
    expect((await runCli(['init', '--dir', other], { env: { AICO_DATA_PASSWORD: PW } })).code).toBe(0);
    const key = readFileSync(join(other, 'aico-data.key'));
    key[key.length - 40]! ^= 0xff;
    writeFileSync(join(other, 'aico-data.key'), key);
    const r = await runCli(['status', '--dir', other], { env: { AICO_DATA_PASSWORD: PW } });
    expect(r.code).toBe(6);
    expect(r.stderr).toContain('error CORRUPT:');
  });
});
