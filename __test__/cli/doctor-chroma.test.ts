/**
 * `doctor` warns about a Chroma server source that cannot load here only when no source works:
 * with a usable one chosen, the others are information (`skip`), marked "not needed".
 */
import { describe, expect, it } from 'vitest';
import { ensureBuilt, json, runCli } from './helpers.js';

describe('doctor and Chroma sources', () => {
  it('no WARN for an unusable source when the chosen one works; a WARN or FAIL when none works', async () => {
    await ensureBuilt();
    const r = await runCli(['doctor', '--json']);
    const { checks } = json<{ checks: Array<{ name: string; status: string; detail: string }> }>(r);
    const server = checks.find((c) => c.name === 'chroma server')!;
    expect(server).toBeDefined();
    const sources = checks.filter((c) => c.name.startsWith('chroma ') && c.name !== 'chroma server');
    if (server.status === 'ok') {
      expect(sources.filter((c) => c.status === 'warn')).toEqual([]);
      for (const c of sources.filter((x) => x.status === 'skip' && /not needed/.test(x.detail))) expect(c.detail).toContain('vectors use');
    } else {
      expect(server.status).toBe('fail');
    }
  }, 180_000);
});
