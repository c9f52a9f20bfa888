/**
 * The managed Chroma server is a child of the data layer process. When that process is
 * SIGKILLed its server may outlive it for a while (here: forever, it is stopped with SIGSTOP so
 * it cannot notice); the next open must stop it (pid file + owner check) before starting its own.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/folders.js';
import { waitFor } from '../helpers/wait.js';
import { alive, closeAll, openAll, PASSWORD } from './helpers.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CHILD = fileURLToPath(new URL('./fixtures/chroma-owner.ts', import.meta.url));
const folder = tempDir('aico-stale-chroma-');
let orphan = 0;
afterAll(async () => {
  await closeAll();
  if (orphan && alive(orphan)) process.kill(orphan, 'SIGKILL');
  folder.cleanup();
});

/** True when `pid` is in the stopped state (`T` in /proc/<pid>/stat; without /proc, when it is alive). */
function stopped(pid: number): boolean {
  if (process.platform !== 'linux') return alive(pid);
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.charAt(stat.lastIndexOf(')') + 2) === 'T';
  } catch {
    return false;
  }
}

describe('a Chroma server orphaned by a killed data layer', () => {
  it('is stopped by the next open, which then serves the same data', async () => {
    const dir = join(folder.dir, 'data');
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, dir, PASSWORD], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr!.on('data', (b: Buffer) => (err += b.toString()));
    const deadline = Date.now() + 60_000;
    while (!out.includes('\n') && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 20));
    const [tag, pid, memoryId] = out.trim().split(' ');
    expect(tag, err).toBe('P');
    orphan = Number(pid);
    expect(existsSync(join(dir, 'chroma.pid'))).toBe(true);

    // Freeze the server so it cannot react to its owner's death (wait until it is stopped), then kill the owner.
    process.kill(orphan, 'SIGSTOP');
    await waitFor(() => stopped(orphan), { timeoutMs: 15_000, what: `the Chroma server ${orphan} being stopped` });
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    // A stopped process cannot end by itself: it outlives its owner until someone kills it.
    expect(stopped(orphan)).toBe(true);
    expect(alive(orphan)).toBe(true);

    const { data } = await openAll({ dir, analytics: false, outbox: { pollMs: 0 } });
    await data.vectors!.ready();
    expect(alive(orphan)).toBe(false);
    const serverPid = data.vectors!.status().pid!;
    expect(serverPid).not.toBe(orphan);
    expect((await data.vectors!.memories.get({ ids: [memoryId!] })).map((r) => r.id)).toEqual([memoryId]);
    await data.outbox!.drain();
    expect((await data.verifyConsistency()).ok).toBe(true);
    await data.close();
    expect(existsSync(join(dir, 'chroma.pid'))).toBe(false); // a clean stop forgets its record
  });
});
