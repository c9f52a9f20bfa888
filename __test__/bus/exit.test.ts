/**
 * Issue 22.1: a process that uses the ZeroMQ bus ends like any other. An uncaught error (or an
 * unhandled rejection) after `connectZmqBus`/`startZmqBroker` must end it with a non-zero code,
 * and a script that closes what it opened must end by itself with 0. Each child is waited for by
 * its `exit` event with a generous bound; hanging fails the test.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/folders.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CHILD = fileURLToPath(new URL('./fixtures/exit-child.ts', import.meta.url));
const BOUND_MS = 20_000;

interface Ended {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  hung: boolean;
}

function run(mode: string, dir?: string): Promise<Ended> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, mode, ...(dir ? [dir] : [])], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((resolve) => {
    // The bound on the exit event: a child still running then has hung; kill it and report that.
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
    }, BOUND_MS);
    let hung = false;
    timer.unref();
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      hung = signal === 'SIGKILL';
      resolve({ code, signal, stdout, stderr, hung });
    });
  });
}

const folders: { cleanup(): void }[] = [];
afterAll(() => {
  for (const f of folders) f.cleanup();
});

describe('a process using the ZeroMQ bus exits (issue 22.1)', () => {
  it('an uncaught error after a request ends the process non-zero', async () => {
    const r = await run('throw');
    expect(r.hung, r.stderr).toBe(false);
    expect(r.stdout).toContain('answered {"hello":"bus"}');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('uncaught after a bus request');
  }, 30_000);

  it('an unhandled rejection after a request ends the process non-zero', async () => {
    const r = await run('reject');
    expect(r.hung, r.stderr).toBe(false);
    expect(r.stdout).toContain('answered');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('unhandled rejection after a bus request');
  }, 30_000);

  it('a script that closes its buses and broker exits 0 by itself', async () => {
    const r = await run('close');
    expect(r.hung, r.stderr).toBe(false);
    expect(r.stdout).toContain('answered');
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
  }, 30_000);

  it('with a data layer serving on the bus (keys from the folder): an uncaught error ends it, closing everything exits 0', async () => {
    const t = tempDir('aico-bus-exit-');
    folders.push(t);
    const crashed = await run('data-throw', join(t.dir, 'a'));
    expect(crashed.hung, crashed.stderr).toBe(false);
    expect(crashed.stdout).toMatch(/answered [0-9a-f-]{36}/);
    expect(crashed.code).not.toBe(0);
    const closed = await run('data-close', join(t.dir, 'b'));
    expect(closed.hung, closed.stderr).toBe(false);
    expect(closed.stdout).toMatch(/answered [0-9a-f-]{36}/);
    expect(closed.code, closed.stderr).toBe(0);
  }, 60_000);
});
