import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openDataLayer, type DataLayer } from '../../src/index.js';
import { tempDir } from '../helpers/folders.js';

// A kill while Chroma saves an HNSW segment can leave files the server cannot load: it either
// reports the failure or segfaults at every load. Chroma holds derived data, so the data layer
// drops the damaged index and the outbox rebuilds it from libSQL, instead of staying
// UNAVAILABLE for good (found by the reliability suite's crash trials).
const PASSWORD = 'damaged index password';
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function open(dir: string, pollMs?: number): Promise<DataLayer> {
  const data = await openDataLayer({ dir, password: PASSWORD, analytics: false, kv: false, ...(pollMs === undefined ? {} : { outbox: { pollMs } }) });
  cleanups.push(() => data.close());
  return data;
}

/** A folder whose Chroma index holds flushed HNSW segment files (enough records for a flush). */
async function indexedFolder(): Promise<{ dir: string; segment: string; count: number }> {
  const t = tempDir('aico-vectors-damage-');
  cleanups.push(t.cleanup);
  const dir = join(t.dir, 'data');
  const data = await open(dir);
  const { user } = await data.services.onboarding.onboardNewUser({ name: 'Ana' });
  await data.memories.rememberMany(Array.from({ length: 1200 }, (_, i) => ({ userId: user.id, type: 'semantic' as const, content: `fact ${i}: apples and pears ${i % 7}` })));
  expect(await data.vectors!.memories.query({ text: 'apples', nResults: 3 })).toHaveLength(3);
  const count = await data.vectors!.memories.count();
  await data.close();
  const chroma = join(dir, 'chroma');
  const seg = readdirSync(chroma, { withFileTypes: true }).find((e) => e.isDirectory() && readdirSync(join(chroma, e.name)).includes('header.bin'));
  expect(seg, 'a flushed HNSW segment').toBeDefined();
  return { dir, segment: join(chroma, seg!.name), count };
}

function scramble(file: string): void {
  const b = readFileSync(file);
  for (let i = 0; i < b.length; i++) b[i] = (b[i]! * 31 + 7) & 0xff;
  writeFileSync(file, b);
}

describe('a damaged Chroma index', () => {
  for (const [file, how] of [
    ['header.bin', 'the server reports it cannot load the index'],
    ['data_level0.bin', 'the server crashes loading the index'],
  ] as const) {
    it(`is dropped and rebuilt from libSQL when ${how}`, async () => {
      const { dir, segment, count } = await indexedFolder();
      scramble(join(segment, file));
      const data = await open(dir, 0);
      const err = await data.vectors!.memories.query({ text: 'apples', nResults: 3 }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toMatchObject({ code: 'UNAVAILABLE', details: { reset: true } });
      await data.outbox!.drain(120_000);
      expect(await data.vectors!.memories.count()).toBe(count);
      expect(await data.vectors!.memories.query({ text: 'apples', nResults: 3 })).toHaveLength(3);
      expect((await data.verifyConsistency()).ok).toBe(true);
    });
  }
});
