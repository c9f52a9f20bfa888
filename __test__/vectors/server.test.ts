import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { diagnoseVectorServer, formatDoctorReport, HashingEmbedder } from '../../src/stores/vectors/index.js';
import { freePort } from '../../src/stores/vectors/server/free-port.js';
import { heartbeat } from '../../src/stores/vectors/server/manager.js';
import { tempDir } from '../helpers/folders.js';
import { alive, PASSWORD, useVectors, waitFor } from './helpers.js';

// Real Chroma servers started by the data layer (the npm binding on this machine).
const open = useVectors();
// Unkeyed, so rankings are the same in every run (the default embedder's key is per folder).
const LEXICAL = new HashingEmbedder();

const records = [
  { id: 'a', text: 'Ana loves green tea', metadata: { userId: 'ana', importance: 0.9 } },
  { id: 'b', text: 'Ana works night shifts', metadata: { userId: 'ana', importance: 0.4 } },
  { id: 'c', text: 'Bob plays the cello', metadata: { userId: 'bob', importance: 0.6 } },
];

describe('managed Chroma server', () => {
  it('starts lazily on 127.0.0.1 with its data under <dir>/chroma, and stops on close', async () => {
    const o = await open();
    expect(o.vectors.status().state).toBe('idle');
    await o.vectors.ready();
    const s = o.vectors.status();
    expect(s.state).toBe('running');
    expect(s.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(s.source).toMatch(/chromadb-js-bindings/);
    expect(await heartbeat(s.url!, 2000)).toBe(true);
    expect(existsSync(join(o.persistDir, 'chroma.sqlite3'))).toBe(true);
    expect(statSync(o.persistDir).mode & 0o077).toBe(0);

    await o.closeStores();
    expect(await waitFor(() => !alive(s.pid!))).toBe(true);
    expect(await heartbeat(s.url!, 1000)).toBe(false);
    await expect(o.vectors.memories.count()).rejects.toMatchObject({ code: 'CLOSED' });
  });

  it('restarts a server that died, and the data survives', async () => {
    const o = await open({ embedder: LEXICAL });
    await o.vectors.memories.add(records);
    const pid = o.vectors.status().pid!;
    o.vectors._server.crashForTest();
    expect(await waitFor(() => !alive(pid))).toBe(true);
    const hits = await o.vectors.memories.query({ text: 'green tea', nResults: 3 });
    expect(hits.map((h) => h.id).sort()).toEqual(['a', 'b', 'c']);
    expect(hits[0]!.id).toBe('a');
    const now = o.vectors.status();
    expect(now.state).toBe('running');
    expect(now.pid).not.toBe(pid);
  });

  it('retries a request once when the server is killed under it', async () => {
    const o = await open();
    await o.vectors.memories.add(records);
    const pid = o.vectors.status().pid!;
    // Kill and query at once: the manager still believes the server runs, so the request
    // itself hits the dead port and must go through recover-and-retry.
    o.vectors._server.crashForTest();
    expect(o.vectors.status().state).toBe('running');
    const got = await o.vectors.memories.get({ ids: ['c'] });
    expect(got.map((r) => r.text)).toEqual(['Bob plays the cello']);
    expect(o.vectors.status().pid).not.toBe(pid);
  });

  it('is UNAVAILABLE when the server died and restarts are off', async () => {
    const o = await open({ server: { autoRestart: false } });
    await o.vectors.memories.add(records);
    const pid = o.vectors.status().pid!;
    o.vectors._server.crashForTest();
    expect(await waitFor(() => o.vectors.status().state === 'down')).toBe(true);
    expect(alive(pid)).toBe(false);
    await expect(o.vectors.memories.count()).rejects.toMatchObject({ code: 'UNAVAILABLE' });
  });

  it('is UNAVAILABLE with the fix in the message when no server can be found', async () => {
    const o = await open({ server: { bindings: false, executable: false } });
    const err = await o.vectors.memories.count().catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'UNAVAILABLE' });
    expect((err as Error).message).toMatch(/npm install/);
    expect((err as Error).message).toMatch(/pip install chromadb/);
  });

  it('is UNAVAILABLE when a configured server does not answer', async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const o = await open({ server: { url } });
    await expect(o.vectors.memories.count()).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    const report = await o.vectors.doctor();
    expect(report.chosen).toBeUndefined();
    expect(report.lines.find((l) => l.source === 'url')).toMatchObject({ status: 'unusable' });
  });

  it('uses a configured server without managing it', async () => {
    const owner = await open();
    await owner.vectors.ready();
    const url = owner.vectors.status().url!;
    // The owner's managed server answers only its token: the guest is given it (issue 15 item 13).
    const guest = await open({ server: { url, headers: owner.vectors._server.authHeaders }, collections: [{ name: 'guest_notes', fields: { userId: 'token' } }] });
    const notes = guest.vectors.collection('guest_notes');
    await notes.add({ id: 'n1', text: 'a note', metadata: { userId: 'u' } });
    expect((await notes.get({ where: { userId: 'u' } })).map((r) => r.text)).toEqual(['a note']);
    expect(guest.vectors.status().source).toBe(`configured server ${url}`);
    expect(guest.vectors.status().pid).toBeUndefined();
    await guest.closeStores();
    expect(await heartbeat(url, 2000)).toBe(true);
  });

  it('falls back to a `chroma` executable on the PATH', async () => {
    // A real `chroma` executable: a launcher around the same server binary.
    const t = tempDir('aico-chroma-bin-');
    try {
      const bin = join(t.dir, 'bin');
      mkdirSync(bin);
      const binding = createRequire(import.meta.url).resolve('chromadb-js-bindings-linux-x64-gnu');
      const launcher = `#!/bin/sh\nexec "${process.execPath}" -e "require(process.argv[1]).cli(['chroma', ...process.argv.slice(2)])" "${binding}" "$@"\n`;
      writeFileSync(join(bin, 'chroma'), launcher);
      chmodSync(join(bin, 'chroma'), 0o755);
      const o = await open({ embedder: LEXICAL, server: { bindings: false, searchPath: bin } });
      await o.vectors.memories.add(records);
      expect(o.vectors.status().source).toBe(`executable ${join(bin, 'chroma')}`);
      expect((await o.vectors.memories.query({ text: 'cello', nResults: 1 }))[0]!.id).toBe('c');
      const url = o.vectors.status().url!;
      await o.closeStores();
      expect(await waitFor(async () => !(await heartbeat(url, 500)))).toBe(true);
    } finally {
      t.cleanup();
    }
  });

  it('stops the server when the process that owns it is killed', async () => {
    const t = tempDir('aico-vectors-owner-');
    try {
      const script = join(t.dir, 'owner.mts');
      const src = (p: string) => JSON.stringify(join(process.cwd(), p));
      writeFileSync(
        script,
        `import { openDataLayer } from ${src('src/index.ts')};
         import { openVectorStore } from ${src('src/stores/vectors/index.ts')};
         const data = await openDataLayer({ dir: ${JSON.stringify(join(t.dir, 'data'))}, password: ${JSON.stringify(PASSWORD)}, vectors: false, outbox: false });
         const v = await openVectorStore({ dir: data.dir, crypto: data.crypto });
         await v.ready();
         console.log(JSON.stringify(v.status()));
         setInterval(() => {}, 1000);`,
      );
      const child = spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['ignore', 'pipe', 'inherit'], cwd: process.cwd() });
      const line = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout!.on('data', (d: Buffer) => {
          out += d.toString();
          if (out.includes('\n')) resolve(out.split('\n')[0]!);
        });
        child.on('exit', (code) => reject(new Error(`owner exited early (${code})`)));
      });
      const status = JSON.parse(line) as { pid: number; url: string };
      expect(alive(status.pid)).toBe(true);
      child.kill('SIGKILL');
      expect(await waitFor(() => !alive(status.pid))).toBe(true);
      expect(await heartbeat(status.url, 500)).toBe(false);
    } finally {
      t.cleanup();
    }
  });
});

describe('doctor', () => {
  it('names every source, whether it works here and why not', async () => {
    const report = await diagnoseVectorServer();
    const bindings = report.lines.filter((l) => l.source === 'binding');
    expect(bindings.some((l) => l.status === 'usable')).toBe(true);
    expect(report.chosen).toMatch(/^npm chromadb-js-bindings-/);
    for (const l of report.lines) expect(l.detail.length).toBeGreaterThan(0);
    expect(formatDoctorReport(report)).toContain('=> vectors will use npm chromadb-js-bindings-');

    const none = await diagnoseVectorServer({ bindings: false, executable: false });
    expect(none.chosen).toBeUndefined();
    expect(formatDoctorReport(none)).toContain('no usable Chroma server');
  });
});
