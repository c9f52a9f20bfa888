/**
 * Hints name the action for the caller at hand: the API's `hint` names API calls, the CLI's
 * `fix:` line names `aico-data` commands and flags. Generic code-level hints are the fallback
 * only.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AicoDataError, ERROR_HINTS, isAicoError, openDataLayer } from '../../src/index.js';
import { cliFix } from '../../src/cli/failure.js';
import { tempDir } from '../helpers/folders.js';
import { ensureBuilt, runCli } from './helpers.js';

const PW = 'cli hints password';
let tmp: ReturnType<typeof tempDir>;
let dir: string;
const env = () => ({ AICO_DATA_PASSWORD: PW, AICO_DATA_DIR: dir });
const fixLine = (stderr: string) => /^fix: (.*)$/m.exec(stderr)?.[1] ?? '';

beforeAll(async () => {
  await ensureBuilt();
  tmp = tempDir('aico-cli-hints-');
  dir = join(tmp.dir, 'data');
  const data = await openDataLayer({ dir, password: PW, vectors: false });
  await data.close();
}, 180_000);
afterAll(() => tmp?.cleanup());

describe('hints per caller', () => {
  it('API: sync before enable says to call data.sync.enable(); the CLI says aico-data sync enable', async () => {
    const data = await openDataLayer({ dir, password: PW, vectors: false, analytics: false });
    try {
      const e = await data.sync.createPairingOffer().then(
        () => undefined,
        (x: unknown) => x,
      );
      expect(isAicoError(e, 'NOT_FOUND')).toBe(true);
      expect((e as AicoDataError).hint).toBe('call data.sync.enable() first');
      expect(cliFix(e as AicoDataError)).toBe('run `aico-data sync enable` first');
    } finally {
      await data.close();
    }
    const r = await runCli(['sync', 'offer'], { env: env() });
    expect(r.code, r.stderr).toBe(4);
    expect(fixLine(r.stderr)).toBe('run `aico-data sync enable` first');
  });

  it('plugins activate without --plugin: "load the plugin module with --plugin FILE", not a bare NOT_FOUND', async () => {
    const r = await runCli(['plugins', 'activate', 'notes'], { env: env() });
    expect(r.code, r.stderr).toBe(4);
    expect(r.stderr).toContain('error NOT_FOUND');
    expect(fixLine(r.stderr)).toContain('load the plugin module with --plugin FILE');
    expect(fixLine(r.stderr)).not.toBe(ERROR_HINTS.NOT_FOUND);
  });

  it('an INVALID_ARGUMENT of the CLI points at the command help, not "fix the argument"', async () => {
    const r = await runCli(['recall', 'tea', '--limit', '0'], { env: env() });
    expect(r.code).toBe(2);
    expect(fixLine(r.stderr)).toContain('--help');
  });

  it('a throw-site hint wins over the code default; details.fix still works; the default is the fallback', () => {
    expect(new AicoDataError('NOT_FOUND', 'x', undefined, { hint: 'do this' }).hint).toBe('do this');
    expect(new AicoDataError('NOT_FOUND', 'x', { fix: 'do that' }).hint).toBe('do that');
    expect(new AicoDataError('NOT_FOUND', 'x').hint).toBe(ERROR_HINTS.NOT_FOUND);
    expect(cliFix(new AicoDataError('NOT_FOUND', 'x'))).toContain('aico-data users');
  });
});
