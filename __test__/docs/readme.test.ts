/**
 * The README's ```ts blocks run as tests, twice in a row in the same temp folder (a README
 * example must not break its own folder). Each block runs as its own ES module in a child
 * process (tsx), with `'aico-data'` resolved to this checkout's `src/index.ts`.
 *
 * A block may be preceded by a marker comment (invisible on GitHub, visible in the source and
 * in this test's output):
 *   <!-- docs-test: skip: REASON -->      a fragment that cannot run alone; the test is skipped with REASON
 *   <!-- docs-test: given dir, password --> the block uses `dir` and `password` from the text around it;
 *                                          they are defined for it (a fresh folder, the test password)
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/folders.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const PASSWORD = 'readme example password';

/** One ```ts block of the README. */
interface ReadmeBlock {
  line: number;
  code: string;
  skip?: string;
  given: string[];
}

/** The ```ts blocks with their markers. */
function readmeBlocks(text: string): ReadmeBlock[] {
  const lines = text.split('\n');
  const blocks: ReadmeBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i] !== '```ts') continue;
    let end = i + 1;
    while (end < lines.length && lines[end] !== '```') end++;
    let j = i - 1;
    while (j >= 0 && lines[j]!.trim() === '') j--;
    const marker = /^<!-- docs-test: (skip: (.+)|given ([a-z, ]+)) -->$/.exec(lines[j] ?? '');
    blocks.push({
      line: i + 1,
      code: lines.slice(i + 1, end).join('\n'),
      ...(marker?.[2] ? { skip: marker[2] } : {}),
      given: marker?.[3] ? marker[3].split(',').map((s) => s.trim()) : [],
    });
    i = end;
  }
  return blocks;
}

const tmp = tempDir('aico-readme-');
afterAll(() => tmp.cleanup());

const tsxCli = join(dirname(createRequire(import.meta.url).resolve('tsx/package.json')), 'dist', 'cli.mjs');
const INDEX = pathToFileURL(join(ROOT, 'src', 'index.ts')).href;

/** Runs one block as a module in `cwd`; resolves with the exit code and output. */
function runBlock(file: string, cwd: string): Promise<{ code: number | null; out: string }> {
  return new Promise((resolveRun, reject) => {
    const env = { ...process.env, AICO_DATA_PASSWORD: PASSWORD };
    const child = spawn(process.execPath, [tsxCli, file], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    // A block that never ends (a handle left open) fails instead of hanging the suite.
    const timer = setTimeout(() => child.kill('SIGKILL'), 150_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolveRun({ code, out });
    });
  });
}

const blocks = readmeBlocks(README);

describe('README ts blocks', () => {
  it('the README has ts blocks, and every skipped one says why', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(3);
    for (const b of blocks) if (b.skip !== undefined) expect(b.skip.length, `block at line ${b.line}`).toBeGreaterThan(10);
    expect(blocks.filter((b) => b.skip === undefined).length).toBeGreaterThanOrEqual(2);
  });

  for (const [n, b] of blocks.entries()) {
    const title = `block ${n + 1} (README.md:${b.line}) runs twice in a row`;
    if (b.skip !== undefined) {
      it.skip(`${title}: skipped, ${b.skip}`, () => {});
      continue;
    }
    it(title, async () => {
      const cwd = join(tmp.dir, `block-${n + 1}`);
      mkdirSync(cwd, { recursive: true });
      const prelude: string[] = [];
      if (b.given.includes('dir')) prelude.push(`const dir = ${JSON.stringify(join(cwd, 'data'))};`);
      if (b.given.includes('password')) prelude.push('const password = process.env.AICO_DATA_PASSWORD!;');
      const code = b.code.replace(/from 'aico-data'/g, `from ${JSON.stringify(INDEX)}`);
      const file = join(cwd, 'block.mts');
      // `export {}` keeps the file a module even when the block has no import.
      writeFileSync(file, `${prelude.join('\n')}\n${code}\nexport {};\n`);
      for (const run of [1, 2]) {
        const r = await runBlock(file, cwd);
        expect(r.code, `run ${run} of README.md:${b.line}:\n${r.out}`).toBe(0);
      }
    }, 320_000);
  }
});
