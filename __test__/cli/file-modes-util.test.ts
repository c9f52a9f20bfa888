/**
 * The file-mode helpers on plain files (no engine): `privateFolder` closes an existing folder,
 * `wideModes` finds every wider entry (symlinks not followed), `tightenModes` fixes them.
 */
import { chmodSync, existsSync, mkdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { privateFolder, tightenModes, wideModes } from '../../src/util/file-modes.js';
import { tempDir } from '../helpers/folders.js';

const tmp = tempDir('aico-modes-util-');
afterAll(() => tmp.cleanup());

describe.skipIf(process.platform === 'win32')('file-mode helpers', () => {
  it('privateFolder: an existing wide folder becomes 0700, its files keep their modes, a missing one is left missing', () => {
    const dir = join(tmp.dir, 'wide-root');
    mkdirSync(dir, { mode: 0o755 });
    chmodSync(dir, 0o755);
    writeFileSync(join(dir, 'f'), 'x');
    chmodSync(join(dir, 'f'), 0o644);
    privateFolder(dir);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(join(dir, 'f')).mode & 0o777).toBe(0o644); // unreachable now; tightenModes fixes it
    const missing = join(tmp.dir, 'not-there');
    privateFolder(missing);
    expect(existsSync(missing)).toBe(false);
  });

  it('wideModes lists wider entries, tightenModes fixes them, a symlink target outside is untouched', () => {
    const dir = join(tmp.dir, 'wide');
    mkdirSync(join(dir, 'kv'), { recursive: true, mode: 0o700 });
    chmodSync(dir, 0o700);
    writeFileSync(join(dir, 'aico.db'), 'x', { mode: 0o600 });
    writeFileSync(join(dir, 'kv', '000001.sst'), 'x');
    chmodSync(join(dir, 'kv', '000001.sst'), 0o644);
    chmodSync(join(dir, 'kv'), 0o755);
    const outside = join(tmp.dir, 'outside.txt');
    writeFileSync(outside, 'x');
    chmodSync(outside, 0o644);
    symlinkSync(outside, join(dir, 'link'));
    expect(wideModes(dir).map((w) => `${w.path.slice(dir.length)} ${w.mode.toString(8)}`).sort()).toEqual(['/kv 755', '/kv/000001.sst 644']);
    tightenModes(dir);
    expect(wideModes(dir)).toEqual([]);
    expect(statSync(outside).mode & 0o777).toBe(0o644);
  });
});
