/**
 * Issue 15 item 16: the scratch folder of a read-only KV instance (used when another process
 * holds the store) is private to the owner, inside the data folder, and one left by a killed
 * process is removed at the next read-only open.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { openRocks, PASSWORD, type Opened } from './helpers.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '..', '..');
const CHILD = join(HERE, 'fixtures', 'reader-child.mjs');

let o: Opened | undefined;
afterEach(() => {
  o?.close();
  o = undefined;
});

const secondariesInTmp = () => readdirSync(tmpdir()).filter((n) => n.startsWith('aico-kv-secondary-'));

describe('read-only KV scratch folder', () => {
  it('is 0700 inside the data folder, not in the system temp folder, and gone after close', async () => {
    o = await openRocks();
    o.kv.put('config', 'k', Buffer.from('v'));
    const inTmpBefore = new Set(secondariesInTmp());
    const ro = await o.reopen({ onLocked: 'readOnly' });
    expect(ro.readOnly).toBe(true);
    const parent = join(o.dir!, 'kv.readers');
    expect(statSync(parent).mode & 0o777).toBe(0o700);
    const mine = readdirSync(parent);
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatch(new RegExp(`^${process.pid}-[0-9a-f]{16}$`));
    expect(statSync(join(parent, mine[0]!)).mode & 0o777).toBe(0o700);
    expect(secondariesInTmp().filter((n) => !inTmpBefore.has(n))).toEqual([]);
    ro.close();
    expect(existsSync(join(parent, mine[0]!))).toBe(false);
  });

  it('a scratch folder left by a SIGKILLed reader is removed at the next read-only open', async () => {
    o = await openRocks();
    o.kv.put('config', 'k', Buffer.from('v'));
    o.kv.close();
    const child = spawnSync(process.execPath, [CHILD, ROOT, o.dir!, PASSWORD], { encoding: 'utf8' });
    expect(child.signal, child.stderr).toBe('SIGKILL');
    expect(JSON.parse(child.stdout.trim())).toEqual({ ok: true });
    const parent = join(o.dir!, 'kv.readers');
    const stale = readdirSync(parent);
    expect(stale).toEqual([expect.stringMatching(new RegExp(`^${child.pid}-`))]);
    expect(statSync(join(parent, stale[0]!)).mode & 0o777).toBe(0o700);

    const ro = await o.reopen({ readOnly: true });
    expect(ro.get('config', 'k')?.toString()).toBe('v');
    expect(readdirSync(parent).filter((n) => n.startsWith(`${child.pid}-`))).toEqual([]);
    ro.close();
  });
});
